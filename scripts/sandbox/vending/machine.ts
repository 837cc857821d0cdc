import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { DispenseReport, TerminalOrderAnswer, TerminalOrderItem } from '../../../shared/gateway-api.js';
import {
  buildGatewayHeaders,
  GATEWAY_HEADERS,
  verifyGatewaySignature,
} from '../../../shared/gateway-signature.js';

/**
 * A vending machine (issue #15 "Sandboxes"): it speaks the terminal-order protocol of docs/gateway-api.md as a
 * real machine would — signs its requests with its client id and secret, makes orders, shows the two QR
 * payloads, takes our paid callbacks on its own HTTP port (checking our signature; acknowledging, or dropping
 * them on request to exercise the retries) and reports what it dispensed. Used by the tests, the benchmark and
 * `npm run vending` (scripts/sandbox/vending/main.ts).
 */

export interface VendingMachineOptions {
  /** The platform's base URL, e.g. http://127.0.0.1:3000. */
  platformUrl: string;
  terminalId: string;
  clientId: string;
  secret: string;
  /** The callback port (0: any free one). */
  port?: number;
}

export interface ReceivedCallback {
  at: number;
  order: TerminalOrderAnswer;
  signatureValid: boolean;
  acknowledged: boolean;
}

export interface HttpAnswer<T = unknown> {
  status: number;
  body: T;
}

let orderCounter = 0;

export class VendingMachine {
  readonly callbacks: ReceivedCallback[] = [];
  /** How many of the next callbacks to drop (answer 503) before acknowledging again. */
  dropNext = 0;
  private server: http.Server | null = null;
  /** Who waits for an order's first acknowledged callback, by outOrderNo. */
  private readonly waiters = new Map<string, Array<(c: ReceivedCallback) => void>>();
  private readonly acknowledged = new Map<string, ReceivedCallback>();
  /** Keep-alive connections to the platform, as a machine that sells all day keeps them (and cheap to drive). */
  private readonly agent: http.Agent;
  private readonly transport: typeof http | typeof https;
  private url = '';

  constructor(readonly options: VendingMachineOptions) {
    const secure = options.platformUrl.startsWith('https:');
    this.transport = secure ? https : http;
    this.agent = new (secure ? https : http).Agent({ keepAlive: true, maxSockets: 64 });
  }

  /** Where the platform should send callbacks (the terminal's callbackUrl). */
  get callbackUrl(): string {
    return `${this.url}/callback`;
  }

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => void this.onRequest(req, res));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.options.port ?? 0, '127.0.0.1', resolve);
    });
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.agent.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async onRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    if (req.method !== 'POST' || req.url !== '/callback') {
      res.writeHead(404).end();
      return;
    }
    const header = (name: string) => String(req.headers[name.toLowerCase()] ?? '');
    const signatureValid =
      header(GATEWAY_HEADERS.clientId) === this.options.clientId &&
      verifyGatewaySignature(
        this.options.secret,
        {
          method: 'POST',
          path: req.url,
          timestamp: header(GATEWAY_HEADERS.timestamp),
          nonce: header(GATEWAY_HEADERS.nonce),
          body: raw,
        },
        header(GATEWAY_HEADERS.signature),
      );
    const acknowledged = signatureValid && this.dropNext === 0;
    if (signatureValid && this.dropNext > 0) this.dropNext -= 1;
    const callback: ReceivedCallback = {
      at: Date.now(),
      order: JSON.parse(raw) as TerminalOrderAnswer,
      signatureValid,
      acknowledged,
    };
    this.callbacks.push(callback);
    res.writeHead(acknowledged ? 200 : signatureValid ? 503 : 401, { 'content-type': 'text/plain' });
    res.end(acknowledged ? 'ok' : 'not now');
    if (!acknowledged) return;
    const { outOrderNo } = callback.order;
    if (!this.acknowledged.has(outOrderNo)) this.acknowledged.set(outOrderNo, callback);
    const waiting = this.waiters.get(outOrderNo) ?? [];
    this.waiters.delete(outOrderNo);
    for (const resolve of waiting) resolve(callback);
  }

  /** The first acknowledged callback for an order (resolves at once if it came already). */
  acknowledgedCallback(outOrderNo: string, timeoutMs = 15_000): Promise<ReceivedCallback> {
    const done = this.acknowledged.get(outOrderNo);
    if (done) return Promise.resolve(done);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no callback for ${outOrderNo}`)), timeoutMs);
      const waiting = this.waiters.get(outOrderNo) ?? [];
      this.waiters.set(outOrderNo, waiting);
      waiting.push((c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
  }

  private send<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<HttpAnswer<T>> {
    const raw = body === undefined ? '' : JSON.stringify(body);
    const headers: Record<string, string> = {
      ...buildGatewayHeaders({
        clientId: this.options.clientId,
        secret: this.options.secret,
        method,
        path,
        body: raw,
      }),
    };
    if (raw) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(raw));
    }
    return new Promise((resolve, reject) => {
      const req = this.transport.request(
        this.options.platformUrl + path,
        { method, headers, agent: this.agent },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => {
            try {
              resolve({ status: res.statusCode ?? 0, body: (text ? JSON.parse(text) : null) as T });
            } catch (error) {
              reject(error as Error);
            }
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(raw || undefined);
    });
  }

  /** A sale: the machine's own order number (made up unless given) and the lines. */
  createOrder(
    items: TerminalOrderItem[],
    options: { outOrderNo?: string; amountFen?: number } = {},
  ): Promise<HttpAnswer<TerminalOrderAnswer>> {
    orderCounter += 1;
    return this.send('POST', '/gateway/v1/terminal-orders', {
      terminalId: this.options.terminalId,
      outOrderNo: options.outOrderNo ?? `VM${Date.now()}${process.pid}${orderCounter}`,
      items,
      amountFen: options.amountFen ?? items.reduce((sum, i) => sum + i.quantity * i.unitFen, 0),
    });
  }

  /** Any request body, for tests of bad input. */
  post(path: string, body: unknown): Promise<HttpAnswer> {
    return this.send('POST', path, body);
  }

  getOrder(outOrderNo: string): Promise<HttpAnswer<TerminalOrderAnswer>> {
    return this.send('GET', `/gateway/v1/terminal-orders/${encodeURIComponent(outOrderNo)}`);
  }

  reportDispensed(outOrderNo: string, report: DispenseReport): Promise<HttpAnswer<TerminalOrderAnswer>> {
    return this.send(
      'POST',
      `/gateway/v1/terminal-orders/${encodeURIComponent(outOrderNo)}/dispensed`,
      report,
    );
  }
}
