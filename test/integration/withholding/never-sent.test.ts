import assert from 'node:assert/strict';
import {
  claimDueDeductions,
  findDeductionByTxn,
  releaseLease,
  releaseLeases,
} from '../../../server/src/db/repos/withholding/deductions.js';
import { collectDeduction } from '../../../server/src/domain/withholding/deduction-collection.js';
import { collectDeductionNow } from '../../../server/src/domain/withholding/deduction-exceptions.js';
import { TEST_OPERATOR } from '../../support/admins.js';
import { startStack, type Stack } from '../../support/stack.js';
import {
  chargesOf,
  claimAsCollector,
  gatewayFor,
  sale,
  signedPayerWithoutWorker,
  type Gateway,
} from './helpers.js';

/**
 * A collector's claim marks each row "possibly charged" before it calls Alipay (crash safety). Rows it
 * never sent — given back at a graceful stop, or left behind by `kill -9` until the lease runs out — must
 * be charged by the next collector as if nothing had happened: never ARREARS with zero attempts, which
 * would decline the payer's next swipe IN_ARREARS for a debt Alipay was never asked to collect.
 *
 * This suite plays the collectors itself (the API process runs no jobs) so that it can stop one exactly
 * between its claim and its first trade.pay.
 */
describe('deductions a collector claimed but never sent', () => {
  let stack: Stack;
  let gateway: Gateway;
  before(async () => {
    stack = await startStack({
      env: {
        ROLE: 'api',
        DEDUCTION_POLL_INTERVAL_MS: '50',
        DEDUCTION_LEASE_MS: '1000',
        ALIPAY_TIMEOUT_MS: '500',
      },
      schoolSettings: { retryScheduleSeconds: [60, 300] },
    });
    gateway = await gatewayFor(stack);
  });
  after(() => stack.stop());

  /** A signed payer, with the card-system bind done here (no worker runs the bind job in this suite). */
  const signedPayer = () => signedPayerWithoutWorker(stack);

  async function approve(cardNo: string, amountFen: number) {
    const res = await gateway.deduct(sale(cardNo, amountFen));
    assert.equal(res.body.decision, 'APPROVED', res.text);
    return res.body as { txnNo: string; deductionId: string };
  }

  const claim = (txnNo: string, leaseMs?: number) => claimAsCollector(stack, txnNo, leaseMs);

  /** One collector's turn at the row: claim it and run the attempt, as the drainer does. */
  async function collectorTurn(txnNo: string) {
    const row = await claim(txnNo);
    await collectDeduction(stack.app.deps, row, { school: stack.school });
    return (await findDeductionByTxn(stack.app.deps.db, stack.school.id, txnNo))!;
  }

  async function settle(txnNo: string) {
    // A charge that answered "no trade" right away is asked again after a poll interval; a few turns at most.
    let row = await collectorTurn(txnNo);
    for (let turn = 0; turn < 5 && row.status === 'PENDING'; turn += 1) {
      await new Promise((resolve) => setTimeout(resolve, 60));
      row = await collectorTurn(txnNo);
    }
    return row;
  }

  it('charges a row given back at a graceful stop, and the payer keeps swiping', async () => {
    const payer = await signedPayer();
    const approved = await approve(payer.card.cardNo, 650);
    const claimed = await claim(approved.txnNo);
    // The drainer's shutdown: rows claimed but not started go back.
    await releaseLeases(stack.app.deps.db, [claimed]);
    const released = (await findDeductionByTxn(stack.app.deps.db, stack.school.id, approved.txnNo))!;
    assert.equal(released.chargeState, null, 'a row never sent comes back as never sent');

    await new Promise((resolve) => setTimeout(resolve, 100));
    const row = await settle(approved.txnNo);
    assert.equal(row.status, 'COLLECTED');
    assert.equal(row.attempts, 1);
    const { paid } = await chargesOf(stack, approved.deductionId);
    assert.equal(paid.length, 1);
    const next = await gateway.deduct(sale(payer.card.cardNo, 100));
    assert.equal(next.body.decision, 'APPROVED', next.text);
  });

  it('charges a row left marked by a collector killed before its trade.pay, once the lease runs out', async () => {
    const payer = await signedPayer();
    const approved = await approve(payer.card.cardNo, 720);
    await claim(approved.txnNo, 200); // then `kill -9`: nothing is given back, the mark stays
    const marked = (await findDeductionByTxn(stack.app.deps.db, stack.school.id, approved.txnNo))!;
    assert.equal(marked.chargeState, 'UNKNOWN');

    await new Promise((resolve) => setTimeout(resolve, 300));
    const row = await settle(approved.txnNo);
    assert.equal(row.status, 'COLLECTED', `ended ${row.status} after ${row.attempts} attempts`);
    const { paid, trades } = await chargesOf(stack, approved.deductionId);
    assert.equal(trades.length, 1);
    assert.equal(paid.length, 1);
    const next = await gateway.deduct(sale(payer.card.cardNo, 100));
    assert.equal(next.body.decision, 'APPROVED', next.text);
  });

  it('counts a timed-out charge that never reached Alipay as not charged: charged again at once, never arrears', async () => {
    const payer = await signedPayer();
    const approved = await approve(payer.card.cardNo, 300);
    // Each trade.pay hangs past the SDK timeout without reaching Alipay's books, more times than the
    // school's schedule has slots: none of them may count as a failed collection.
    await stack.alipay.control.injectApiFault({ method: 'alipay.trade.pay', times: 3, hangMs: 800 });
    let row = await collectorTurn(approved.txnNo);
    for (let turn = 0; turn < 20 && row.status !== 'COLLECTED'; turn += 1) {
      assert.notEqual(row.status, 'ARREARS', `ARREARS after ${row.attempts} unanswered attempts`);
      assert.equal(row.status, 'PENDING');
      await new Promise((resolve) => setTimeout(resolve, 60));
      row = await collectorTurn(approved.txnNo);
    }
    await stack.alipay.control.clearFaults();
    assert.equal(row.status, 'COLLECTED');
    const { paid } = await chargesOf(stack, approved.deductionId);
    assert.equal(paid.length, 1);
  });

  /** Claims every due row with a lease of `leaseMs`, as one collector's run does. */
  async function claimAll(leaseMs: number) {
    const now = new Date();
    return claimDueDeductions(stack.app.deps.db, {
      now,
      leaseUntil: new Date(now.getTime() + leaseMs),
      limit: 100,
    });
  }

  const rowOf = async (txnNo: string) =>
    (await findDeductionByTxn(stack.app.deps.db, stack.school.id, txnNo))!;

  it('asks Alipay first when staff collect now a swipe whose last charge got no answer: found paid, COLLECTED without another trade.pay', async () => {
    const payer = await signedPayer();
    const approved = await approve(payer.card.cardNo, 760);
    // A refusal that may pass: RETRYING, due again only in a minute.
    await stack.alipay.control.injectApiFault({
      method: 'alipay.trade.pay',
      times: 1,
      error: { subCode: 'ACQ.SELLER_BALANCE_NOT_ENOUGH' },
    });
    assert.equal((await collectorTurn(approved.txnNo)).status, 'RETRYING');
    const id = (await rowOf(approved.txnNo)).id;
    const collectNow = () => collectDeductionNow(stack.app.deps, TEST_OPERATOR, stack.school.id, id);

    // Staff collect now; the charge goes through at Alipay but its answer is lost, and so is the query's.
    await stack.alipay.control.injectApiFault({
      method: 'alipay.trade.pay',
      times: 1,
      hangMs: 800,
      applyEffect: true,
    });
    await stack.alipay.control.injectApiFault({
      method: 'alipay.trade.query',
      times: 1,
      error: { subCode: 'ACQ.SYSTEM_ERROR' },
    });
    assert.deepEqual((await collectNow()).status, 'RETRYING');
    const open = await rowOf(approved.txnNo);
    assert.deepEqual([open.chargeState, open.attempts], ['UNKNOWN', 2], 'two trade.pay calls so far');

    // Collect now again: the open charge is asked about, found paid, and not charged a second time.
    const done = await collectNow();
    assert.deepEqual([done.changed, done.status], [true, 'COLLECTED']);
    const row = await rowOf(approved.txnNo);
    assert.deepEqual(
      [row.attempts, row.reversedAt],
      [2, null],
      'no third trade.pay; collected, not reversed',
    );
    const { rows: attempts } = await stack.app.deps.pool.query(
      'select outcome from deduction_attempts where deduction_id = $1 order by id',
      [id],
    );
    assert.equal(attempts.at(-1).outcome, 'PAID_ON_POLL');
    const { trades, paid } = await chargesOf(stack, approved.deductionId);
    assert.deepEqual([trades.length, paid.length], [1, 1]);
  });

  it('gives back every row of a stopping collector at once, only while its lease is ours, unmarking only rows never sent', async () => {
    const payer = await signedPayer();
    // Left marked by a collector killed before its trade.pay: claimed again below, not fresh (queried first).
    const crashed = await approve(payer.card.cardNo, 110);
    await claimAll(200);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const [first, second] = [await approve(payer.card.cardNo, 120), await approve(payer.card.cardNo, 130)];
    const claimed = await claimAll(60_000);
    const mine = [crashed, first, second].map((a) => claimed.find((row) => row.txnNo === a.txnNo)!);
    assert.deepEqual(
      mine.map((row) => row?.isFreshCharge),
      [false, true, true],
    );
    // A row this collector no longer holds (its lease ran out and another collector took it): not touched.
    const other = await approve(payer.card.cardNo, 140);
    const [taken] = (await claimAll(60_000)).filter((row) => row.txnNo === other.txnNo);
    const stale = { ...taken, leaseUntil: new Date(taken.leaseUntil!.getTime() - 30_000) };
    // A row no collector holds (no lease): nothing to give back.
    const unheld = await approve(payer.card.cardNo, 150);

    await releaseLeases(stack.app.deps.db, [...mine, stale, await rowOf(unheld.txnNo)]);
    const after = await Promise.all([crashed, first, second, other, unheld].map((a) => rowOf(a.txnNo)));
    assert.deepEqual(
      after.map((row) => [row.leaseUntil, row.chargeState]),
      [
        [null, 'UNKNOWN'],
        [null, null],
        [null, null],
        [taken.leaseUntil, 'UNKNOWN'],
        [null, null],
      ],
    );
  });

  it('gives a row back after an error of our own with only the time to look again, while its lease is ours', async () => {
    const payer = await signedPayer();
    const approved = await approve(payer.card.cardNo, 150);
    const [row] = (await claimAll(60_000)).filter((r) => r.txnNo === approved.txnNo);
    const lookAgainAt = new Date(Date.now() + 5_000);
    const now = new Date();

    await releaseLease(stack.app.deps.db, row.id, new Date(row.leaseUntil!.getTime() - 1), lookAgainAt, now);
    assert.deepEqual((await rowOf(approved.txnNo)).leaseUntil, row.leaseUntil, 'another lease: not ours');

    await releaseLease(stack.app.deps.db, row.id, row.leaseUntil!, lookAgainAt, now);
    const released = await rowOf(approved.txnNo);
    assert.deepEqual(
      [
        released.leaseUntil,
        released.nextAttemptAt,
        released.updatedAt,
        released.chargeState,
        released.status,
      ],
      [null, lookAgainAt, now, 'UNKNOWN', 'PENDING'],
    );
  });

  it('gives a row back, to be looked at one poll interval later, when its attempt fails with an error of our own', async () => {
    const payer = await signedPayer();
    const approved = await approve(payer.card.cardNo, 160);
    const row = await claim(approved.txnNo, 60_000);
    const now = new Date();
    // No Alipay client: the attempt throws before any call (a bug or our own database would do the same).
    const broken = { ...stack.app.deps, alipay: undefined, clock: { now: () => now } };
    assert.equal(await collectDeduction(broken, row, { school: stack.school }), undefined);
    const released = await rowOf(approved.txnNo);
    assert.deepEqual(
      [released.leaseUntil, released.nextAttemptAt, released.status, released.attempts, released.chargeState],
      [
        null,
        new Date(now.getTime() + stack.app.deps.config.deductions.pollIntervalMs),
        'PENDING',
        0,
        'UNKNOWN',
      ],
      "given back with the time to look again; the claim's mark stays (nothing was sent, the query will say so)",
    );

    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.equal((await settle(approved.txnNo)).status, 'COLLECTED');
    assert.equal((await chargesOf(stack, approved.deductionId)).paid.length, 1);
  });

  it('records nothing of an attempt whose lease was lost meanwhile: the holder of the lease finds the money by query', async () => {
    const payer = await signedPayer();
    const approved = await approve(payer.card.cardNo, 170);
    const held = await claim(approved.txnNo, 300);
    // This collector's lease ran out and another one took the row: our attempt's lease is not the row's.
    const stale = { ...held, leaseUntil: new Date(held.leaseUntil!.getTime() - 30_000) };
    assert.equal(await collectDeduction(stack.app.deps, stale, { school: stack.school }), undefined);
    const untouched = await rowOf(approved.txnNo);
    assert.deepEqual(
      [untouched.leaseUntil, untouched.status, untouched.attempts, untouched.chargeState],
      [held.leaseUntil, 'PENDING', 0, 'UNKNOWN'],
    );
    assert.equal((await chargesOf(stack, approved.deductionId)).paid.length, 1, 'its trade.pay went through');

    await new Promise((resolve) => setTimeout(resolve, 350));
    const row = await settle(approved.txnNo);
    assert.equal(row.status, 'COLLECTED');
    assert.equal((await chargesOf(stack, approved.deductionId)).paid.length, 1, 'charged once');
  });

  it("holds a swipe while the school's authorization is gone, without a slot, looked at after the school's first retry delay", async () => {
    const payer = await signedPayer();
    const approved = await approve(payer.card.cardNo, 180);
    const firstDelayMs = 60_000 * stack.app.deps.config.deductions.retryScale;
    const dueNow = () =>
      // A second in the past: the claim compares with the test's Date (whole milliseconds), which can fall in
      // the same millisecond as PostgreSQL's now() (microseconds) and read the row as not yet due.
      stack.app.deps.pool.query(
        "update deductions set next_attempt_at = now() - interval '1 second' where deduction_no = $1",
        [approved.deductionId],
      );

    // The school as the drainer read it: suspended because its authorization was cancelled. No call is made.
    const suspended = {
      ...stack.school,
      status: 'SUSPENDED' as const,
      suspensionReason: 'AUTHORIZATION_CANCELLED' as const,
    };
    const now = new Date();
    const atNow = { ...stack.app.deps, clock: { now: () => now } };
    const row = await claim(approved.txnNo, 60_000);
    assert.equal(await collectDeduction(atNow, row, { school: suspended }), 'WAITING_FOR_AUTHORIZATION');
    const held = await rowOf(approved.txnNo);
    assert.deepEqual(
      [
        held.status,
        held.attempts,
        held.retriesUsed,
        held.chargeState,
        held.lastErrorCode,
        held.nextAttemptAt,
      ],
      ['PENDING', 0, 0, null, 'SCHOOL_SUSPENDED', new Date(now.getTime() + firstDelayMs)],
    );
    assert.equal((await chargesOf(stack, approved.deductionId)).trades.length, 0, 'no call to Alipay');

    // Alipay refuses the school's token on the call itself (20001): held the same way, the call counted.
    await stack.alipay.control.injectApiFault({
      method: 'alipay.trade.pay',
      times: 1,
      error: { code: '20001', subCode: 'aop.invalid-app-auth-token' },
    });
    await dueNow();
    const refused = await claim(approved.txnNo, 60_000);
    assert.equal(
      await collectDeduction(atNow, refused, { school: stack.school }),
      'WAITING_FOR_AUTHORIZATION',
    );
    const again = await rowOf(approved.txnNo);
    assert.deepEqual(
      [
        again.status,
        again.attempts,
        again.retriesUsed,
        again.chargeState,
        again.lastErrorCode,
        again.nextAttemptAt,
      ],
      ['PENDING', 1, 0, null, 'aop.invalid-app-auth-token', new Date(now.getTime() + firstDelayMs)],
    );

    // Authorized again: collected under the same number, no slot used, never a debt.
    await dueNow();
    const collected = await settle(approved.txnNo);
    assert.deepEqual([collected.status, collected.retriesUsed], ['COLLECTED', 0]);
    const { trades, paid } = await chargesOf(stack, approved.deductionId);
    assert.deepEqual([trades.map((t) => t.outTradeNo), paid.length], [[approved.deductionId], 1]);
  });

  it('puts a swipe with no agreement left to charge in arrears at once, without a call', async () => {
    const payer = await signedPayer();
    const approved = await approve(payer.card.cardNo, 190);
    await stack.app.deps.pool.query('update deductions set agreement_id = null where deduction_no = $1', [
      approved.deductionId,
    ]);
    const row = await collectorTurn(approved.txnNo);
    assert.deepEqual(
      [row.status, row.attempts, row.lastErrorCode, row.nextAttemptAt, row.chargeState],
      ['ARREARS', 0, 'NO_AGREEMENT', null, null],
    );
    assert.equal((await chargesOf(stack, approved.deductionId)).trades.length, 0);
  });
});
