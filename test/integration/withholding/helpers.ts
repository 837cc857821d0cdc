import assert from 'node:assert/strict';
import { listUserAgreements } from '../../../server/src/db/repos/withholding/agreements.js';
import {
  claimDueDeductions,
  type ClaimedDeduction,
} from '../../../server/src/db/repos/withholding/deductions.js';
import { syncCardForWithholding } from '../../../server/src/domain/withholding/agreements.js';
import { createGatewayClient } from '../../../server/src/domain/schools/gateway-clients.js';
import { buildGatewayHeaders } from '../../../shared/gateway-signature.js';
import { eventually, request, type HttpResult } from '../../support/http.js';
import type { Stack } from '../../support/stack.js';
import { userWithCard } from '../student/helpers.js';

export type Payer = Awaited<ReturnType<typeof userWithCard>>;

/**
 * A user whose card is signed for withholding the way a person does it: sign in the mini-program, confirm
 * in Alipay (sandbox signAgreement), then the notification makes the agreement ACTIVE and the platform
 * binds the card at the card system.
 */
export async function signedPayer(
  stack: Stack,
  options: { balanceFen?: number; cardBalanceFen?: number; bindTimeoutMs?: number } = {},
): Promise<Payer & { agreementNo: string }> {
  const payer = await userWithCard(stack, {
    balanceFen: options.balanceFen ?? 100_000,
    cardBalanceFen: options.cardBalanceFen ?? 10_000,
  });
  const sign = await payer.api.post('/api/v1/withholding/sign', { bindingId: payer.bindingId });
  assert.equal(sign.status, 201, sign.text);
  const signed = await stack.alipay.control.signAgreement({
    signStr: sign.body.signStr,
    userId: payer.user.userId,
  });
  assert.equal(signed.resultStatus, '7000', signed.memo);
  await eventually(
    async () => {
      const card = await stack.cardsys.control.getCard(stack.school.code, payer.card.cardNo);
      const items = (await payer.api.get('/api/v1/withholding')).body.items;
      return card.alipayBind !== null && items[0]?.cards[0]?.isBoundAtCardSystem === true;
    },
    { timeoutMs: options.bindTimeoutMs ?? 20_000, message: 'card bound for withholding' },
  );
  return { ...payer, agreementNo: signed.agreementNo! };
}

/**
 * signedPayer for a stack without a worker (ROLE=api, the test plays the collectors): the card-system bind
 * that the bind job would do is done here.
 */
export async function signedPayerWithoutWorker(stack: Stack): Promise<Payer> {
  const payer = await userWithCard(stack);
  const sign = await payer.api.post('/api/v1/withholding/sign', { bindingId: payer.bindingId });
  assert.equal(sign.status, 201, sign.text);
  await stack.alipay.control.signAgreement({ signStr: sign.body.signStr, userId: payer.user.userId });
  await eventually(async () => {
    const [row] = await listUserAgreements(
      stack.app.deps.db,
      (await payer.api.get('/api/v1/me')).body.user.id,
    );
    return row?.status === 'ACTIVE' ? row : undefined;
  });
  await syncCardForWithholding(stack.app.deps, payer.bindingId, 0);
  return payer;
}

export interface Gateway {
  clientId: string;
  secret: string;
  post(
    path: string,
    body: unknown,
    options?: { nonce?: string; timestamp?: number; secret?: string },
  ): Promise<HttpResult>;
  get(path: string): Promise<HttpResult>;
  deduct(body: Record<string, unknown>): Promise<HttpResult>;
  reverse(txnNo: string): Promise<HttpResult>;
}

/** A POS gateway client of the stack's school, signing requests as docs/gateway-api.md says. */
export async function gatewayFor(stack: Stack, schoolId = stack.school.id): Promise<Gateway> {
  const { clientId, secret } = await createGatewayClient(stack.app.deps, { schoolId, name: 'test POS' });
  const send = (
    method: string,
    path: string,
    raw: string,
    options: { nonce?: string; timestamp?: number; secret?: string } = {},
  ) =>
    request(method, stack.app.url + path, {
      raw: raw || undefined,
      headers: {
        ...(raw ? { 'content-type': 'application/json' } : {}),
        ...buildGatewayHeaders({
          clientId,
          secret: options.secret ?? secret,
          method,
          path,
          body: raw,
          nonce: options.nonce,
          timestamp: options.timestamp,
        }),
      },
    });
  const gateway: Gateway = {
    clientId,
    secret,
    post: (path, body, options) => send('POST', path, JSON.stringify(body), options),
    get: (path) => send('GET', path, ''),
    deduct: (body) => gateway.post('/gateway/v1/deductions', body),
    reverse: (txnNo) => gateway.post(`/gateway/v1/deductions/${txnNo}/reversal`, {}),
  };
  return gateway;
}

let txnCounter = 0;
export function txnNo(): string {
  txnCounter += 1;
  return `T${Date.now()}${process.pid}${txnCounter}`;
}

export function sale(cardNo: string, amountFen: number, extra: Record<string, unknown> = {}) {
  return {
    txnNo: txnNo(),
    cardNo,
    amountFen,
    terminalId: 'POS-01',
    occurredAt: new Date().toISOString(),
    ...extra,
  };
}

/** A swipe of `cardNo` the gateway approves (asserted), with the numbers a test follows it by. */
export async function approvedSwipe(gateway: Gateway, cardNo: string, amountFen: number) {
  const res = await gateway.deduct(sale(cardNo, amountFen));
  assert.equal(res.body.decision, 'APPROVED', res.text);
  return res.body as { txnNo: string; deductionId: string };
}

export async function waitForDeduction(gateway: Gateway, txn: string, status: string, timeoutMs = 15_000) {
  return eventually(
    async () => {
      const res = await gateway.get(`/gateway/v1/deductions/${txn}`);
      return res.body?.status === status ? res.body : undefined;
    },
    { timeoutMs, message: `deduction ${txn} never became ${status}` },
  );
}

/** The sandbox ledger's trades of one deduction (all its out_trade_nos) and what they took. */
export async function chargesOf(stack: Stack, deductionNo: string) {
  const { trades } = await stack.alipay.control.ledger({});
  const mine = trades.filter(
    (t) => t.outTradeNo === deductionNo || t.outTradeNo.startsWith(`${deductionNo}_`),
  );
  const paid = mine.filter((t) => t.status === 'TRADE_SUCCESS' || t.status === 'TRADE_FINISHED');
  return { trades: mine, paid, refundedFen: mine.reduce((sum, t) => sum + t.refundedFen, 0) };
}

/** Takes the swipe `txnNo` as a collector's claim does (a lease of `leaseMs`), for tests that play the collector. */
export async function claimAsCollector(
  stack: Stack,
  txnNo: string,
  leaseMs = 1000,
): Promise<ClaimedDeduction> {
  const now = new Date();
  const rows = await claimDueDeductions(stack.app.deps.db, {
    now,
    leaseUntil: new Date(now.getTime() + leaseMs),
    limit: 100,
  });
  const row = rows.find((r) => r.txnNo === txnNo);
  assert.ok(row, 'claimed');
  return row;
}

/**
 * Makes every transaction that writes a deduction of `terminalId` fail at its commit (a deferred constraint
 * trigger, checked when the batch's transaction commits). Returns the undo, which may be called again.
 */
export async function failCommitsOfTerminal(stack: Stack, terminalId: string): Promise<() => Promise<void>> {
  const name = `test_fail_${terminalId.toLowerCase().replace(/[^a-z0-9]/g, '_')}`;
  await stack.app.deps.pool.query(`
    create function ${name}() returns trigger language plpgsql as $$
      begin raise exception 'injected: this commit fails'; end $$;
    create constraint trigger ${name} after insert on deductions deferrable initially deferred
      for each row when (new.terminal_id = '${terminalId}') execute function ${name}();`);
  return async () => {
    await stack.app.deps.pool.query(
      `drop trigger if exists ${name} on deductions; drop function if exists ${name}()`,
    );
  };
}
