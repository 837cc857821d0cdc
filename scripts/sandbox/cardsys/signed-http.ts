/**
 * One signed HTTP exchange with the platform's gateway API (DESIGN §6.2), telling apart the two failures
 * seed 000 §2.3/§2.7 treats differently:
 *   - CONNECT_FAILED: no connection was made (refused, unreachable, connect timeout). The platform cannot
 *     have seen the request.
 *   - READ_TIMEOUT / CONNECTION_LOST: the request went out and no complete answer came back. The platform
 *     may have acted on it.
 * Every exchange opens its own connection (no keep-alive agent), so the connect phase is always observed.
 */
import http from 'node:http';
import https from 'node:https';
import { buildGatewayHeaders } from '../../../shared/gateway-signature.js';

export interface SignedHttpTarget {
  baseUrl: string;
  clientId: string;
  secret: string;
  connectTimeoutMs: number;
  readTimeoutMs: number;
}

export type SignedHttpResult =
  | { kind: 'RESPONSE'; status: number; text: string }
  | { kind: 'CONNECT_FAILED'; detail: string }
  | { kind: 'READ_TIMEOUT'; detail: string }
  | { kind: 'CONNECTION_LOST'; detail: string };

export function signedRequest(
  target: SignedHttpTarget,
  request: { method: 'GET' | 'POST'; path: string; body?: unknown },
): Promise<SignedHttpResult> {
  const url = new URL(target.baseUrl.replace(/\/+$/, '') + request.path);
  const body = request.body === undefined ? '' : JSON.stringify(request.body);
  const headers = buildGatewayHeaders({
    clientId: target.clientId,
    secret: target.secret,
    method: request.method,
    path: url.pathname + url.search,
    body,
  });

  return new Promise((resolve) => {
    let settled = false;
    let connected = false;
    let readTimer: NodeJS.Timeout | undefined;
    const connectTimer = setTimeout(() => {
      finish({ kind: 'CONNECT_FAILED', detail: `no connection within ${target.connectTimeoutMs} ms` });
      req.destroy();
    }, target.connectTimeoutMs);
    const finish = (result: SignedHttpResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(connectTimer);
      clearTimeout(readTimer);
      resolve(result);
    };

    const transport = url.protocol === 'https:' ? https : http;
    const req = transport.request(url, {
      method: request.method,
      agent: false,
      headers: {
        ...headers,
        ...(body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {}),
      },
    });

    const startReading = () => {
      connected = true;
      clearTimeout(connectTimer);
      readTimer = setTimeout(() => {
        finish({ kind: 'READ_TIMEOUT', detail: `no complete answer within ${target.readTimeoutMs} ms` });
        req.destroy();
      }, target.readTimeoutMs);
    };

    req.on('socket', (socket) => {
      if (socket.connecting)
        socket.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', startReading);
      else startReading();
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      const detail = error.code ? `${error.code}: ${error.message}` : error.message;
      finish(connected ? { kind: 'CONNECTION_LOST', detail } : { kind: 'CONNECT_FAILED', detail });
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        finish({
          kind: 'RESPONSE',
          status: res.statusCode ?? 0,
          text: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      res.on('error', (error) => finish({ kind: 'CONNECTION_LOST', detail: error.message }));
    });
    req.end(body);
  });
}
