import assert from 'node:assert/strict';
import type { CampusCodeUploadAnswer } from '../../../shared/gateway-api.js';
import { startStack, type Stack } from '../../support/stack.js';
import { eventually } from '../../support/http.js';
import { chargesOf, gatewayFor, type Gateway } from '../withholding/helpers.js';
import { issuedCode, uploadBatch, waitForCampusCodePayment } from './helpers.js';

/**
 * Charging accepted campus-code payments at Alipay (DESIGN §7.5, ALIPAY.md §4.4, §4.16): whatever Alipay
 * answers, each payment ends with at most one charge on the sandbox ledger. Time is shrunk through
 * configuration: the school's retry schedule is 3 × 300 s scaled by 0.001, trades are polled every 100 ms
 * for 1.5 s, the SDK gives up after 1 s.
 */
describe('paying uploaded campus-code payments at Alipay', () => {
  let stack: Stack;
  let device: Gateway;
  let student: { userId: string };
  let studentCounter = 0;

  before(async function () {
    // Starting the stack (PostgreSQL, sandboxes, server) takes longer than a test on a busy machine.
    this.timeout(120_000);
    stack = await startStack({
      env: {
        DEDUCTION_RETRY_SCALE: '0.001',
        DEDUCTION_POLL_INTERVAL_MS: '100',
        DEDUCTION_POLL_WINDOW_MS: '1500',
        ALIPAY_TIMEOUT_MS: '1000',
      },
      schoolSettings: { retryScheduleSeconds: [300, 300, 300] },
    });
    device = await gatewayFor(stack);
  });
  afterEach(() => stack.alipay.control.clearFaults());
  after(() => stack.stop());

  /** A student with an Alipay balance scans a code at a till; the device uploads it. */
  async function scanned(balanceFen: number, amountFen: number) {
    student = await stack.createUser(balanceFen);
    studentCounter += 1;
    const payment = await issuedCode(
      stack,
      student.userId,
      { studentNo: `S${studentCounter}`, studentName: '王小明' },
      { amountFen },
    );
    const res = await uploadBatch(device, [payment]);
    const [answer] = (res.body as CampusCodeUploadAnswer).results;
    assert.equal(answer.result, 'ACCEPTED', res.text);
    return { txnNo: payment.txnNo, paymentNo: answer.paymentNo!, userId: student.userId };
  }

  async function expectOneCharge(paymentNo: string, amountFen: number) {
    const { paid, refundedFen } = await chargesOf(stack, paymentNo);
    assert.equal(paid.length, 1, 'exactly one paid trade');
    assert.equal(paid[0].totalFen, amountFen);
    assert.equal(refundedFen, 0);
  }

  it('charges the code owner with trade.pay bar_code, the final_data and the terminal id', async () => {
    const sale = await scanned(5_000, 1_250);
    const detail = await waitForCampusCodePayment(device, sale.txnNo, 'PAID');
    assert.equal(detail.attempts[0].outcome, 'PAID');
    await expectOneCharge(sale.paymentNo, 1_250);
    const { trades } = await stack.alipay.control.ledger({ outTradeNo: sale.paymentNo });
    assert.equal(trades[0].buyerUserId, sale.userId);
    assert.equal(trades[0].productCode, 'FACE_TO_FACE_PAYMENT');
    assert.equal((await stack.alipay.control.getUser(sale.userId)).balanceFen, 3_750);
  });

  it('retries a student whose balance ran out and charges once when it is back', async () => {
    const sale = await scanned(0, 800);
    const retrying = await waitForCampusCodePayment(device, sale.txnNo, 'RETRYING');
    assert.equal(retrying.attempts[0].code, 'ACQ.BUYER_BALANCE_NOT_ENOUGH');
    await stack.alipay.control.setBalance(sale.userId, 1_000);
    await waitForCampusCodePayment(device, sale.txnNo, 'PAID');
    await expectOneCharge(sale.paymentNo, 800);
  });

  it('gives up (FAILED) when the balance stays short through the school’s schedule', async () => {
    const sale = await scanned(0, 700);
    const failed = await waitForCampusCodePayment(device, sale.txnNo, 'FAILED');
    assert.equal(failed.attempts.length, 4);
    assert.ok(failed.failedAt);
    assert.equal((await chargesOf(stack, sale.paymentNo)).paid.length, 0);
  });

  it('finds the money with a query when Alipay took it but answered SYSTEM_ERROR', async () => {
    await stack.alipay.control.injectApiFault({
      method: 'alipay.trade.pay',
      times: 1,
      error: { subCode: 'ACQ.SYSTEM_ERROR' },
      applyEffect: true,
    });
    const sale = await scanned(5_000, 650);
    const detail = await waitForCampusCodePayment(device, sale.txnNo, 'PAID');
    assert.equal(detail.attempts.at(-1).outcome, 'PAID_FOUND_BY_QUERY');
    await expectOneCharge(sale.paymentNo, 650);
  });

  it('charges once when trade.pay hangs past the SDK timeout after taking the money', async () => {
    await stack.alipay.control.injectApiFault({
      method: 'alipay.trade.pay',
      times: 1,
      hangMs: 2_500,
      applyEffect: true,
    });
    const sale = await scanned(5_000, 420);
    await waitForCampusCodePayment(device, sale.txnNo, 'PAID');
    await expectOneCharge(sale.paymentNo, 420);
  });

  it('pays again under the same out_trade_no when a timed-out call never reached Alipay', async () => {
    await stack.alipay.control.injectApiFault({ method: 'alipay.trade.pay', times: 1, hangMs: 2_500 });
    const sale = await scanned(5_000, 330);
    const detail = await waitForCampusCodePayment(device, sale.txnNo, 'PAID');
    assert.ok(detail.attempts.some((a: { outcome: string }) => a.outcome === 'NO_TRADE'));
    await expectOneCharge(sale.paymentNo, 330);
    assert.equal((await chargesOf(stack, sale.paymentNo)).trades[0].outTradeNo, sale.paymentNo);
  });

  it('polls a 10003 trade until the buyer confirms', async () => {
    await stack.alipay.control.injectApiFault({
      method: 'alipay.trade.pay',
      times: 1,
      payInProcess: { completeAfterMs: 300, outcome: 'success' },
    });
    const sale = await scanned(5_000, 900);
    const detail = await waitForCampusCodePayment(device, sale.txnNo, 'PAID');
    assert.deepEqual(
      [detail.attempts[0].outcome, detail.attempts.at(-1).outcome],
      ['AWAITING_BUYER', 'PAID_ON_POLL'],
    );
    await expectOneCharge(sale.paymentNo, 900);
  });

  it('cancels a 10003 trade nobody confirms and charges the code under a new out_trade_no', async () => {
    await stack.alipay.control.injectApiFault({ method: 'alipay.trade.pay', times: 1, payInProcess: {} });
    const sale = await scanned(5_000, 560);
    await waitForCampusCodePayment(device, sale.txnNo, 'PAID');
    const { trades, paid } = await chargesOf(stack, sale.paymentNo);
    assert.deepEqual(trades.map((t) => [t.outTradeNo, t.status]).sort(), [
      [sale.paymentNo, 'TRADE_CLOSED'],
      [`${sale.paymentNo}_2`, 'TRADE_SUCCESS'],
    ]);
    assert.equal(paid.length, 1);
  });

  it('fails a payment Alipay refuses for good (the code is invalid) without retrying', async () => {
    await stack.alipay.control.injectApiFault({
      method: 'alipay.trade.pay',
      times: 1,
      error: { subCode: 'ACQ.PAYMENT_AUTH_CODE_INVALID' },
    });
    const sale = await scanned(5_000, 210);
    const failed = await waitForCampusCodePayment(device, sale.txnNo, 'FAILED');
    assert.deepEqual(
      failed.attempts.map((a: { code: string }) => a.code),
      ['ACQ.PAYMENT_AUTH_CODE_INVALID'],
    );
    const { rows } = await stack.app.deps.pool.query(
      'select final_data_enc from campus_code_payments where payment_no = $1',
      [sale.paymentNo],
    );
    assert.equal(rows[0].final_data_enc, null, 'the code is not kept once it cannot be charged');
  });

  it('charges each of many payments in flight at once exactly once', async () => {
    const sales = await Promise.all(Array.from({ length: 12 }, (_, i) => scanned(5_000, 100 + i)));
    for (const sale of sales) await waitForCampusCodePayment(device, sale.txnNo, 'PAID');
    await eventually(async () => {
      for (const [i, sale] of sales.entries()) await expectOneCharge(sale.paymentNo, 100 + i);
      return true;
    });
  });
});
