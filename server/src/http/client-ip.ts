import net from 'node:net';
import type { Middleware } from 'koa';

/**
 * The caller's address, for per-IP rate limits and logs. `X-Forwarded-For` is believed only when the
 * connection comes from one of our own proxies (TRUSTED_PROXIES): anyone else could write any address
 * into it and spread an attack over made-up IPs. Behind a chain of trusted proxies the client is the
 * right-most address that is not one of them (each proxy appends the address it saw).
 */
export function clientIp(trustedProxies: string[]): Middleware {
  const trusted = new net.BlockList();
  for (const entry of trustedProxies) {
    const [address, prefix] = entry.split('/');
    const family = net.isIPv6(address) ? 'ipv6' : 'ipv4';
    if (prefix !== undefined) trusted.addSubnet(address, Number(prefix), family);
    else trusted.addAddress(address, family);
  }
  const isTrusted = (address: string): boolean =>
    net.isIP(address) !== 0 && trusted.check(address, net.isIPv6(address) ? 'ipv6' : 'ipv4');

  return async (ctx, next) => {
    const peer = normalise(ctx.req.socket.remoteAddress ?? '');
    let client = peer;
    if (trustedProxies.length > 0 && isTrusted(peer)) {
      const forwarded = ctx
        .get('x-forwarded-for')
        .split(',')
        .map((part) => normalise(part.trim()))
        .filter((part) => net.isIP(part) !== 0);
      for (let i = forwarded.length - 1; i >= 0; i -= 1) {
        client = forwarded[i];
        if (!isTrusted(client)) break;
      }
    }
    ctx.request.ip = client;
    await next();
  };
}

/** `::ffff:127.0.0.1` (an IPv4 peer on a dual-stack socket) is 127.0.0.1. */
function normalise(address: string): string {
  return address.startsWith('::ffff:') && net.isIPv4(address.slice(7)) ? address.slice(7) : address;
}
