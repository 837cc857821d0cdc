/**
 * A stand-in for our platform's deduct routes (DESIGN §6.2), for the swipe tests only: it checks every
 * request's HMAC with shared/gateway-signature.ts, records what it received and answers as each test says.
 * To be replaced by the real routes once they exist (issue 4).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { isGatewayTimestampFresh, verifyGatewaySignature } from '../../../shared/gateway-signature.js';

export interface ReceivedCall {
  kind: 'DEDUCTION' | 'REVERSAL' | 'OTHER';
  method: string;
  path: string;
  txnNo: string | null;
  clientId: string;
  nonce: string;
  isSignatureValid: boolean;
  rawBody: string;
  body: Record<string, unknown> | null;
}

/** 'hang' keeps the request open without an answer until the double closes. */
export type Reply = { status: number; body: unknown } | 'hang';

export const approved = (call: ReceivedCall): Reply => ({
  status: 200,
  body: { txnNo: call.txnNo, deductionId: `D${call.txnNo}`, decision: 'APPROVED', status: 'PENDING' },
});

export const declined =
  (reason: string) =>
  (call: ReceivedCall): Reply => ({
    status: 200,
    body: {
      txnNo: call.txnNo,
      deductionId: `D${call.txnNo}`,
      decision: 'DECLINED',
      reason,
      status: 'DECLINED',
    },
  });

export class DeductDouble {
  readonly calls: ReceivedCall[] = [];
  /** How to answer the n-th (1-based) deduction request. */
  onDeduction: (call: ReceivedCall, n: number) => Reply = approved;
  /** How to answer the n-th (1-based) reversal request. */
  onReversal: (call: ReceivedCall, n: number) => Reply = (call) => ({
    status: 200,
    body: { txnNo: call.txnNo, status: 'REVERSED' },
  });

  private readonly server: http.Server;

  private constructor(private readonly options: { clientId: string; secret: string }) {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => this.answer(req, res, Buffer.concat(chunks).toString('utf8')));
    });
  }

  static async start(options: { clientId: string; secret: string; port?: number }): Promise<DeductDouble> {
    const double = new DeductDouble(options);
    await new Promise<void>((resolve, reject) => {
      double.server.once('error', reject);
      double.server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
    });
    return double;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  deductions(): ReceivedCall[] {
    return this.calls.filter((c) => c.kind === 'DEDUCTION');
  }

  reversals(): ReceivedCall[] {
    return this.calls.filter((c) => c.kind === 'REVERSAL');
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private answer(req: http.IncomingMessage, res: http.ServerResponse, rawBody: string): void {
    const { options } = this;
    const path = req.url ?? '';
    const header = (name: string) => String(req.headers[name] ?? '');
    const deduction = path === '/gateway/v1/deductions' && req.method === 'POST';
    const reversal = /^\/gateway\/v1\/deductions\/([^/]+)\/reversal$/.exec(path);
    let body: Record<string, unknown> | null;
    try {
      body = JSON.parse(rawBody) as Record<string, unknown>;
    } catch {
      body = null;
    }
    const call: ReceivedCall = {
      kind: deduction ? 'DEDUCTION' : reversal ? 'REVERSAL' : 'OTHER',
      method: req.method ?? '',
      path,
      txnNo: deduction ? String(body?.txnNo ?? '') : reversal ? decodeURIComponent(reversal[1]) : null,
      clientId: header('x-client-id'),
      nonce: header('x-nonce'),
      isSignatureValid:
        header('x-client-id') === options.clientId &&
        isGatewayTimestampFresh(header('x-timestamp'), Date.now()) &&
        verifyGatewaySignature(
          options.secret,
          {
            method: req.method ?? '',
            path,
            timestamp: header('x-timestamp'),
            nonce: header('x-nonce'),
            body: rawBody,
          },
          header('x-signature'),
        ),
      rawBody,
      body,
    };
    this.calls.push(call);

    const reply: Reply = !call.isSignatureValid
      ? { status: 401, body: { error: { code: 'GATEWAY_AUTH_FAILED', message: 'bad signature' } } }
      : call.kind === 'DEDUCTION'
        ? this.onDeduction(call, this.deductions().length)
        : call.kind === 'REVERSAL'
          ? this.onReversal(call, this.reversals().length)
          : { status: 404, body: { error: { code: 'NOT_FOUND', message: 'no route' } } };
    if (reply === 'hang') return;
    res.writeHead(reply.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(reply.body));
  }
}
