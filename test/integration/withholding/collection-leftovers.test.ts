import assert from 'node:assert/strict';
import { findDeductionByTxn, releaseLeases } from '../../../server/src/db/repos/withholding/deductions.js';
import { collectDeduction } from '../../../server/src/domain/withholding/deduction-collection.js';
import { retryDeductionRefund } from '../../../server/src/domain/withholding/deduction-refunds.js';
import { startStack, type Stack } from '../../support/stack.js';
import {
  approvedSwipe,
  chargesOf,
  claimAsCollector,
  gatewayFor,
  sale,
  signedPayerWithoutWorker,
  type Gateway,
} from './helpers.js';

/**
 * What one collection attempt leaves on a swipe in the cases the collector's main paths do not reach
 * (issue 20, the collection module's survivors): an open charge resolved before anything else, even with no
 * agreement left; a reversed swipe never a debt; a debt held for the school's authorization still a debt;
 * the last error an operator reads; a refund that went through before a crash never sent again.
 *
 * The suite plays the collectors itself (ROLE=api: no job runs), one turn at a time; each test stands alone.
 */
describe('a collection attempt, what it leaves on the swipe', () => {
  let stack: Stack;
  let gateway: Gateway;
  before(async () => {
    stack = await startStack({
      env: {
        ROLE: 'api',
        DEDUCTION_POLL_INTERVAL_MS: '50',
        DEDUCTION_LEASE_MS: '1000',
        // Long enough that no call times out on a loaded machine unless a fault makes it hang (4 s).
        ALIPAY_TIMEOUT_MS: '2500',
      },
      schoolSettings: { retryScheduleSeconds: [60, 300] },
    });
    gateway = await gatewayFor(stack);
  });
  after(() => stack.stop());

  const approve = (cardNo: string, amountFen: number) => approvedSwipe(gateway, cardNo, amountFen);

  const rowOf = async (txnNo: string) =>
    (await findDeductionByTxn(stack.app.deps.db, stack.school.id, txnNo))!;

  /** One collector's turn at the row (claimed now, whatever its next attempt time), as the drainer does. */
  async function collectorTurn(txnNo: string, school = stack.school) {
    // A second back: PostgreSQL's now() has microseconds, the claim's JavaScript time only milliseconds.
    await stack.app.deps.pool.query(
      `update deductions set next_attempt_at = now() - interval '1 second' where txn_no = $1`,
      [txnNo],
    );
    const row = await claimAsCollector(stack, txnNo, 60_000);
    await collectDeduction(stack.app.deps, row, { school });
    return rowOf(txnNo);
  }

  /** The payer's agreement is gone from the swipe (as far as our records go): nothing to send a charge with. */
  const dropAgreement = (txnNo: string) =>
    stack.app.deps.pool.query('update deductions set agreement_id = null where txn_no = $1', [txnNo]);

  const attemptsOf = async (id: string) =>
    (
      await stack.app.deps.pool.query(
        'select outcome, alipay_code, alipay_sub_code from deduction_attempts where deduction_id = $1 order by id',
        [id],
      )
    ).rows;

  /** A refusal that may pass (the payer's balance): RETRYING with a slot used. */
  async function refusedOnce(txnNo: string) {
    await stack.alipay.control.injectApiFault({
      method: 'alipay.trade.pay',
      times: 1,
      error: { subCode: 'ACQ.SELLER_BALANCE_NOT_ENOUGH' },
    });
    const row = await collectorTurn(txnNo);
    assert.deepEqual(
      [row.status, row.retriesUsed, row.lastErrorCode],
      ['RETRYING', 1, 'ACQ.SELLER_BALANCE_NOT_ENOUGH'],
    );
    return row;
  }

  it('records a swipe with no agreement left as one NO_AGREEMENT attempt, without a call', async () => {
    const payer = await signedPayerWithoutWorker(stack);
    const approved = await approve(payer.card.cardNo, 210);
    await dropAgreement(approved.txnNo);
    const row = await collectorTurn(approved.txnNo);
    assert.deepEqual([row.status, row.attempts, row.lastErrorCode], ['ARREARS', 0, 'NO_AGREEMENT']);
    assert.deepEqual(await attemptsOf(row.id), [
      { outcome: 'NO_AGREEMENT', alipay_code: 'NO_AGREEMENT', alipay_sub_code: null },
    ]);
    assert.equal((await chargesOf(stack, approved.deductionId)).trades.length, 0);
  });

  it('asks Alipay about a charge of unknown outcome before a swipe with no agreement left becomes a debt: found paid, COLLECTED', async () => {
    const payer = await signedPayerWithoutWorker(stack);
    const approved = await approve(payer.card.cardNo, 230);
    // The charge goes through at Alipay but its answer is lost, and so is the query's: outcome unknown.
    await stack.alipay.control.injectApiFault({
      method: 'alipay.trade.pay',
      times: 1,
      hangMs: 4_000,
      applyEffect: true,
    });
    await stack.alipay.control.injectApiFault({
      method: 'alipay.trade.query',
      times: 1,
      error: { subCode: 'ACQ.SYSTEM_ERROR' },
    });
    const open = await collectorTurn(approved.txnNo);
    assert.deepEqual([open.status, open.chargeState, open.attempts], ['PENDING', 'UNKNOWN', 1]);

    await dropAgreement(approved.txnNo);
    const row = await collectorTurn(approved.txnNo);
    assert.deepEqual(
      [row.status, row.attempts, row.lastErrorCode, row.chargeState],
      ['COLLECTED', 1, null, null],
      'the money Alipay took is found, not owed a second time',
    );
    const { trades, paid } = await chargesOf(stack, approved.deductionId);
    assert.deepEqual([trades.length, paid.length], [1, 1]);
  });

  it('voids a swipe reversed while a stopping collector held it, even with no agreement left: REVERSED, never a debt', async () => {
    const payer = await signedPayerWithoutWorker(stack);
    const approved = await approve(payer.card.cardNo, 240);
    await dropAgreement(approved.txnNo);
    // A collector claims it (marked "possibly charged"), the reversal arrives meanwhile (the lease keeps the
    // row as it is), and the collector stops before its trade.pay, giving the row back as never sent.
    const claimed = await claimAsCollector(stack, approved.txnNo, 60_000);
    const during = await gateway.reverse(approved.txnNo);
    assert.equal(during.body.status, 'PENDING', during.text);
    await releaseLeases(stack.app.deps.db, [claimed]);
    const released = await rowOf(approved.txnNo);
    assert.deepEqual([released.chargeState, released.status], [null, 'PENDING']);
    assert.ok(released.reversalRequestedAt);

    const row = await collectorTurn(approved.txnNo);
    assert.deepEqual(
      [row.status, row.attempts, row.retriesUsed, row.lastErrorCode],
      ['REVERSED', 0, 0, null],
    );
    assert.equal((await chargesOf(stack, approved.deductionId)).trades.length, 0);
    const next = await gateway.deduct(sale(payer.card.cardNo, 100));
    assert.notEqual(next.body.reason, 'IN_ARREARS', next.text);
  });

  it("keeps a debt RETRYING, still arrears for its payer, while it is held for the school's authorization", async () => {
    const payer = await signedPayerWithoutWorker(stack);
    const approved = await approve(payer.card.cardNo, 250);
    await refusedOnce(approved.txnNo);
    const suspended = {
      ...stack.school,
      status: 'SUSPENDED' as const,
      suspensionReason: 'AUTHORIZATION_CANCELLED' as const,
    };
    const held = await collectorTurn(approved.txnNo, suspended);
    assert.deepEqual(
      [held.status, held.retriesUsed, held.attempts, held.lastErrorCode],
      ['RETRYING', 1, 1, 'SCHOOL_SUSPENDED'],
    );
    const next = await gateway.deduct(sale(payer.card.cardNo, 100));
    assert.deepEqual([next.body.decision, next.body.reason], ['DECLINED', 'IN_ARREARS'], next.text);
  });

  it("shows Alipay's newest error on a charge of unknown outcome, and keeps the last refusal while a charge waits for the buyer", async () => {
    const payer = await signedPayerWithoutWorker(stack);
    const approved = await approve(payer.card.cardNo, 260);
    await refusedOnce(approved.txnNo);

    // The retry waits for the buyer (10003): nothing new went wrong, the refusal is still the last error.
    await stack.alipay.control.injectApiFault({ method: 'alipay.trade.pay', times: 1, payInProcess: {} });
    const waiting = await collectorTurn(approved.txnNo);
    assert.deepEqual(
      [waiting.status, waiting.chargeState, waiting.lastErrorCode],
      ['RETRYING', 'AWAITING_BUYER', 'ACQ.SELLER_BALANCE_NOT_ENOUGH'],
    );

    // Asking about it fails: that failure is now the last error.
    await stack.alipay.control.injectApiFault({
      method: 'alipay.trade.query',
      times: 1,
      error: { code: '20000', subCode: 'isp.unknow-error' },
    });
    const unknown = await collectorTurn(approved.txnNo);
    assert.deepEqual(
      [unknown.status, unknown.chargeState, unknown.lastErrorCode],
      ['RETRYING', 'UNKNOWN', 'isp.unknow-error'],
    );
  });

  it('shows ACQ.TRADE_HAS_CLOSE as the last error of a swipe charged again under its next number', async () => {
    const payer = await signedPayerWithoutWorker(stack);
    const approved = await approve(payer.card.cardNo, 270);
    await stack.alipay.control.injectApiFault({
      method: 'alipay.trade.pay',
      times: 1,
      error: { subCode: 'ACQ.TRADE_HAS_CLOSE' },
    });
    const row = await collectorTurn(approved.txnNo);
    assert.deepEqual(
      [row.status, row.retriesUsed, row.outTradeNo, row.lastErrorCode],
      ['PENDING', 0, `${approved.deductionId}_2`, 'ACQ.TRADE_HAS_CLOSE'],
    );
    const collected = await collectorTurn(approved.txnNo);
    assert.deepEqual([collected.status, collected.lastErrorCode], ['COLLECTED', null]);
  });
});

describe('refunding a reversed swipe after a crash', () => {
  let stack: Stack;
  let gateway: Gateway;
  before(async () => {
    stack = await startStack({ env: { ROLE: 'api', DEDUCTION_POLL_INTERVAL_MS: '50' } });
    gateway = await gatewayFor(stack);
  });
  after(() => stack.stop());

  it('never sends again a refund that went through before the swipe was marked: the retry only marks it REVERSED', async () => {
    const payer = await signedPayerWithoutWorker(stack);
    const { txnNo, deductionId } = await approvedSwipe(gateway, payer.card.cardNo, 280);
    const claimed = await claimAsCollector(stack, txnNo, 60_000);
    await collectDeduction(stack.app.deps, claimed, { school: stack.school });
    const reversed = await gateway.reverse(txnNo);
    assert.deepEqual([reversed.body.status, reversed.body.reversal.refund], ['REVERSED', 'REFUNDED']);
    // A crash between recording the refund as SUCCEEDED and marking the swipe: still COLLECTED, reversal asked.
    await stack.app.deps.pool.query(
      `update deductions set status = 'COLLECTED', refunded_at = null, reversed_at = null where id = $1`,
      [claimed.id],
    );
    const fault = await stack.alipay.control.injectApiFault({
      method: 'alipay.trade.refund',
      times: 1,
      error: { subCode: 'ACQ.SYSTEM_ERROR' },
    });
    try {
      await retryDeductionRefund(stack.app.deps, claimed.id);
      const row = (await findDeductionByTxn(stack.app.deps.db, stack.school.id, txnNo))!;
      assert.equal(row.status, 'REVERSED');
      assert.ok(row.refundedAt);
      const asked = (await stack.alipay.control.listFaults()).find((f) => f.id === fault.id);
      assert.equal(asked?.hits, 0, 'no second trade.refund');
      const [trade] = (await chargesOf(stack, deductionId)).trades;
      assert.equal(trade.refundedFen, 280);
    } finally {
      await stack.alipay.control.clearFaults();
    }
  });
});
