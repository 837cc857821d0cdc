/* eslint-disable @typescript-eslint/no-explicit-any -- answers are JSON of the documented shapes */
/**
 * Reference POS gateway client for the platform's `/gateway/v1` (docs/gateway-api.md), for card vendors
 * to read and to run:
 *
 *   npm run pos:client -- deduct --card 20240001 --amount 1250 [--terminal T01] [--txn POS…]
 *   npm run pos:client -- status --txn POS…
 *   npm run pos:client -- reverse --txn POS…
 *
 * Where and who: GATEWAY_URL, GATEWAY_CLIENT_ID, GATEWAY_SECRET, or else `bff` and
 * `demo.gatewayClientId` / `demo.gatewaySecret` from `<DATA_DIR>/dev.json` written by `npm start`.
 *
 * It follows the seed's rules (seed 000 §2.3 step 5, §2.7): a read timeout (or a 5xx) is asked again with
 * the SAME txnNo — the platform answers a repeat with its first answer; a connect failure means the
 * platform never saw the request: pay from the card balance and send a reversal for the txnNo, retried
 * until it is acknowledged, so that a request that did get through after all is voided.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import type { DeductionAnswer } from '../shared/gateway-api.js';
import { buildGatewayHeaders } from '../shared/gateway-signature.js';

export interface PosClientOptions {
  baseUrl: string;
  clientId: string;
  secret: string;
  /** Per attempt, connect to last byte. */
  readTimeoutMs?: number;
  /** Attempts with the same txnNo after read timeouts or 5xx (first included). */
  maxAttempts?: number;
  /** Reversals: first delay between tries (doubling to 30 s) and how many tries at most. */
  reversalRetryMs?: number;
  reversalMaxTries?: number;
}

export type SwipeOutcome =
  | { kind: 'ANSWERED'; answer: DeductionAnswer }
  /** Pay from the card balance; `reversal` settles the platform side. */
  | { kind: 'USE_CARD_BALANCE'; why: string; reversal: Promise<void> }
  /** The platform refused the request itself (4xx): fix the request or credentials; card balance. */
  | { kind: 'REJECTED'; status: number; code: string | null };

class ConnectFailure extends Error {}

export class PosGatewayClient {
  constructor(private readonly options: PosClientOptions) {}

  /** One signed request. Throws ConnectFailure when no connection could be made. */
  async send(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
  ): Promise<{ status: number; json: Record<string, any> | null }> {
    const raw = body === undefined ? '' : JSON.stringify(body);
    const headers = buildGatewayHeaders({
      clientId: this.options.clientId,
      secret: this.options.secret,
      method,
      path,
      body: raw,
    });
    let response: Response;
    try {
      response = await fetch(this.options.baseUrl.replace(/\/+$/, '') + path, {
        method,
        headers: raw ? { ...headers, 'content-type': 'application/json' } : headers,
        body: raw || undefined,
        signal: AbortSignal.timeout(this.options.readTimeoutMs ?? 2_000),
      });
    } catch (error) {
      const code = (error as { cause?: { code?: string } }).cause?.code;
      if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EHOSTUNREACH')
        throw new ConnectFailure(code);
      throw error;
    }
    const text = await response.text();
    let json: Record<string, any> | null = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      // not JSON
    }
    return { status: response.status, json };
  }

  /** A swipe of a card bound to Alipay: ask the platform, with the seed's timeout rules. */
  async deduct(request: {
    txnNo: string;
    cardNo: string;
    amountFen: number;
    terminalId: string;
    occurredAt?: string;
  }): Promise<SwipeOutcome> {
    const body = { ...request, occurredAt: request.occurredAt ?? new Date().toISOString() };
    const attempts = this.options.maxAttempts ?? 3;
    let why = 'no answer';
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        const { status, json } = await this.send('POST', '/gateway/v1/deductions', body);
        if (status >= 200 && status < 300 && json?.decision)
          return { kind: 'ANSWERED', answer: json as DeductionAnswer };
        if (status >= 400 && status < 500 && status !== 429) {
          // A 4xx after an unanswered attempt: that attempt may have been approved, so reverse it too.
          if (attempt > 1)
            return {
              kind: 'USE_CARD_BALANCE',
              why: `HTTP ${status}`,
              reversal: this.reverseUntilAcknowledged(body.txnNo),
            };
          return { kind: 'REJECTED', status, code: json?.error?.code ?? null };
        }
        why = `HTTP ${status}`;
      } catch (error) {
        if (error instanceof ConnectFailure)
          return {
            kind: 'USE_CARD_BALANCE',
            why: `connect failed (${error.message})`,
            reversal: this.reverseUntilAcknowledged(body.txnNo),
          };
        why = (error as Error).name === 'TimeoutError' ? 'read timeout' : (error as Error).message;
      }
    }
    return { kind: 'USE_CARD_BALANCE', why, reversal: this.reverseUntilAcknowledged(body.txnNo) };
  }

  status(txnNo: string) {
    return this.send('GET', `/gateway/v1/deductions/${encodeURIComponent(txnNo)}`);
  }

  reverse(txnNo: string) {
    return this.send('POST', `/gateway/v1/deductions/${encodeURIComponent(txnNo)}/reversal`, {});
  }

  /** Retries with back-off (1 s doubling to 30 s, at most 20 tries by default) until the platform answers 2xx. */
  async reverseUntilAcknowledged(
    txnNo: string,
    maxTries = this.options.reversalMaxTries ?? 20,
  ): Promise<void> {
    let delay = this.options.reversalRetryMs ?? 1_000;
    for (let attempt = 1; attempt <= maxTries; attempt++) {
      try {
        const { status } = await this.reverse(txnNo);
        if (status >= 200 && status < 300) return;
      } catch {
        // not reachable yet
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 30_000);
    }
    throw new Error(`reversal of ${txnNo} was never acknowledged; keep it for the next start`);
  }
}

function newTxnNo(): string {
  const stamp = new Date(Date.now() + 8 * 3600_000).toISOString().replace(/\D/g, '').slice(0, 14);
  return `POS${stamp}${String(Math.floor(Math.random() * 1e6)).padStart(6, '0')}`;
}

function connection(): PosClientOptions {
  const dev = (() => {
    try {
      return JSON.parse(fs.readFileSync(path.join(process.env.DATA_DIR ?? '.data', 'dev.json'), 'utf8')) as {
        bff?: string;
        demo?: { gatewayClientId?: string; gatewaySecret?: string };
      };
    } catch {
      return {};
    }
  })();
  const baseUrl = process.env.GATEWAY_URL ?? dev.bff;
  const clientId = process.env.GATEWAY_CLIENT_ID ?? dev.demo?.gatewayClientId;
  const secret = process.env.GATEWAY_SECRET ?? dev.demo?.gatewaySecret;
  if (!baseUrl || !clientId || !secret)
    throw new Error(
      'set GATEWAY_URL, GATEWAY_CLIENT_ID and GATEWAY_SECRET, or run `npm start` first (dev.json)',
    );
  return { baseUrl, clientId, secret };
}

async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      card: { type: 'string' },
      amount: { type: 'string' },
      terminal: { type: 'string', default: 'T01' },
      txn: { type: 'string' },
    },
  });
  const client = new PosGatewayClient(connection());
  const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  switch (positionals[0]) {
    case 'deduct': {
      if (!values.card || !values.amount) throw new Error('deduct needs --card and --amount (fen)');
      const outcome = await client.deduct({
        txnNo: values.txn ?? newTxnNo(),
        cardNo: values.card,
        amountFen: Number(values.amount),
        terminalId: values.terminal!,
      });
      if (outcome.kind === 'USE_CARD_BALANCE') {
        print({ outcome: 'USE_CARD_BALANCE', why: outcome.why });
        await outcome.reversal;
        print({ reversal: 'ACKNOWLEDGED' });
      } else print(outcome.kind === 'ANSWERED' ? outcome.answer : outcome);
      return;
    }
    case 'status':
    case 'reverse': {
      if (!values.txn) throw new Error(`${positionals[0]} needs --txn`);
      const { status, json } =
        positionals[0] === 'status' ? await client.status(values.txn) : await client.reverse(values.txn);
      print({ httpStatus: status, ...json });
      return;
    }
    default:
      throw new Error(
        'usage: pos:client -- deduct --card <no> --amount <fen> [--terminal T01] [--txn <no>] | status --txn <no> | reverse --txn <no>',
      );
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`pos:client: ${(error as Error).message}\n`);
    process.exit(1);
  });
}
