import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SandboxLogger } from './logger.js';

/**
 * The routes every terminal order takes (`/gateway.do`, the control API's QR scan) are served on node:http
 * directly, without Koa's per-request context, middleware chain and on-finished listeners (issue #15: the
 * sandbox's CPU per order). Their answers stay byte for byte what Koa wrote: the same status line, headers in
 * Koa's order and case, the same body; these helpers are the parts of Koa 3's response.js and context.js
 * `onerror` those routes used. Every other route still goes through Koa.
 */

/** Koa's `response.writable`: false once the answer is ended or the socket is gone. */
export function isWritable(res: ServerResponse): boolean {
  if (res.writableEnded) return false;
  return res.socket ? res.socket.writable : true;
}

/** `headers` as name, value pairs in the order Koa set them; Content-Length last, as Koa's body setter adds it. */
export function endWith(
  res: ServerResponse,
  status: number,
  headers: Array<string | number>,
  body: string,
): void {
  if (!isWritable(res)) {
    res.end();
    return;
  }
  headers.push('Content-Length', Buffer.byteLength(body));
  res.writeHead(status, headers);
  res.end(body);
}

/** `ctx.status = status; ctx.body = value` for an object: Koa's JSON answer. */
export function endJson(res: ServerResponse, status: number, value: unknown): void {
  endWith(res, status, ['Content-Type', 'application/json; charset=utf-8'], JSON.stringify(value));
}

/** Koa's plain-text answer (`text/plain`), as its 404 default and its error handler write it. */
export function endText(res: ServerResponse, status: number, headers: Array<string | number>, text: string) {
  headers.push('Content-Type', 'text/plain; charset=utf-8');
  endWith(res, status, headers, text);
}

/**
 * What Koa did with an error a route did not answer: the server's `error` listener logs it, then, if the
 * answer can still be written, every header set so far is dropped and a bare 500 goes out.
 */
export function endUnexpected(logger: SandboxLogger, res: ServerResponse, error: unknown): void {
  const headerSent = res.headersSent || !isWritable(res);
  logger.error('alipay sandbox request failed', {
    error: error instanceof Error ? error.message : `non-error thrown: ${JSON.stringify(error)}`,
  });
  if (headerSent) return;
  for (const name of res.getHeaderNames()) res.removeHeader(name);
  endText(res, 500, [], 'Internal Server Error');
}

/**
 * The whole request body. Past `limitBytes` the request (and with it the socket) is destroyed and the
 * promise rejects with `tooLarge()`.
 */
export function readBody(req: IncomingMessage, limitBytes: number, tooLarge: () => Error): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) {
        reject(tooLarge());
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
