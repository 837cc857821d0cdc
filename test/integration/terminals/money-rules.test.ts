import assert from 'node:assert/strict';
import type { TerminalOrderAnswer } from '../../../shared/gateway-api.js';
import { terminalNotification } from '../../../server/src/domain/terminals/payments.js';
import { payTerminalOrderInApp, terminalOrderPage } from '../../../server/src/domain/terminals/payments.js';
import { attemptTerminalRefund } from '../../../server/src/domain/terminals/refunds.js';
import {
  attemptSettlement,
  nextSettleRequestNo,
  terminalSettleMessage,
} from '../../../server/src/domain/terminals/settle.js';
import {
  applyMissedTerminalPayment,
  sweepTerminalOrders,
} from '../../../server/src/domain/terminals/lifecycle.js';
import { DomainError } from '../../../server/src/domain/errors.js';
import { retryFailedTerminalRefunds } from '../../../server/src/domain/terminals/inbox-actions.js';
import { TEST_OPERATOR } from '../../support/admins.js';
import { OffsetClock } from '../../support/clock.js';
import { eventually } from '../../support/http.js';
import { startStack, type Stack } from '../../support/stack.js';
import { userWithCard } from '../student/helpers.js';
import {
  CHIPS,
  COLA,
  vendingMachine,
  type TerminalOrderRecord,
  type TerminalRefundRecord,
  operatorWithRoyaltyMachine,
  paidTerminalForm,
} from './helpers.js';

type Machine = Awaited<ReturnType<typeof vendingMachine>>;

type RefundRow = TerminalRefundRecord;
type OrderRow = TerminalOrderRecord;

/**
 * The money rules of terminal orders one at a time (issue 20, mutation testing of issue 15's code): which
 * payment pays an order and which is refunded whole, the failed items' refund and its schedule, the royalty
 * taken back or settled, and what each Alipay answer makes of them. Attempts are driven by hand on the BFF's
 * clock (the jobs would run them later in real time); the schedule is 90 s, 150 s, 210 s so that each step
 * is told apart (and from an attempt's 60 s lease).
 */
describe('terminal money rules, one at a time', function () {
  this.timeout(120_000);
  let stack: Stack;
  const clock = new OffsetClock();
  const RETRY = [90_000, 150_000, 210_000];

  before(async function () {
    this.timeout(180_000);
    stack = await startStack({
      clock,
      env: { TERMINAL_RETRY_MS: RETRY.join(','), TERMINAL_SWEEP_EVERY_MS: '3600000' },
    });
  });
  afterEach(() => stack.alipay.control.clearFaults());
  after(() => stack?.stop());

  const deps = () => stack.app.deps;

  async function refundOf(outRequestNo: string): Promise<RefundRow> {
    const { rows } = await deps().pool.query('select * from refunds where out_request_no = $1', [
      outRequestNo,
    ]);
    assert.equal(rows.length, 1, `one refund ${outRequestNo}`);
    return rows[0] as RefundRow;
  }

  async function orderOf(orderNo: string): Promise<OrderRow> {
    const { rows } = await deps().pool.query('select * from terminal_orders where order_no = $1', [orderNo]);
    return rows[0] as OrderRow;
  }

  async function paymentStatus(outTradeNo: string): Promise<string> {
    const { rows } = await deps().pool.query('select status from terminal_payments where out_trade_no = $1', [
      outTradeNo,
    ]);
    return rows[0]?.status as string;
  }

  async function tradeOf(outTradeNo: string) {
    return (await stack.alipay.control.ledger({ outTradeNo })).trades[0];
  }

  async function balanceOf(accountId: string): Promise<number> {
    return (await stack.alipay.control.getAccount(accountId)).balanceFen;
  }

  async function paidByQr(machine: Machine, items = [COLA]) {
    const { body: order } = await machine.createOrder(items);
    const buyer = await stack.createUser();
    const scan = await stack.alipay.control.scanQrCode({ qrCode: order.pay.qrCode!, userId: buyer.userId });
    assert.equal(scan.resultCode, '9000');
    await machine.acknowledgedCallback(order.outOrderNo);
    return { order, buyer };
  }

  /** The gap between a failed attempt (updated_at) and the next one it set. */
  function delayOf(row: { next_attempt_at: Date | null; updated_at: Date }): number {
    return row.next_attempt_at!.getTime() - row.updated_at.getTime();
  }

  function assertDelay(row: RefundRow, expected: number) {
    const delay = delayOf(row);
    assert.ok(
      delay >= expected && delay < expected + 5_000,
      `next attempt ${delay} ms after, want ${expected}`,
    );
  }

  /**
   * The refund once its `attempts`-th attempt is over: an attempt first records its outcome, then sets the
   * next attempt (replacing its 60 s lease), or none when it is over for good.
   */
  async function afterAttempt(outRequestNo: string, attempts: number): Promise<RefundRow> {
    return eventually(
      async () => {
        const r = await refundOf(outRequestNo);
        if (r.attempts !== attempts) return undefined;
        if (r.status !== 'PENDING') return r.next_attempt_at === null ? r : undefined;
        return r.next_attempt_at && Math.abs(delayOf(r) - 60_000) > 1_000 ? r : undefined;
      },
      { message: `${outRequestNo} after attempt ${attempts}` },
    );
  }

  /** Moves the BFF's clock past the next attempt and makes it, as the job would. */
  async function attemptRefundWhenDue(row: RefundRow): Promise<RefundRow> {
    clock.advance(row.next_attempt_at!.getTime() - clock.now().getTime() + 1_000);
    await attemptTerminalRefund(deps(), row.id);
    return refundOf(row.out_request_no);
  }

  function paidForm(order: TerminalOrderAnswer, outTradeNo: string, fields: Record<string, string> = {}) {
    return paidTerminalForm(stack, order, outTradeNo, fields);
  }

  describe('the refund of items a machine did not give out', () => {
    let machine: Machine;
    before(async () => {
      machine = await vendingMachine(stack);
    });
    after(() => machine.stop());

    it('refunds exactly the failed lines once, under `<order no>D`, and names what failed', async () => {
      const { order, buyer } = await paidByQr(machine, [COLA, CHIPS]);
      const paid = await balanceOf(buyer.userId);
      // The last line (index 1) is a valid line; 1 of its 2 bags is at most its quantity.
      const report = { result: 'FAILED' as const, failedItems: [{ index: 1, quantity: 1 }] };
      const answer = await machine.reportDispensed(order.outOrderNo, report);
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.deepEqual([answer.body.dispense?.result, answer.body.dispense?.refundFen], ['PARTIAL', 450]);
      const refunded = await afterAttempt(`${order.orderNo}D`, 1);
      assert.deepEqual(
        [refunded.kind, refunded.out_trade_no, refunded.amount_fen, refunded.reason, refunded.attempts],
        ['TERMINAL_DISPENSE', `${order.orderNo}Q`, 450, 'some items were not dispensed', 1],
      );
      assert.equal(refunded.royalty_returns, null, 'no royalty on a plain terminal');
      assert.equal(refunded.next_attempt_at, null);
      const trade = await tradeOf(`${order.orderNo}Q`);
      assert.deepEqual(
        trade.refunds.map((r) => [r.outRequestNo, r.amountFen, r.reason]),
        [[`${order.orderNo}D`, 450, '出货失败退款']],
      );
      assert.equal(await balanceOf(buyer.userId), paid + 450);
    });

    it('calls an order FAILED when every line is named, whatever the order of the lines; the same report again is the same', async () => {
      const { order } = await paidByQr(machine, [COLA, CHIPS]);
      const lines = [
        { index: 1, quantity: 2 },
        { index: 0, quantity: 1 },
      ];
      const first = await machine.reportDispensed(order.outOrderNo, { result: 'FAILED', failedItems: lines });
      assert.deepEqual([first.body.dispense?.result, first.body.dispense?.refundFen], ['FAILED', 1_200]);
      const again = await machine.reportDispensed(order.outOrderNo, {
        result: 'FAILED',
        failedItems: [...lines].reverse(),
      });
      assert.equal(again.status, 200, 'the same lines in another order are the same report');
      const other = await machine.reportDispensed(order.outOrderNo, {
        result: 'FAILED',
        failedItems: [
          { index: 0, quantity: 1 },
          { index: 1, quantity: 1 },
        ],
      });
      assert.equal(other.status, 409);
      assert.equal((other.body as unknown as { error: { code: string } }).error.code, 'DISPENSE_CONFLICT');
      const row = await refundOf(`${order.orderNo}D`);
      assert.deepEqual([row.amount_fen, row.reason], [1_200, 'nothing was dispensed']);
    });

    it('takes a FAILED report with an empty list of lines as nothing given out: the whole order refunded', async () => {
      const { order } = await paidByQr(machine, [COLA, CHIPS]);
      const answer = await machine.reportDispensed(order.outOrderNo, { result: 'FAILED', failedItems: [] });
      assert.deepEqual([answer.body.dispense?.result, answer.body.dispense?.refundFen], ['FAILED', 1_200]);
      const row = await refundOf(`${order.orderNo}D`);
      assert.deepEqual([row.amount_fen, row.reason], [1_200, 'nothing was dispensed']);
    });

    it('takes an operator’s share paid with the trade (ON_PAYMENT) back in proportion from the failed part, and plans no split after dispensing', async () => {
      const { operator, machine: royaltyMachine } = await operatorWithRoyaltyMachine(
        stack,
        '出货分账运营商',
        { bps: 3_000, timing: 'ON_PAYMENT' },
      );
      try {
        const { order } = await paidByQr(royaltyMachine, [COLA, CHIPS]);
        await royaltyMachine.reportDispensed(order.outOrderNo, {
          result: 'FAILED',
          failedItems: [{ index: 1, quantity: 2 }],
        });
        // 30 % of 1,200 fen is 360, paid with the trade; 900 fen refunded takes back 360 × 900 / 1,200 = 270.
        const refund = await refundOf(`${order.orderNo}D`);
        assert.deepEqual(
          [refund.amount_fen, refund.royalty_returns],
          [900, [{ account: operator.accountId, amountFen: 270 }]],
        );
        const row = await orderOf(order.orderNo);
        assert.deepEqual([row.settle_status, row.settle_fen, row.settle_out_request_no], [null, null, null]);
      } finally {
        await royaltyMachine.stop();
      }
    });

    it('refuses a report naming a line that is not there, twice, or more than was bought, naming the field', async () => {
      const { order } = await paidByQr(machine, [COLA, CHIPS]);
      const cases: Array<[Array<{ index: number; quantity: number }>, string, RegExp]> = [
        [[{ index: 2, quantity: 1 }], 'body.failedItems.0.index', /below 2/],
        [
          [
            { index: 0, quantity: 1 },
            { index: 0, quantity: 1 },
          ],
          'body.failedItems.1.index',
          /once/,
        ],
        [[{ index: 1, quantity: 3 }], 'body.failedItems.0.quantity', /at most 2/],
      ];
      for (const [failedItems, field, message] of cases) {
        const res = await machine.reportDispensed(order.outOrderNo, { result: 'FAILED', failedItems });
        assert.equal(res.status, 400, field);
        const error = (res.body as unknown as { error: { field: string; message: string } }).error;
        assert.equal(error.field, field);
        assert.match(error.message, message);
      }
      assert.equal((await orderOf(order.orderNo)).dispense_result, null, 'nothing recorded');
      const ok = await machine.reportDispensed(order.outOrderNo, { result: 'OK' });
      assert.deepEqual([ok.body.dispense?.result, ok.body.dispense?.refundFen], ['OK', 0]);
      const { rows } = await deps().pool.query('select 1 from refunds where out_request_no = $1', [
        `${order.orderNo}D`,
      ]);
      assert.equal(rows.length, 0, 'nothing to refund when everything came out');
    });

    it('refuses a report for an order nobody paid, and for an order the machine never made', async () => {
      const { body: order } = await machine.createOrder([COLA]);
      const unpaid = await machine.reportDispensed(order.outOrderNo, { result: 'OK' });
      assert.equal(unpaid.status, 409);
      assert.equal((unpaid.body as unknown as { error: { code: string } }).error.code, 'ORDER_NOT_PAID');
      const unknown = await machine.reportDispensed(`NOPE${Date.now()}`, { result: 'OK' });
      assert.equal(unknown.status, 404);
    });

    it('tries a refund Alipay cannot make now again on the schedule, then leaves it FAILED for the admins', async () => {
      const { order, buyer } = await paidByQr(machine);
      const paid = await balanceOf(buyer.userId);
      await stack.alipay.control.injectApiFault({
        method: 'alipay.trade.refund',
        times: 4,
        error: { subCode: 'ACQ.SYSTEM_ERROR' },
      });
      await machine.reportDispensed(order.outOrderNo, { result: 'FAILED' });
      let row = await afterAttempt(`${order.orderNo}D`, 1);
      assert.deepEqual([row.status, row.last_error], ['PENDING', 'ACQ.SYSTEM_ERROR']);
      assertDelay(row, RETRY[0]);
      // The next attempt is the refund job's, for this refund, at that time.
      const { rows: jobs } = await deps().pool.query(
        `select data->>'refundId' as refund_id from agenda_jobs
          where name = 'terminal.refund' and data->>'refundId' = $1 and next_run_at = $2`,
        [row.id, row.next_attempt_at],
      );
      assert.equal(jobs.length, 1, 'the refund job is scheduled for this refund');
      row = await attemptRefundWhenDue(row);
      assert.deepEqual([row.status, row.attempts], ['PENDING', 2]);
      assertDelay(row, RETRY[1]);
      row = await attemptRefundWhenDue(row);
      assert.deepEqual([row.status, row.attempts], ['PENDING', 3]);
      assertDelay(row, RETRY[2]);
      row = await attemptRefundWhenDue(row);
      assert.deepEqual([row.status, row.attempts, row.next_attempt_at], ['FAILED', 4, null]);
      assert.ok(row.completed_at, 'FAILED is final until an admin acts');
      assert.equal((await tradeOf(`${order.orderNo}Q`)).refunds.length, 0);
      assert.equal(await balanceOf(buyer.userId), paid);
    });

    it('takes a refusal of the first attempt as final without asking (nothing was tried before)', async () => {
      const { order } = await paidByQr(machine);
      await stack.alipay.control.injectApiFault({
        method: 'alipay.trade.refund',
        times: 1,
        error: { subCode: 'ACQ.TRADE_NOT_ALLOW_REFUND' },
      });
      // Were it asked, this question would get no answer and the refund would wait instead.
      await stack.alipay.control.injectApiFault({
        method: 'alipay.trade.fastpay.refund.query',
        times: 1,
        error: { subCode: 'ACQ.SYSTEM_ERROR' },
      });
      await machine.reportDispensed(order.outOrderNo, { result: 'FAILED' });
      const row = await afterAttempt(`${order.orderNo}D`, 1);
      assert.deepEqual(
        [row.status, row.last_error, row.next_attempt_at],
        ['FAILED', 'ACQ.TRADE_NOT_ALLOW_REFUND', null],
      );
    });

    it('keeps the first 500 characters of a refusal’s reason as the refund’s last error', async () => {
      const { order } = await paidByQr(machine);
      const subCode = `ACQ.${'X'.repeat(600)}`;
      await stack.alipay.control.injectApiFault({
        method: 'alipay.trade.refund',
        times: 1,
        error: { subCode },
      });
      await machine.reportDispensed(order.outOrderNo, { result: 'FAILED' });
      const row = await afterAttempt(`${order.orderNo}D`, 1);
      assert.deepEqual([row.status, row.last_error], ['FAILED', subCode.slice(0, 500)]);
    });

    it('asks Alipay before taking a refusal that follows an unanswered attempt: refunded there is SUCCEEDED, once', async () => {
      const { order, buyer } = await paidByQr(machine);
      const paid = await balanceOf(buyer.userId);
      // The first attempt refunds at Alipay but its answer is lost.
      await stack.alipay.control.injectApiFault({
        method: 'alipay.trade.refund',
        times: 1,
        error: { subCode: 'ACQ.SYSTEM_ERROR' },
        applyEffect: true,
      });
      await machine.reportDispensed(order.outOrderNo, { result: 'FAILED' });
      let row = await afterAttempt(`${order.orderNo}D`, 1);
      assert.equal(row.status, 'PENDING');
      await stack.alipay.control.injectApiFault({
        method: 'alipay.trade.refund',
        times: 1,
        error: { subCode: 'ACQ.TRADE_NOT_ALLOW_REFUND' },
      });
      row = await attemptRefundWhenDue(row);
      assert.deepEqual(
        [row.status, row.attempts, row.last_error, row.next_attempt_at],
        ['SUCCEEDED', 2, null, null],
      );
      assert.equal((await tradeOf(`${order.orderNo}Q`)).refunds.length, 1, 'refunded exactly once');
      assert.equal(await balanceOf(buyer.userId), paid + 300);
    });

    it('keeps trying when neither the refusal nor the question can be trusted, and fails a refusal Alipay confirms', async () => {
      const { order, buyer } = await paidByQr(machine);
      const paid = await balanceOf(buyer.userId);
      await stack.alipay.control.injectApiFault({
        method: 'alipay.trade.refund',
        times: 1,
        error: { subCode: 'ACQ.SYSTEM_ERROR' },
      });
      await machine.reportDispensed(order.outOrderNo, { result: 'FAILED' });
      let row = await afterAttempt(`${order.orderNo}D`, 1);
      // Refused, but the question whether the first attempt went through gets no answer: not final yet.
      await stack.alipay.control.injectApiFault({
        method: 'alipay.trade.refund',
        times: 1,
        error: { subCode: 'ACQ.TRADE_NOT_ALLOW_REFUND' },
      });
      await stack.alipay.control.injectApiFault({
        method: 'alipay.trade.fastpay.refund.query',
        times: 1,
        error: { subCode: 'ACQ.SYSTEM_ERROR' },
      });
      row = await attemptRefundWhenDue(row);
      assert.deepEqual(
        [row.status, row.attempts, row.last_error],
        ['PENDING', 2, 'ACQ.TRADE_NOT_ALLOW_REFUND'],
      );
      assertDelay(row, RETRY[1]);
      // Refused again, and Alipay says nothing was refunded: FAILED now, with schedule left.
      await stack.alipay.control.injectApiFault({
        method: 'alipay.trade.refund',
        times: 1,
        error: { subCode: 'ACQ.TRADE_NOT_ALLOW_REFUND' },
      });
      row = await attemptRefundWhenDue(row);
      assert.deepEqual([row.status, row.attempts, row.next_attempt_at], ['FAILED', 3, null]);
      assert.equal(await balanceOf(buyer.userId), paid);

      // An admin retries it from the inbox: refused again it says so, then it goes through, once.
      await stack.alipay.control.injectApiFault({
        method: 'alipay.trade.refund',
        times: 1,
        error: { subCode: 'ACQ.TRADE_NOT_ALLOW_REFUND' },
      });
      const retry = () =>
        retryFailedTerminalRefunds(deps(), TEST_OPERATOR, stack.school.id, row.terminal_order_id);
      assert.equal((await retry()).status, 'REFUND_FAILED');
      assert.equal((await retry()).status, 'REFUNDED');
      assert.equal((await retry()).status, 'NO_FAILED_REFUND');
      assert.equal(await balanceOf(buyer.userId), paid + 300);
      assert.equal((await tradeOf(`${order.orderNo}Q`)).refunds.length, 1);
    });
  });

  describe('which payment pays an order', () => {
    let machine: Machine;
    before(async () => {
      machine = await vendingMachine(stack);
    });
    after(() => machine.stop());

    it('closes the other person’s open trade once the order is paid by QR', async () => {
      const { body: order } = await machine.createOrder([COLA]);
      const late = await stack.createUser();
      const lateApp = await late.login();
      const opened = await lateApp.post(`/api/v1/terminal-orders/${order.orderNo}/pay`);
      assert.equal(opened.status, 200, opened.text);
      const buyer = await stack.createUser();
      await stack.alipay.control.scanQrCode({ qrCode: order.pay.qrCode!, userId: buyer.userId });
      await machine.acknowledgedCallback(order.outOrderNo);
      await eventually(async () => (await paymentStatus(`${order.orderNo}M1`)) === 'CLOSED', {
        message: 'the mini-program payment closed',
      });
      assert.equal((await tradeOf(`${order.orderNo}M1`)).status, 'TRADE_CLOSED');
      assert.equal((await lateApp.get(`/api/v1/terminal-orders/${order.orderNo}`)).body.state, 'PAID');
    });

    it('cancels the QR trade once the order is paid in the mini-program', async () => {
      const { body: order } = await machine.createOrder([COLA]);
      const buyer = await stack.createUser();
      const app = await buyer.login();
      const pay = await app.post(`/api/v1/terminal-orders/${order.orderNo}/pay`);
      await stack.alipay.control.payTrade({ tradeNO: pay.body.tradeNo, userId: buyer.userId });
      await machine.acknowledgedCallback(order.outOrderNo);
      await eventually(async () => (await paymentStatus(`${order.orderNo}Q`)) === 'CLOSED', {
        message: 'the QR payment closed',
      });
      const scan = await stack.alipay.control.scanQrCode({
        qrCode: order.pay.qrCode!,
        userId: (await stack.createUser()).userId,
      });
      assert.notEqual(scan.resultCode, '9000', 'the QR cannot be paid any more');
    });

    it('refunds whole, once, a payment of an order someone else paid first (its trade could not be closed), royalty first', async () => {
      const { operator, machine: royaltyMachine } = await operatorWithRoyaltyMachine(
        stack,
        '二次付款运营商',
        { bps: 3_000, timing: 'ON_PAYMENT' },
      );
      try {
        const { body: order } = await royaltyMachine.createOrder([COLA]);
        const late = await stack.createUser();
        const lateApp = await late.login();
        const opened = await lateApp.post(`/api/v1/terminal-orders/${order.orderNo}/pay`);
        assert.equal(opened.status, 200, opened.text);
        await stack.alipay.control.injectApiFault({
          method: 'alipay.trade.close',
          times: 1,
          error: { subCode: 'ACQ.SYSTEM_ERROR' },
        });
        const first = await stack.createUser();
        await stack.alipay.control.scanQrCode({ qrCode: order.pay.qrCode!, userId: first.userId });
        await royaltyMachine.acknowledgedCallback(order.outOrderNo);
        assert.equal(await paymentStatus(`${order.orderNo}M1`), 'CREATED', 'the close got no answer');

        const before = await balanceOf(late.userId);
        const paid = await stack.alipay.control.payTrade({
          tradeNO: opened.body.tradeNo,
          userId: late.userId,
        });
        assert.equal(paid.resultCode, '9000');
        const row = await afterAttempt(`${order.orderNo}M1U`, 1);
        assert.deepEqual(
          [row.kind, row.out_trade_no, row.amount_fen, row.reason],
          ['TERMINAL_UNWANTED_PAYMENT', `${order.orderNo}M1`, 300, 'the order was paid another way'],
        );
        // 30 % of 300 = 90 went to the operator with the payment; all of it comes back first.
        assert.deepEqual(row.royalty_returns, [{ account: operator.accountId, amountFen: 90 }]);
        assert.equal(await balanceOf(late.userId), before);
        const trade = await tradeOf(`${order.orderNo}M1`);
        assert.deepEqual(
          trade.refunds.map((r) => [r.outRequestNo, r.amountFen, r.reason]),
          [[`${order.orderNo}M1U`, 300, '订单已关闭或已支付，退回重复付款']],
        );
        assert.equal((await orderOf(order.orderNo)).status, 'PAID');
        assert.equal(
          await balanceOf(operator.accountId),
          90,
          'the operator keeps the paid order’s share only',
        );

        // The late payer sees the order paid by someone else, and their payment given back whole.
        assert.equal((await lateApp.get(`/api/v1/terminal-orders/${order.orderNo}`)).body.state, 'PAID');
        const mine = await lateApp.get('/api/v1/terminal-payments');
        assert.deepEqual(
          mine.body.items.map((i: { orderNo: string; amountFen: number; refundedFen: number }) => [
            i.orderNo,
            i.amountFen,
            i.refundedFen,
          ]),
          [[order.orderNo, 300, 300]],
        );
      } finally {
        await royaltyMachine.stop();
      }
    });

    it('lists a partly dispensed order with the part given back, on the payer’s own card', async () => {
      const { body: order } = await machine.createOrder([COLA, CHIPS]);
      const buyer = await userWithCard(stack);
      const pay = await buyer.api.post(`/api/v1/terminal-orders/${order.orderNo}/pay`);
      await stack.alipay.control.payTrade({ tradeNO: pay.body.tradeNo, userId: buyer.user.userId });
      await machine.acknowledgedCallback(order.outOrderNo);
      await machine.reportDispensed(order.outOrderNo, {
        result: 'FAILED',
        failedItems: [{ index: 0, quantity: 1 }],
      });
      const mine = await buyer.api.get('/api/v1/terminal-payments');
      const { rows } = await deps().pool.query(
        `select card_no, paid_at from terminal_payments where out_trade_no = $1`,
        [`${order.orderNo}M1`],
      );
      assert.equal(rows[0].card_no, buyer.card.cardNo, 'shown on the payer’s own card’s statement');
      const terminal = (
        await deps().pool.query('select name, location from terminals where id = $1', [machine.terminalRef])
      ).rows[0];
      assert.deepEqual(mine.body.items, [
        {
          orderNo: order.orderNo,
          terminalName: terminal.name,
          location: terminal.location,
          amountFen: 1_200,
          paidAt: (rows[0].paid_at as Date).toISOString(),
          refundedFen: 300,
        },
      ]);
    });

    it('gives one person one trade per order, the next person the next number, and nobody a trade for an expired order', async () => {
      const { body: order } = await machine.createOrder([COLA]);
      const a = await stack.createUser();
      const b = await stack.createUser();
      const aApp = await a.login();
      const bApp = await b.login();
      const first = await aApp.post(`/api/v1/terminal-orders/${order.orderNo}/pay`);
      const repeat = await aApp.post(`/api/v1/terminal-orders/${order.orderNo}/pay`);
      const other = await bApp.post(`/api/v1/terminal-orders/${order.orderNo}/pay`);
      assert.equal(first.body.tradeNo, repeat.body.tradeNo, 'the same trade again');
      assert.notEqual(other.body.tradeNo, first.body.tradeNo);
      assert.equal((await tradeOf(`${order.orderNo}M1`)).tradeNo, first.body.tradeNo);
      assert.equal((await tradeOf(`${order.orderNo}M2`)).tradeNo, other.body.tradeNo);
      const trade = await tradeOf(`${order.orderNo}M2`);
      assert.deepEqual(
        [
          trade.totalFen,
          trade.terminalId,
          trade.expiresAt && Math.floor(new Date(trade.expiresAt).getTime() / 1000),
        ],
        [300, order.terminalId, Math.floor(new Date(order.expiresAt).getTime() / 1000)],
        'the machine’s terminal id, expiring with the order',
      );
      const { rows } = await deps().pool.query(
        'select card_no from terminal_payments where out_trade_no = $1',
        [`${order.orderNo}M1`],
      );
      assert.equal(rows[0].card_no, null, 'no card of that school to show it on');
      const page = (await aApp.get(`/api/v1/terminal-orders/${order.orderNo}`)).body;
      const terminal = (
        await deps().pool.query('select name, location, kind from terminals where id = $1', [
          machine.terminalRef,
        ])
      ).rows[0];
      assert.deepEqual(page, {
        orderNo: order.orderNo,
        schoolName: stack.school.name,
        terminal: { name: terminal.name, location: terminal.location, kind: terminal.kind },
        items: [COLA],
        amountFen: 300,
        state: 'PAYABLE',
        expiresAt: order.expiresAt,
      });
      await assert.rejects(
        payTerminalOrderInApp(deps(), '00000000-0000-4000-8000-000000000000', order.orderNo),
        (error: unknown) => error instanceof DomainError && error.code === 'UNAUTHENTICATED',
      );
      await assert.rejects(
        payTerminalOrderInApp(deps(), (await a.login()).id, `T${'9'.repeat(30)}`),
        (error: unknown) => error instanceof DomainError && error.code === 'TERMINAL_ORDER_NOT_FOUND',
      );
      await assert.rejects(
        terminalOrderPage(deps(), (await a.login()).id, `T${'9'.repeat(30)}`),
        (error: unknown) => error instanceof DomainError && error.code === 'TERMINAL_ORDER_NOT_FOUND',
      );

      const expiresAt = new Date(order.expiresAt).getTime();
      clock.advance(expiresAt - clock.now().getTime() + 1_000);
      const c = await (await stack.createUser()).login();
      const late = await c.post(`/api/v1/terminal-orders/${order.orderNo}/pay`);
      assert.equal(late.status, 409);
      assert.equal(late.body.error.code, 'ORDER_NOT_PAYABLE');
      assert.equal(
        (await aApp.get(`/api/v1/terminal-orders/${order.orderNo}`)).body.state,
        'CLOSED',
        'past its time the order shows closed before the sweep closes it',
      );
    });

    it('keeps a mini-program payment whose create got no answer, and closes one Alipay refuses', async () => {
      const { body: order } = await machine.createOrder([COLA]);
      const buyer = await stack.createUser();
      const userId = (await buyer.login()).id;
      await stack.alipay.control.injectApiFault({
        method: 'alipay.trade.create',
        times: 1,
        error: { subCode: 'ACQ.SYSTEM_ERROR' },
      });
      await assert.rejects(payTerminalOrderInApp(deps(), userId, order.orderNo));
      assert.equal(await paymentStatus(`${order.orderNo}M1`), 'CREATED', 'no answer: it may exist at Alipay');
      await stack.alipay.control.injectApiFault({
        method: 'alipay.trade.create',
        times: 1,
        error: { subCode: 'ACQ.INVALID_PARAMETER' },
      });
      await assert.rejects(payTerminalOrderInApp(deps(), userId, order.orderNo));
      assert.equal(await paymentStatus(`${order.orderNo}M1`), 'CLOSED');
      await assert.rejects(payTerminalOrderInApp(deps(), userId, order.orderNo), (error: unknown) => {
        assert.ok(error instanceof DomainError);
        assert.equal(error.code, 'ORDER_NOT_PAYABLE');
        return true;
      });
      const page = await terminalOrderPage(deps(), userId, order.orderNo);
      assert.equal(page.state, 'PAYABLE', 'someone else may still pay it');
    });
  });

  describe('Alipay’s word on a terminal trade', () => {
    let machine: Machine;
    before(async () => {
      machine = await vendingMachine(stack);
    });
    after(() => machine.stop());

    it('applies a paid notification once, checks the amount and the account, closes on TRADE_CLOSED, ignores the rest', async () => {
      const { body: order } = await machine.createOrder([COLA]);
      const qr = `${order.orderNo}Q`;
      const run = (form: Record<string, string>) => terminalNotification.apply(deps(), form);

      assert.deepEqual(await run(paidForm(order, `${order.orderNo}Z`)), {
        outcome: 'REJECTED_UNKNOWN_ORDER',
      });
      assert.equal((await run(paidForm(order, qr, { total_amount: '3.01' }))).outcome, 'REJECTED_AMOUNT');
      assert.equal(
        (await run(paidForm(order, qr, { seller_id: '2088000000000000' }))).outcome,
        'REJECTED_SELLER',
      );
      // A school authorized to an app (ISV mode): a notification naming another app is not its own.
      const { pool } = deps();
      await pool.query(`update schools set alipay_auth_app_id = '2021000000000001' where id = $1`, [
        stack.school.id,
      ]);
      try {
        assert.equal(
          (await run(paidForm(order, qr, { auth_app_id: '2021000000000009' }))).outcome,
          'REJECTED_APP',
        );
      } finally {
        await pool.query('update schools set alipay_auth_app_id = $1 where id = $2', [
          stack.school.alipayAuthAppId,
          stack.school.id,
        ]);
      }
      assert.deepEqual(await run(paidForm(order, qr, { trade_status: 'WAIT_BUYER_PAY' })), {
        outcome: 'IGNORED',
        detail: 'WAIT_BUYER_PAY',
      });
      assert.equal(await paymentStatus(qr), 'CREATED');

      const paid = await run(paidForm(order, qr, { trade_status: 'TRADE_FINISHED' }));
      assert.deepEqual([paid.outcome, paid.detail], ['APPLIED', 'PAID']);
      await paid.after?.();
      assert.equal((await orderOf(order.orderNo)).status, 'PAID');
      const again = await run(paidForm(order, qr));
      assert.deepEqual([again.outcome, again.detail], ['ALREADY_APPLIED', 'ALREADY_APPLIED']);

      const { body: other } = await machine.createOrder([COLA]);
      const closed = await run(paidForm(other, `${other.orderNo}Q`, { trade_status: 'TRADE_CLOSED' }));
      assert.deepEqual(closed, { outcome: 'APPLIED', detail: 'TRADE_CLOSED' });
      assert.equal(await paymentStatus(`${other.orderNo}Q`), 'CLOSED');
      assert.equal(
        (await orderOf(other.orderNo)).status,
        'CREATED',
        'the order may still be paid another way',
      );
    });

    it('takes the operator account as the seller of a restricted terminal’s trade', async () => {
      const operator = await stack.alipay.control.createMerchant({ name: '受限收款运营商' });
      const restricted = await vendingMachine(stack, {
        moneyMode: 'RESTRICTED',
        sellerId: operator.accountId,
      });
      try {
        const { body: order } = await restricted.createOrder([COLA]);
        const qr = `${order.orderNo}Q`;
        const run = (form: Record<string, string>) => terminalNotification.apply(deps(), form);
        assert.equal((await run(paidForm(order, qr))).outcome, 'REJECTED_SELLER');
        assert.equal((await run(paidForm(order, qr, { seller_id: operator.accountId }))).outcome, 'APPLIED');
      } finally {
        await restricted.stop();
      }
    });

    it('pays an order whose notification was lost when the sweep asks, and when reconciliation repairs it', async () => {
      await stack.alipay.control.injectNotifyFault({
        notifyType: 'trade_status_sync',
        action: 'drop',
        times: 2,
      });
      const { body: order } = await machine.createOrder([COLA]);
      const buyer = await stack.createUser();
      await stack.alipay.control.scanQrCode({ qrCode: order.pay.qrCode!, userId: buyer.userId });
      const { body: other } = await machine.createOrder([COLA]);
      await stack.alipay.control.scanQrCode({
        qrCode: other.pay.qrCode!,
        userId: (await stack.createUser()).userId,
      });
      assert.equal((await orderOf(order.orderNo)).status, 'CREATED');

      // Not asked before it is TERMINAL_QUERY_AFTER_MS old (by the BFF's clock).
      const { queryAfterMs } = deps().config.terminals;
      const madeAgo = (ms: number) =>
        deps().pool.query('update terminal_orders set created_at = $2 where order_no = $1', [
          order.orderNo,
          new Date(clock.now().getTime() - ms),
        ]);
      await madeAgo(queryAfterMs - 10_000);
      await sweepTerminalOrders(deps());
      assert.equal((await orderOf(order.orderNo)).status, 'CREATED', 'too early to ask');
      assert.equal(await applyMissedTerminalPayment(deps(), `${other.orderNo}Q`), true);
      assert.equal((await orderOf(other.orderNo)).status, 'PAID');
      assert.equal(await applyMissedTerminalPayment(deps(), `${other.orderNo}Q`), true, 'already paid');
      assert.equal(await applyMissedTerminalPayment(deps(), `T${Date.now()}Q`), false);

      await madeAgo(queryAfterMs + 1_000);
      await sweepTerminalOrders(deps());
      assert.equal((await orderOf(order.orderNo)).status, 'PAID');
      await machine.acknowledgedCallback(order.outOrderNo);
    });

    it('never takes a trade Alipay reports paid with another amount as the order’s payment', async () => {
      await stack.alipay.control.injectNotifyFault({
        notifyType: 'trade_status_sync',
        action: 'drop',
        times: 1,
      });
      const { body: order } = await machine.createOrder([COLA]);
      await stack.alipay.control.scanQrCode({
        qrCode: order.pay.qrCode!,
        userId: (await stack.createUser()).userId,
      });
      // Our order says 301 fen while Alipay's trade took 300.
      await deps().pool.query('update terminal_orders set amount_fen = 301 where order_no = $1', [
        order.orderNo,
      ]);
      assert.equal(await applyMissedTerminalPayment(deps(), `${order.orderNo}Q`), false);
      assert.equal((await orderOf(order.orderNo)).status, 'CREATED');
      await deps().pool.query('update terminal_orders set amount_fen = 300 where order_no = $1', [
        order.orderNo,
      ]);
      assert.equal(await applyMissedTerminalPayment(deps(), `${order.orderNo}Q`), true);
    });

    it('pays rather than closes an expired order whose trade Alipay has as paid, and closes both trades of an unpaid one', async () => {
      await stack.alipay.control.injectNotifyFault({
        notifyType: 'trade_status_sync',
        action: 'drop',
        times: 1,
      });
      const { body: paid } = await machine.createOrder([COLA]);
      await stack.alipay.control.scanQrCode({
        qrCode: paid.pay.qrCode!,
        userId: (await stack.createUser()).userId,
      });
      const { body: unpaid } = await machine.createOrder([COLA]);
      const opener = await (await stack.createUser()).login();
      assert.equal((await opener.post(`/api/v1/terminal-orders/${unpaid.orderNo}/pay`)).status, 200);

      clock.advance(new Date(unpaid.expiresAt).getTime() - clock.now().getTime() + 1_000);
      await sweepTerminalOrders(deps());
      assert.equal((await orderOf(paid.orderNo)).status, 'PAID');
      await machine.acknowledgedCallback(paid.outOrderNo);
      const closed = await orderOf(unpaid.orderNo);
      assert.equal(closed.status, 'CLOSED');
      assert.deepEqual(
        [await paymentStatus(`${unpaid.orderNo}Q`), await paymentStatus(`${unpaid.orderNo}M1`)],
        ['CLOSED', 'CLOSED'],
      );
      assert.equal((await tradeOf(`${unpaid.orderNo}M1`)).status, 'TRADE_CLOSED', 'closed at Alipay');
      const scan = await stack.alipay.control.scanQrCode({
        qrCode: unpaid.pay.qrCode!,
        userId: (await stack.createUser()).userId,
      });
      assert.notEqual(scan.resultCode, '9000', 'the QR was cancelled');
    });

    it('takes no payment from the very moment an order expires', async () => {
      const { body: order } = await machine.createOrder([COLA]);
      const user = await (await stack.createUser()).login();
      const atExpiry = { ...deps(), clock: { now: () => new Date(order.expiresAt) } };
      await assert.rejects(payTerminalOrderInApp(atExpiry, user.id, order.orderNo), (error: unknown) => {
        assert.ok(error instanceof DomainError);
        assert.equal(error.code, 'ORDER_NOT_PAYABLE');
        return true;
      });
      assert.equal((await terminalOrderPage(atExpiry, user.id, order.orderNo)).state, 'CLOSED');
      const before = { ...deps(), clock: { now: () => new Date(new Date(order.expiresAt).getTime() - 1) } };
      assert.equal((await terminalOrderPage(before, user.id, order.orderNo)).state, 'PAYABLE');
    });
  });

  describe('the operator’s split after dispensing', () => {
    let operator: { accountId: string };
    let machine: Machine;
    before(async () => {
      ({ operator, machine } = await operatorWithRoyaltyMachine(stack, '分账重试运营商', {
        fixedFen: 50,
        timing: 'AFTER_DISPENSE',
      }));
    });
    after(() => machine.stop());

    async function settleWhenDue(order: OrderRow): Promise<void> {
      clock.advance(order.settle_next_at!.getTime() - clock.now().getTime() + 1_000);
      await attemptSettlement(deps(), order.id);
    }

    it('numbers a new split request after the last one', () => {
      assert.equal(nextSettleRequestNo({ orderNo: 'T1', settleOutRequestNo: 'T1S' }), 'T1S1');
      assert.equal(nextSettleRequestNo({ orderNo: 'T1', settleOutRequestNo: 'T1S1' }), 'T1S2');
      assert.equal(nextSettleRequestNo({ orderNo: 'T1', settleOutRequestNo: 'T1S9' }), 'T1S10');
      assert.equal(nextSettleRequestNo({ orderNo: 'T1', settleOutRequestNo: null }), 'T1S1');
    });

    it('sends the split again on the schedule when Alipay cannot take it, then asks for its result', async () => {
      const { order } = await paidByQr(machine);
      await stack.alipay.control.injectApiFault({
        method: 'alipay.trade.order.settle',
        times: 1,
        error: { subCode: 'ACQ.SYSTEM_ERROR' },
      });
      await machine.reportDispensed(order.outOrderNo, { result: 'OK' });
      let row = await eventually(async () => {
        const r = await orderOf(order.orderNo);
        return r.settle_attempts === 1 ? r : undefined;
      });
      assert.deepEqual(
        [row.settle_status, row.settle_fen, row.settle_out_request_no, row.settle_last_error],
        ['PENDING', 50, `${order.orderNo}S`, 'ACQ.SYSTEM_ERROR'],
      );
      const delay = delayOf({ next_attempt_at: row.settle_next_at, updated_at: row.updated_at });
      assert.ok(delay > RETRY[0] - 1_000 && delay < RETRY[0] + 5_000, `next split ${delay} ms after`);
      await settleWhenDue(row);
      row = await orderOf(order.orderNo);
      assert.equal(row.settle_attempts, 2);
      assert.ok(row.settle_no, 'Alipay accepted the split');
      assert.ok(['SENT', 'SUCCEEDED'].includes(row.settle_status!), row.settle_status!);
      if (row.settle_status === 'SENT') {
        await settleWhenDue(row);
        row = await eventually(async () => {
          const r = await orderOf(order.orderNo);
          return r.settle_status === 'SUCCEEDED' ? r : undefined;
        });
      }
      assert.ok(row.settled_at);
      assert.equal(row.settle_next_at, null);
      await eventually(async () => (await balanceOf(operator.accountId)) >= 50, {
        message: 'the operator paid',
      });
      const trade = await tradeOf(`${order.orderNo}Q`);
      assert.deepEqual(
        trade.settlements.map((s) => [s.outRequestNo, s.amountFen, s.finish]),
        [[`${order.orderNo}S`, 50, true]],
        'split once',
      );
    });

    it('leaves a split Alipay refuses for good FAILED; one Alipay knows nothing of is sent again under its number', async () => {
      const { order } = await paidByQr(machine);
      await stack.alipay.control.injectApiFault({
        method: 'alipay.trade.order.settle',
        times: 1,
        error: { subCode: 'ACQ.TRADE_SETTLE_ERROR' },
      });
      await machine.reportDispensed(order.outOrderNo, { result: 'OK' });
      let row = await eventually(async () => {
        const r = await orderOf(order.orderNo);
        return r.settle_status === 'FAILED' ? r : undefined;
      });
      assert.deepEqual(
        [row.settle_last_error, row.settle_next_at, row.settle_attempts],
        ['ACQ.TRADE_SETTLE_ERROR', null, 0],
      );
      assert.deepEqual((await tradeOf(`${order.orderNo}Q`)).settlements, []);

      // As if the split had been accepted and then lost at Alipay: the query finds none, so it goes out again.
      await deps().pool.query(
        `update terminal_orders set settle_status = 'SENT', settle_next_at = $2 where order_no = $1`,
        [order.orderNo, clock.now()],
      );
      await attemptSettlement(deps(), row.id);
      row = await orderOf(order.orderNo);
      assert.equal(row.settle_status, 'PENDING', 'not known at Alipay: sent again');
      const delay = delayOf({ next_attempt_at: row.settle_next_at, updated_at: row.updated_at });
      assert.ok(delay > 4_000 && delay < 10_000, `asked again ${delay} ms after`);
      await settleWhenDue(row);
      row = await orderOf(order.orderNo);
      assert.equal(row.settle_attempts, 1);
      const trade = await eventually(async () => {
        const t = await tradeOf(`${order.orderNo}Q`);
        return t.settlements.length > 0 ? t : undefined;
      });
      assert.deepEqual(
        trade.settlements.map((s) => [s.outRequestNo, s.amountFen, s.finish]),
        [[`${order.orderNo}S`, 50, true]],
      );
    });

    it('applies Alipay’s settle message: SUCCESS or FAIL once, to our own split of that trade only', async () => {
      const held = async () => {
        const { order } = await paidByQr(machine);
        await stack.alipay.control.injectApiFault({
          method: 'alipay.trade.order.settle',
          times: 1,
          error: { subCode: 'ACQ.SYSTEM_ERROR' },
        });
        await machine.reportDispensed(order.outOrderNo, { result: 'OK' });
        await eventually(async () => (await orderOf(order.orderNo)).settle_attempts === 1);
        const { rows } = await deps().pool.query(
          `select p.alipay_trade_no from terminal_orders o join terminal_payments p on p.id = o.paid_payment_id
            where o.order_no = $1`,
          [order.orderNo],
        );
        return { orderNo: order.orderNo, tradeNo: rows[0].alipay_trade_no as string };
      };
      const message = (biz: unknown) =>
        terminalSettleMessage(deps(), deps().db, {
          msg_method: 'alipay.trade.order.settle.notify',
          biz_content: typeof biz === 'string' ? biz : JSON.stringify(biz),
        });
      const ok = await held();
      const failed = await held();
      const detail = (state: string, extra: Record<string, unknown> = {}) => [{ state, ...extra }];

      assert.deepEqual(await message('{'), {
        outcome: 'REJECTED_MALFORMED',
        detail: 'biz_content is not JSON',
      });
      assert.deepEqual(await message({ trade_no: ok.tradeNo }), {
        outcome: 'IGNORED',
        detail: 'no settlement of ours is (none)',
      });
      assert.deepEqual(await message({ out_request_no: `${ok.orderNo}S7`, trade_no: ok.tradeNo }), {
        outcome: 'IGNORED',
        detail: `no settlement of ours is ${ok.orderNo}S7`,
      });
      assert.deepEqual(await message({ out_request_no: `${ok.orderNo}X`, trade_no: ok.tradeNo }), {
        outcome: 'IGNORED',
        detail: `no settlement of ours is ${ok.orderNo}X`,
      });
      assert.deepEqual(
        await message({
          out_request_no: `${ok.orderNo}S`,
          trade_no: failed.tradeNo,
          royalty_detail_list: detail('SUCCESS'),
        }),
        { outcome: 'REJECTED_UNKNOWN_ORDER', detail: `${ok.orderNo}S is not of trade ${failed.tradeNo}` },
      );
      assert.deepEqual(
        await message({
          out_request_no: `${ok.orderNo}S`,
          trade_no: ok.tradeNo,
          royalty_detail_list: detail('PROCESSING'),
        }),
        { outcome: 'IGNORED', detail: `${ok.orderNo}S: still processing` },
      );
      assert.deepEqual(
        await message({ out_request_no: `${ok.orderNo}S`, trade_no: ok.tradeNo, royalty_detail_list: [] }),
        { outcome: 'IGNORED', detail: `${ok.orderNo}S: still processing` },
        'no details is no result',
      );
      assert.deepEqual(
        await message({
          out_request_no: `${ok.orderNo}S`,
          trade_no: ok.tradeNo,
          royalty_detail_list: [{ state: 'SUCCESS' }, { state: 'PROCESSING' }],
        }),
        { outcome: 'IGNORED', detail: `${ok.orderNo}S: still processing` },
        'every receiver must be done',
      );
      assert.equal((await orderOf(ok.orderNo)).settle_status, 'PENDING');

      const success = {
        out_request_no: `${ok.orderNo}S`,
        trade_no: ok.tradeNo,
        royalty_detail_list: detail('SUCCESS'),
      };
      assert.deepEqual(await message(success), { outcome: 'APPLIED', detail: `${ok.orderNo}S: SUCCEEDED` });
      const succeeded = await orderOf(ok.orderNo);
      assert.deepEqual([succeeded.settle_status, succeeded.settle_last_error], ['SUCCEEDED', null]);
      assert.ok(succeeded.settled_at);
      assert.deepEqual(await message(success), {
        outcome: 'ALREADY_APPLIED',
        detail: `${ok.orderNo}S: SUCCEEDED`,
      });

      const fail = {
        out_request_no: `${failed.orderNo}S`,
        trade_no: failed.tradeNo,
        royalty_detail_list: [{ state: 'SUCCESS' }, { state: 'FAIL', error_code: 'RECEIVE_ACCOUNT_ERROR' }],
      };
      assert.deepEqual(await message(fail), { outcome: 'APPLIED', detail: `${failed.orderNo}S: FAILED` });
      const refused = await orderOf(failed.orderNo);
      assert.deepEqual(
        [refused.settle_status, refused.settle_last_error, refused.settled_at],
        ['FAILED', 'RECEIVE_ACCOUNT_ERROR', null],
      );
      const noCode = {
        ...fail,
        royalty_detail_list: [{ state: 'FAIL' }],
      };
      assert.equal((await message(noCode)).outcome, 'ALREADY_APPLIED');
    });

    it('needs no split when nothing came out, and splits the kept part’s share when some did', async () => {
      const { order: lost } = await paidByQr(machine);
      await machine.reportDispensed(lost.outOrderNo, { result: 'FAILED' });
      const none = await orderOf(lost.orderNo);
      assert.deepEqual([none.settle_status, none.settle_fen, none.settle_next_at], ['NOT_NEEDED', 0, null]);
      // 1,200 fen, 300 kept: the operator's 50 shrinks to floor(50 × 300 / 1,200) = 12.
      const { order: part } = await paidByQr(machine, [COLA, CHIPS]);
      await machine.reportDispensed(part.outOrderNo, {
        result: 'FAILED',
        failedItems: [{ index: 1, quantity: 2 }],
      });
      const kept = await orderOf(part.orderNo);
      assert.equal(kept.settle_fen, 12);
      assert.ok(['PENDING', 'SENT', 'SUCCEEDED'].includes(kept.settle_status!));
      const refund = await refundOf(`${part.orderNo}D`);
      assert.deepEqual(
        [refund.amount_fen, refund.royalty_returns],
        [900, null],
        'a frozen share is not taken back',
      );
    });
  });
});
