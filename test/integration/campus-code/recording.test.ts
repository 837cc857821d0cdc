import assert from 'node:assert/strict';
import type { CampusCodeUploadAnswer } from '../../../shared/gateway-api.js';
import {
  claimDueCampusCodePayments,
  finishChargeAttempts,
  type ClaimedCampusCodePayment,
} from '../../../server/src/db/repos/campus-code/charges.js';
import { chargeCampusCodePayment } from '../../../server/src/domain/campus-code/payment-charging.js';
import { startStack, type Stack } from '../../support/stack.js';
import { chargesOf, gatewayFor, type Gateway } from '../withholding/helpers.js';
import { issuedCode, uploadBatch } from './helpers.js';

/**
 * The drainer records the attempts that end together in one statement (one commit for many payments).
 * A payment counts as done only once its own attempt is committed; until then the claim's "possibly
 * charged" mark stays on it, so a process that dies after Alipay answered but before the commit leaves a
 * payment the next drainer asks Alipay about, never one it charges again.
 *
 * This suite plays the drainer itself (the API process runs no jobs) to stop it exactly there.
 */
describe('recording campus-code charge attempts', () => {
  let stack: Stack;
  let device: Gateway;
  let counter = 0;

  before(async function () {
    this.timeout(120_000);
    stack = await startStack({
      env: {
        ROLE: 'api',
        DEDUCTION_POLL_INTERVAL_MS: '50',
        CAMPUS_CODE_LEASE_MS: '1000',
        ALIPAY_TIMEOUT_MS: '1000',
      },
    });
    device = await gatewayFor(stack);
  });
  after(() => stack.stop());

  async function accepted(amountFen: number) {
    const student = await stack.createUser(100_000);
    counter += 1;
    const payment = await issuedCode(
      stack,
      student.userId,
      { studentNo: `R${counter}`, studentName: '李华' },
      { amountFen },
    );
    const res = await uploadBatch(device, [payment]);
    const [answer] = (res.body as CampusCodeUploadAnswer).results;
    assert.equal(answer.result, 'ACCEPTED', res.text);
    return answer.paymentNo!;
  }

  async function claim(paymentNos: string[], leaseMs = 1000): Promise<ClaimedCampusCodePayment[]> {
    const now = new Date();
    const rows = await claimDueCampusCodePayments(stack.app.deps.db, {
      now,
      leaseUntil: new Date(now.getTime() + leaseMs),
      limit: 1000,
    });
    const mine = rows.filter((row) => paymentNos.includes(row.paymentNo));
    assert.equal(mine.length, paymentNos.length, 'claimed');
    return mine;
  }

  async function payment(paymentNo: string) {
    const { rows } = await stack.app.deps.pool.query(
      `select status, charge_state, attempts, lease_until from campus_code_payments where payment_no = $1`,
      [paymentNo],
    );
    return rows[0];
  }

  async function outcomes(paymentNo: string): Promise<string[]> {
    const { rows } = await stack.app.deps.pool.query(
      `select a.outcome from campus_code_attempts a join campus_code_payments p on p.id = a.payment_id
       where p.payment_no = $1 order by a.id`,
      [paymentNo],
    );
    return rows.map((row) => row.outcome);
  }

  it('asks Alipay first about a payment charged by a drainer that died before committing the answer', async () => {
    const paymentNo = await accepted(880);
    const [row] = await claim([paymentNo], 200);
    await assert.rejects(
      chargeCampusCodePayment(stack.app.deps, row, {
        school: stack.school,
        finishAttempt: () => Promise.reject(new Error('the process died before its commit')),
      }),
      /died before its commit/,
    );
    assert.equal((await chargesOf(stack, paymentNo)).paid.length, 1, 'Alipay took the money');
    const left = await payment(paymentNo);
    assert.equal(left.status, 'PENDING');
    assert.equal(left.charge_state, 'UNKNOWN', 'still marked as possibly charged');

    await new Promise((resolve) => setTimeout(resolve, 300)); // the dead drainer's lease runs out
    const [again] = await claim([paymentNo]);
    assert.equal(again.isFreshCharge, false, 'the next drainer does not take it for a fresh charge');
    await chargeCampusCodePayment(stack.app.deps, again, { school: stack.school });

    assert.equal((await payment(paymentNo)).status, 'PAID');
    assert.deepEqual(await outcomes(paymentNo), ['PAID_ON_POLL'], 'found paid by a query, no trade.pay');
    const { trades, paid } = await chargesOf(stack, paymentNo);
    assert.equal(trades.length, 1, 'never charged a second time');
    assert.equal(paid.length, 1);
  });

  it('records many attempts in one statement, leaving out only the payment whose lease was lost', async () => {
    const paymentNos = [await accepted(101), await accepted(102), await accepted(103)];
    const rows = await claim(paymentNos);
    const ended = new Date();
    const attempt = (tradeNo: string) => ({
      outcome: 'PAID',
      isPayCall: true,
      status: 'PAID' as const,
      nextAttemptAt: null,
      chargeState: null,
      chargeOpenSince: null,
      outTradeNo: '',
      alipayTradeNo: tradeNo,
      lastErrorCode: null,
    });
    const moved = await finishChargeAttempts(
      stack.app.deps.db,
      rows.map((row, i) => ({
        id: row.id,
        // The third drainer's lease ran out and another took the payment over: its answer is not ours to record.
        lease: i === 2 ? new Date(row.leaseUntil!.getTime() - 1) : row.leaseUntil!,
        attempt: { ...attempt(`T${i}`), outTradeNo: row.outTradeNo! },
        now: ended,
      })),
    );
    assert.deepEqual(
      [...moved].sort(),
      rows
        .slice(0, 2)
        .map((row) => row.id)
        .sort(),
    );
    for (const paymentNo of paymentNos.slice(0, 2)) {
      const row = await payment(paymentNo);
      assert.equal(row.status, 'PAID');
      assert.equal(row.attempts, 1);
      assert.equal(row.lease_until, null);
      assert.deepEqual(await outcomes(paymentNo), ['PAID']);
    }
    const untouched = await payment(paymentNos[2]);
    assert.equal(untouched.status, 'PENDING');
    assert.equal(untouched.charge_state, 'UNKNOWN');
    assert.deepEqual(await outcomes(paymentNos[2]), []);
  });
});
