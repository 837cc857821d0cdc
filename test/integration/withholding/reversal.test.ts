import assert from 'node:assert/strict';
import { retryDeductionRefund } from '../../../server/src/domain/withholding/deduction-refunds.js';
import { startStack, type Stack } from '../../support/stack.js';
import { eventually } from '../../support/http.js';
import { chargesOf, gatewayFor, sale, signedPayer, waitForDeduction, type Gateway } from './helpers.js';

/** POST /gateway/v1/deductions/:txnNo/reversal before, during and after collection (DESIGN §6.2). */
describe('reversing a swipe', () => {
  let stack: Stack;
  let gateway: Gateway;
  before(async () => {
    stack = await startStack({
      env: {
        DEDUCTION_RETRY_SCALE: '0.01',
        DEDUCTION_POLL_INTERVAL_MS: '100',
        DEDUCTION_REFUND_RETRY_MS: '100,100,100',
      },
      schoolSettings: { retryScheduleSeconds: [6_000, 6_000] },
    });
    gateway = await gatewayFor(stack);
  });
  afterEach(() => stack.alipay.control.clearFaults());
  after(() => stack.stop());

  /** Until a collector holds the swipe's row (its trade.pay is on its way). */
  const chargeInFlight = (txnNo: string) =>
    eventually(async () => {
      const { rows } = await stack.app.deps.pool.query(
        'select lease_until from deductions where txn_no = $1',
        [txnNo],
      );
      return rows[0].lease_until !== null;
    });

  it('voids a deduction not yet collected: nothing is ever charged', async () => {
    const payer = await signedPayer(stack, { balanceFen: 0 });
    const body = sale(payer.card.cardNo, 500);
    const approved = await gateway.deduct(body);
    await waitForDeduction(gateway, body.txnNo, 'RETRYING');
    const reversed = await gateway.reverse(body.txnNo);
    assert.equal(reversed.status, 200);
    assert.equal(reversed.body.status, 'REVERSED');
    assert.equal(reversed.body.reversal.refund, 'NOT_NEEDED');
    await stack.alipay.control.setBalance(payer.user.userId, 10_000);
    assert.equal((await payer.api.get('/api/v1/debts')).body.totalFen, 0, 'a reversed swipe is not owed');
    const { rows } = await stack.app.deps.pool.query(
      'select next_attempt_at from deductions where txn_no = $1',
      [body.txnNo],
    );
    assert.equal(rows[0].next_attempt_at, null, 'never retried');
    assert.equal((await chargesOf(stack, approved.body.deductionId)).paid.length, 0);
  });

  it('refunds a collected deduction once, however often the reversal comes', async () => {
    const payer = await signedPayer(stack, { balanceFen: 5_000 });
    const body = sale(payer.card.cardNo, 1_200);
    const approved = await gateway.deduct(body);
    await waitForDeduction(gateway, body.txnNo, 'COLLECTED');
    const reversals = await Promise.all([gateway.reverse(body.txnNo), gateway.reverse(body.txnNo)]);
    assert.deepEqual(
      reversals.map((r) => r.status),
      [200, 200],
    );
    const done = await waitForDeduction(gateway, body.txnNo, 'REVERSED');
    assert.equal(done.reversal.refund, 'REFUNDED');
    assert.equal((await gateway.reverse(body.txnNo)).body.status, 'REVERSED');
    const { trades } = await chargesOf(stack, approved.body.deductionId);
    assert.equal(trades.length, 1, 'charged once');
    const [trade] = trades;
    assert.equal(trade.refunds.length, 1);
    assert.equal(trade.refunds[0].outRequestNo, `${approved.body.deductionId}_R`);
    assert.equal(trade.refundedFen, 1_200);
    assert.equal((await stack.alipay.control.getUser(payer.user.userId)).balanceFen, 5_000);
  });

  it('lets an attempt in flight finish, then refunds what it collected', async () => {
    const payer = await signedPayer(stack, { balanceFen: 5_000 });
    await stack.alipay.control.injectApiFault({ method: 'alipay.trade.pay', times: 1, latencyMs: 800 });
    const body = sale(payer.card.cardNo, 750);
    const approved = await gateway.deduct(body);
    await chargeInFlight(body.txnNo);
    const during = await gateway.reverse(body.txnNo);
    assert.equal(during.status, 200);
    assert.equal(during.body.status, 'PENDING', 'still being charged when the reversal arrived');
    const done = await waitForDeduction(gateway, body.txnNo, 'REVERSED');
    assert.equal(done.reversal.refund, 'REFUNDED');
    const [trade] = (await chargesOf(stack, approved.body.deductionId)).trades;
    assert.equal(trade.refundedFen, 750);
    assert.equal((await stack.alipay.control.getUser(payer.user.userId)).balanceFen, 5_000);
  });

  it('lets an attempt in flight finish, and voids at once a swipe whose charge it could not collect', async () => {
    const payer = await signedPayer(stack, { balanceFen: 0 });
    await stack.alipay.control.injectApiFault({ method: 'alipay.trade.pay', times: 1, latencyMs: 800 });
    const body = sale(payer.card.cardNo, 380);
    const approved = await gateway.deduct(body);
    await chargeInFlight(body.txnNo);
    const during = await gateway.reverse(body.txnNo);
    assert.equal(during.body.status, 'PENDING', 'still being charged when the reversal arrived');
    // The charge is refused (no balance); the retry would wait a minute: the reversal ends it now.
    const done = await waitForDeduction(gateway, body.txnNo, 'REVERSED', 10_000);
    assert.equal(done.reversal.refund, 'NOT_NEEDED');
    assert.deepEqual(
      done.attempts.map((a: { outcome: string }) => a.outcome),
      ['RETRYABLE'],
    );
    assert.equal((await chargesOf(stack, approved.body.deductionId)).paid.length, 0);
    assert.equal((await payer.api.get('/api/v1/debts')).body.totalFen, 0, 'a reversed swipe is not owed');
  });

  it('retries a refund that Alipay could not answer, with the same out_request_no', async () => {
    const payer = await signedPayer(stack, { balanceFen: 5_000 });
    const body = sale(payer.card.cardNo, 330);
    const approved = await gateway.deduct(body);
    await waitForDeduction(gateway, body.txnNo, 'COLLECTED');
    await stack.alipay.control.injectApiFault({
      method: 'alipay.trade.refund',
      times: 1,
      error: { subCode: 'ACQ.SYSTEM_ERROR' },
      applyEffect: true,
    });
    const first = await gateway.reverse(body.txnNo);
    assert.equal(first.status, 200);
    assert.equal(first.body.status, 'COLLECTED');
    assert.equal(first.body.reversal.refund, 'PENDING');
    await waitForDeduction(gateway, body.txnNo, 'REVERSED');
    const [trade] = (await chargesOf(stack, approved.body.deductionId)).trades;
    assert.equal(trade.refunds.length, 1);
    assert.equal(trade.refundedFen, 330);
  });

  it('cancels at once a charge still waiting for the buyer when the swipe is reversed: nothing charged, nothing to refund', async () => {
    const payer = await signedPayer(stack, { balanceFen: 5_000 });
    await stack.alipay.control.injectApiFault({ method: 'alipay.trade.pay', times: 1, payInProcess: {} });
    const body = sale(payer.card.cardNo, 640);
    const approved = await gateway.deduct(body);
    await eventually(async () => {
      const detail = (await gateway.get(`/gateway/v1/deductions/${body.txnNo}`)).body;
      return detail.attempts?.[0]?.outcome === 'AWAITING_BUYER';
    });
    const reversed = await gateway.reverse(body.txnNo);
    assert.equal(reversed.status, 200, reversed.text);
    // The poll window is a minute here: only the reversal ends the wait this soon.
    const done = await waitForDeduction(gateway, body.txnNo, 'REVERSED', 10_000);
    assert.equal(done.reversal.refund, 'NOT_NEEDED');
    assert.equal(done.attempts.at(-1).outcome, 'CANCELLED');
    const { trades, paid } = await chargesOf(stack, approved.body.deductionId);
    assert.deepEqual(
      trades.map((t) => [t.outTradeNo, t.status]),
      [[approved.body.deductionId, 'TRADE_CLOSED']],
    );
    assert.equal(paid.length, 0);
    const { rows } = await stack.app.deps.pool.query(
      'select next_attempt_at, charge_state, awaiting_buyer_since from deductions where txn_no = $1',
      [body.txnNo],
    );
    assert.deepEqual(rows[0], { next_attempt_at: null, charge_state: null, awaiting_buyer_since: null });
    assert.equal((await stack.alipay.control.getUser(payer.user.userId)).balanceFen, 5_000);
  });

  it('refunds on the refund job only a swipe that was collected and whose reversal was asked', async () => {
    const payer = await signedPayer(stack, { balanceFen: 5_000 });
    const kept = sale(payer.card.cardNo, 260);
    const collected = await gateway.deduct(kept);
    await waitForDeduction(gateway, kept.txnNo, 'COLLECTED');
    const broke = await signedPayer(stack, { balanceFen: 0 });
    const voided = sale(broke.card.cardNo, 270);
    const unpaid = await gateway.deduct(voided);
    await waitForDeduction(gateway, voided.txnNo, 'RETRYING');
    assert.equal((await gateway.reverse(voided.txnNo)).body.status, 'REVERSED');

    const idOf = async (deductionNo: string) =>
      (await stack.app.deps.pool.query('select id from deductions where deduction_no = $1', [deductionNo]))
        .rows[0].id as string;
    // The job comes for a swipe nobody reversed, and for one reversed before it was ever collected.
    await retryDeductionRefund(stack.app.deps, await idOf(collected.body.deductionId));
    await retryDeductionRefund(stack.app.deps, await idOf(unpaid.body.deductionId));
    const { rows } = await stack.app.deps.pool.query(
      'select out_request_no from refunds where out_request_no = any($1)',
      [[`${collected.body.deductionId}_R`, `${unpaid.body.deductionId}_R`]],
    );
    assert.deepEqual(rows, [], 'no refund asked for either');
    assert.equal((await chargesOf(stack, collected.body.deductionId)).refundedFen, 0);
    assert.equal((await gateway.get(`/gateway/v1/deductions/${kept.txnNo}`)).body.status, 'COLLECTED');
  });
});
