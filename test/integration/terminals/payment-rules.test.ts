import assert from 'node:assert/strict';
import type { TerminalOrderAnswer } from '../../../shared/gateway-api.js';
import { DomainError } from '../../../server/src/domain/errors.js';
import {
  applyMissedTerminalPayment,
  closeExpiredOrder,
  sweepTerminalOrders,
} from '../../../server/src/domain/terminals/lifecycle.js';
import {
  payTerminalOrderInApp,
  terminalNotification,
  terminalOrderPage,
} from '../../../server/src/domain/terminals/payments.js';
import {
  attemptSettlement,
  nextSettleRequestNo,
  terminalSettleMessage,
} from '../../../server/src/domain/terminals/settle.js';
import { findOrderContextByNo } from '../../../server/src/db/repos/terminals/orders.js';
import { OffsetClock } from '../../support/clock.js';
import { eventually } from '../../support/http.js';
import { startStack, type Stack } from '../../support/stack.js';
import {
  COLA,
  operatorWithRoyaltyMachine,
  paidTerminalForm,
  terminalRecords,
  vendingMachine,
} from './helpers.js';

type Machine = Awaited<ReturnType<typeof vendingMachine>>;

/**
 * The rules that decide which money of a terminal order is kept (issue 20, the survivors of the
 * `terminal-payments` module): an order found paid at Alipay is paid, never closed; a payment that arrives
 * after the order closed is refunded whole; what the sweep and reconciliation do with each. Each test makes its
 * own order (Stryker runs a test without the ones before it); attempts are driven by hand on the BFF's clock.
 */
describe('terminal payment rules', function () {
  this.timeout(120_000);
  let stack: Stack;
  let machine: Machine;
  const clock = new OffsetClock();
  const RETRY = [90_000, 150_000, 210_000];

  before(async function () {
    this.timeout(180_000);
    stack = await startStack({
      clock,
      env: { TERMINAL_RETRY_MS: RETRY.join(','), TERMINAL_SWEEP_EVERY_MS: '3600000' },
    });
    machine = await vendingMachine(stack);
  });
  afterEach(() => stack.alipay.control.clearFaults());
  after(async () => {
    await machine?.stop();
    await stack?.stop();
  });

  const deps = () => stack.app.deps;
  const records = () => terminalRecords(stack);

  /** The order as the sweep read it (a row it holds while the world moves on). */
  async function orderRow(orderNo: string) {
    return (await findOrderContextByNo(deps().db, orderNo))!.order;
  }

  /** A QR order paid at Alipay whose notification never came. */
  async function paidWithoutNotification() {
    await stack.alipay.control.injectNotifyFault({
      notifyType: 'trade_status_sync',
      action: 'drop',
      times: 1,
    });
    const { body: order } = await machine.createOrder([COLA]);
    const buyer = await stack.createUser();
    const scan = await stack.alipay.control.scanQrCode({ qrCode: order.pay.qrCode!, userId: buyer.userId });
    assert.equal(scan.resultCode, '9000');
    return { order, buyer };
  }

  /**
   * An order closed past its time while someone had its mini-program trade open, which Alipay did not close
   * (trade.close got no answer; the QR's trade.cancel went through): that trade can still be paid.
   */
  async function closedWithPayableMiniProgramTrade() {
    const { body: order } = await machine.createOrder([COLA]);
    const late = await stack.createUser();
    const opened = await (await late.login()).post(`/api/v1/terminal-orders/${order.orderNo}/pay`);
    assert.equal(opened.status, 200, opened.text);
    await stack.alipay.control.injectApiFault({
      method: 'alipay.trade.close',
      times: 1,
      error: { subCode: 'ACQ.SYSTEM_ERROR' },
    });
    await closeExpiredOrder(deps(), await orderRow(order.orderNo));
    return { order, late, opened };
  }

  describe('closing an order past its time', () => {
    it('pays, and neither cancels nor refunds, an expired order whose QR trade Alipay has as paid', async () => {
      const { order, buyer } = await paidWithoutNotification();
      const paid = await records().balanceOf(buyer.userId);
      await closeExpiredOrder(deps(), await orderRow(order.orderNo));
      const row = await records().orderOf(order.orderNo);
      assert.deepEqual([row.status, row.close_reason], ['PAID', null]);
      assert.equal(await records().paymentStatus(`${order.orderNo}Q`), 'PAID');
      const trade = await records().tradeOf(`${order.orderNo}Q`);
      assert.deepEqual([trade.status, trade.refunds], ['TRADE_SUCCESS', []], 'the buyer’s money stays paid');
      assert.equal(await records().balanceOf(buyer.userId), paid);
      await machine.acknowledgedCallback(order.outOrderNo);
    });

    it('leaves an order paid while the sweep was closing it paid', async () => {
      const { body: order } = await machine.createOrder([COLA]);
      const stale = await orderRow(order.orderNo);
      const buyer = await stack.createUser();
      await stack.alipay.control.scanQrCode({ qrCode: order.pay.qrCode!, userId: buyer.userId });
      await machine.acknowledgedCallback(order.outOrderNo);
      await closeExpiredOrder(deps(), stale);
      const row = await records().orderOf(order.orderNo);
      assert.deepEqual([row.status, row.close_reason, row.closed_at], ['PAID', null, null]);
      assert.equal(await records().paymentStatus(`${order.orderNo}Q`), 'PAID');
    });

    it('closes an unpaid order as TIMEOUT at the sweep’s time, with its trades', async () => {
      const { body: order } = await machine.createOrder([COLA]);
      const opener = await (await stack.createUser()).login();
      assert.equal((await opener.post(`/api/v1/terminal-orders/${order.orderNo}/pay`)).status, 200);
      const before = clock.now().getTime();
      await closeExpiredOrder(deps(), await orderRow(order.orderNo));
      const row = await records().orderOf(order.orderNo);
      assert.deepEqual([row.status, row.close_reason], ['CLOSED', 'TIMEOUT']);
      assert.ok(row.closed_at!.getTime() >= before && row.closed_at!.getTime() <= clock.now().getTime());
      assert.deepEqual(
        [
          await records().paymentStatus(`${order.orderNo}Q`),
          await records().paymentStatus(`${order.orderNo}M1`),
        ],
        ['CLOSED', 'CLOSED'],
      );
    });

    it('refunds whole a mini-program payment made after the order closed (its trade could not be closed)', async () => {
      const { order, late, opened } = await closedWithPayableMiniProgramTrade();
      assert.equal((await records().orderOf(order.orderNo)).status, 'CLOSED');
      assert.equal((await records().tradeOf(`${order.orderNo}M1`)).status, 'WAIT_BUYER_PAY', 'still payable');

      const before = await records().balanceOf(late.userId);
      const paid = await stack.alipay.control.payTrade({ tradeNO: opened.body.tradeNo, userId: late.userId });
      assert.equal(paid.resultCode, '9000');
      const refund = await eventually(async () => {
        const r = await records().refundOf(`${order.orderNo}M1U`);
        return r?.status === 'SUCCEEDED' ? r : undefined;
      });
      assert.deepEqual(
        [refund.kind, refund.out_trade_no, refund.amount_fen, refund.reason],
        ['TERMINAL_UNWANTED_PAYMENT', `${order.orderNo}M1`, 300, 'paid after the order closed'],
      );
      assert.equal(await records().balanceOf(late.userId), before);
      assert.equal((await records().orderOf(order.orderNo)).status, 'CLOSED');
    });

    it('lets reconciliation refund whole a payment made after the order closed whose notification was lost', async () => {
      const { order, late, opened } = await closedWithPayableMiniProgramTrade();
      await stack.alipay.control.injectNotifyFault({
        notifyType: 'trade_status_sync',
        action: 'drop',
        times: 1,
      });
      const before = await records().balanceOf(late.userId);
      await stack.alipay.control.payTrade({ tradeNO: opened.body.tradeNo, userId: late.userId });
      assert.equal(await records().balanceOf(late.userId), before - 300);

      // Reconciliation finds the trade paid and our payment CLOSED (PAID_NOT_RECORDED) and repairs it.
      assert.equal(await applyMissedTerminalPayment(deps(), `${order.orderNo}M1`), true);
      const refund = await eventually(async () => {
        const r = await records().refundOf(`${order.orderNo}M1U`);
        return r?.status === 'SUCCEEDED' ? r : undefined;
      });
      assert.deepEqual(
        [refund.kind, refund.amount_fen, refund.reason],
        ['TERMINAL_UNWANTED_PAYMENT', 300, 'paid after the order closed'],
      );
      assert.equal(await records().balanceOf(late.userId), before);
      assert.deepEqual(
        (await records().tradeOf(`${order.orderNo}M1`)).refunds.map((r) => [r.outRequestNo, r.amountFen]),
        [[`${order.orderNo}M1U`, 300]],
        'refunded once',
      );
      assert.equal((await records().orderOf(order.orderNo)).status, 'CLOSED');
    });
  });

  describe('which payment pays an order', () => {
    function paidForm(order: TerminalOrderAnswer, outTradeNo: string, fields: Record<string, string> = {}) {
      return paidTerminalForm(stack, order, outTradeNo, fields);
    }

    async function logOf(notifyId: string) {
      const { rows } = await deps().pool.query(
        'select is_verified, outcome, detail from notify_log where notify_id = $1',
        [notifyId],
      );
      return rows as Array<{ is_verified: boolean; outcome: string; detail: string | null }>;
    }

    it('records the buyer Alipay names (open_id before user_id) and the notification that paid the order', async () => {
      const { body: order } = await machine.createOrder([COLA]);
      const opened = await (await stack.createUser()).login();
      assert.equal((await opened.post(`/api/v1/terminal-orders/${order.orderNo}/pay`)).status, 200);
      const run = (form: Record<string, string>) => terminalNotification.apply(deps(), form);

      // The order's first payment (one statement): only buyer_id given.
      const first = paidForm(order, `${order.orderNo}Q`, { buyer_id: '2088000000000101' });
      assert.deepEqual(await run(first).then((r) => [r.outcome, r.detail]), ['APPLIED', 'PAID']);
      assert.deepEqual(await logOf(first.notify_id), [
        { is_verified: true, outcome: 'APPLIED', detail: 'PAID' },
      ]);
      assert.equal((await records().paymentOf(`${order.orderNo}Q`))!.buyer_id, '2088000000000101');

      // A second payment of the paid order (decided in a transaction): open_id and user_id both given.
      const second = paidForm(order, `${order.orderNo}M1`, {
        buyer_open_id: '074a1234',
        buyer_id: '2088000000000102',
      });
      const unwanted = await run(second);
      assert.deepEqual([unwanted.outcome, unwanted.detail], ['APPLIED', 'UNWANTED']);
      assert.deepEqual(await logOf(second.notify_id), [
        { is_verified: true, outcome: 'APPLIED', detail: 'UNWANTED' },
      ]);
      assert.equal((await records().paymentOf(`${order.orderNo}M1`))!.buyer_id, '074a1234');
      assert.equal((await records().refundOf(`${order.orderNo}M1U`))!.amount_fen, 300);
    });

    it('records no buyer when Alipay names none', async () => {
      const { body: order } = await machine.createOrder([COLA]);
      const opened = await (await stack.createUser()).login();
      assert.equal((await opened.post(`/api/v1/terminal-orders/${order.orderNo}/pay`)).status, 200);
      const run = (form: Record<string, string>) => terminalNotification.apply(deps(), form);
      assert.equal((await run(paidForm(order, `${order.orderNo}Q`))).detail, 'PAID');
      assert.equal((await run(paidForm(order, `${order.orderNo}M1`))).detail, 'UNWANTED');
      assert.deepEqual(
        [
          (await records().paymentOf(`${order.orderNo}Q`))!.buyer_id,
          (await records().paymentOf(`${order.orderNo}M1`))!.buyer_id,
        ],
        [null, null],
      );
    });

    it('opens no mini-program payment for an order already paid', async () => {
      const { body: order } = await machine.createOrder([COLA]);
      await stack.alipay.control.scanQrCode({
        qrCode: order.pay.qrCode!,
        userId: (await stack.createUser()).userId,
      });
      await machine.acknowledgedCallback(order.outOrderNo);
      const late = await (await stack.createUser()).login();
      await assert.rejects(payTerminalOrderInApp(deps(), late.id, order.orderNo), (error: unknown) => {
        assert.ok(error instanceof DomainError);
        assert.equal(error.code, 'ORDER_NOT_PAYABLE');
        return true;
      });
      assert.equal(await records().paymentOf(`${order.orderNo}M1`), undefined, 'no trade to pay');
    });

    it('closes the other open trade of an order paid by the sweep’s query', async () => {
      const { body: order } = await machine.createOrder([COLA]);
      const opener = await (await stack.createUser()).login();
      assert.equal((await opener.post(`/api/v1/terminal-orders/${order.orderNo}/pay`)).status, 200);
      await stack.alipay.control.injectNotifyFault({
        notifyType: 'trade_status_sync',
        action: 'drop',
        times: 1,
      });
      await stack.alipay.control.scanQrCode({
        qrCode: order.pay.qrCode!,
        userId: (await stack.createUser()).userId,
      });
      assert.equal(await applyMissedTerminalPayment(deps(), `${order.orderNo}Q`), true);
      assert.deepEqual(
        [
          await records().paymentStatus(`${order.orderNo}Q`),
          await records().paymentStatus(`${order.orderNo}M1`),
        ],
        ['PAID', 'CLOSED'],
      );
      assert.equal(
        (await records().tradeOf(`${order.orderNo}M1`)).status,
        'TRADE_CLOSED',
        'cannot be paid too',
      );
      await machine.acknowledgedCallback(order.outOrderNo);
    });

    it('tells the machine of a payment found by query only when the terminal has a callback', async () => {
      const quiet = await vendingMachine(stack, { noCallback: true });
      try {
        await stack.alipay.control.injectNotifyFault({
          notifyType: 'trade_status_sync',
          action: 'drop',
          times: 1,
        });
        const { body: order } = await quiet.createOrder([COLA]);
        await stack.alipay.control.scanQrCode({
          qrCode: order.pay.qrCode!,
          userId: (await stack.createUser()).userId,
        });
        assert.equal(await applyMissedTerminalPayment(deps(), `${order.orderNo}Q`), true);
        const row = await records().orderOf(order.orderNo);
        assert.deepEqual([row.status, row.callback_status], ['PAID', null], 'no callback to send');
      } finally {
        await quiet.stop();
      }
    });

    it('shows the payer their own payment, anyone else the order paid, and a closed order closed before its time', async () => {
      const { body: order } = await machine.createOrder([COLA]);
      const payerUser = await stack.createUser();
      const payer = await payerUser.login();
      const other = await (await stack.createUser()).login();
      const pay = await payer.post(`/api/v1/terminal-orders/${order.orderNo}/pay`);
      await stack.alipay.control.payTrade({ tradeNO: pay.body.tradeNo, userId: payerUser.userId });
      await machine.acknowledgedCallback(order.outOrderNo);
      assert.equal((await terminalOrderPage(deps(), payer.id, order.orderNo)).state, 'PAID_BY_ME');
      assert.equal((await terminalOrderPage(deps(), other.id, order.orderNo)).state, 'PAID');

      const { body: unpaid } = await machine.createOrder([COLA]);
      await closeExpiredOrder(deps(), await orderRow(unpaid.orderNo));
      assert.ok(new Date(unpaid.expiresAt) > clock.now(), 'not past its time');
      assert.equal((await terminalOrderPage(deps(), other.id, unpaid.orderNo)).state, 'CLOSED');
    });
  });

  describe('the sweep’s backstop for lost jobs', () => {
    it('makes a refund whose retry is due, as its lost job would have', async () => {
      const { body: order } = await machine.createOrder([COLA]);
      const buyer = await stack.createUser();
      await stack.alipay.control.scanQrCode({ qrCode: order.pay.qrCode!, userId: buyer.userId });
      await machine.acknowledgedCallback(order.outOrderNo);
      const paid = await records().balanceOf(buyer.userId);
      await stack.alipay.control.injectApiFault({
        method: 'alipay.trade.refund',
        times: 1,
        error: { subCode: 'ACQ.SYSTEM_ERROR' },
      });
      await machine.reportDispensed(order.outOrderNo, { result: 'FAILED' });
      const waiting = await eventually(async () => {
        const r = await records().refundOf(`${order.orderNo}D`);
        // Once the attempt has set its next attempt (90 s), replacing its 60 s lease.
        const next = r?.next_attempt_at ? r.next_attempt_at.getTime() - r.updated_at.getTime() : 0;
        return r?.attempts === 1 && Math.abs(next - RETRY[0]) < 5_000 ? r : undefined;
      });
      assert.equal(waiting.status, 'PENDING');
      clock.advance(waiting.next_attempt_at!.getTime() - clock.now().getTime() + 1_000);
      await sweepTerminalOrders(deps());
      const refund = (await records().refundOf(`${order.orderNo}D`))!;
      assert.deepEqual([refund.status, refund.attempts], ['SUCCEEDED', 2]);
      assert.equal(await records().balanceOf(buyer.userId), paid + 300);
    });
  });

  describe('the operator’s split after dispensing', () => {
    let operator: { accountId: string };
    let royaltyMachine: Machine;
    before(async () => {
      ({ operator, machine: royaltyMachine } = await operatorWithRoyaltyMachine(stack, '分账规则运营商', {
        fixedFen: 50,
        timing: 'AFTER_DISPENSE',
      }));
    });
    after(() => royaltyMachine.stop());

    async function paidRoyaltyOrder(items = [COLA]) {
      const { body: order } = await royaltyMachine.createOrder(items);
      await stack.alipay.control.scanQrCode({
        qrCode: order.pay.qrCode!,
        userId: (await stack.createUser()).userId,
      });
      await royaltyMachine.acknowledgedCallback(order.outOrderNo);
      return order;
    }

    /** A paid order dispensed whole whose first split Alipay could not take (`refusals` times in a row). */
    async function splitNotTakenAtFirst(refusals = 1) {
      const order = await paidRoyaltyOrder();
      await stack.alipay.control.injectApiFault({
        method: 'alipay.trade.order.settle',
        times: refusals,
        error: { subCode: 'ACQ.SYSTEM_ERROR' },
      });
      await royaltyMachine.reportDispensed(order.outOrderNo, { result: 'OK' });
      await eventually(async () => (await records().orderOf(order.orderNo)).settle_attempts === 1);
      return order;
    }

    async function settleWhenDue(orderNo: string) {
      const row = await records().orderOf(orderNo);
      clock.advance(row.settle_next_at!.getTime() - clock.now().getTime() + 1_000);
      await attemptSettlement(deps(), row.id);
      return records().orderOf(orderNo);
    }

    it('numbers a split request after one of two digits', () => {
      assert.equal(nextSettleRequestNo({ orderNo: 'T1', settleOutRequestNo: 'T1S10' }), 'T1S11');
      assert.equal(nextSettleRequestNo({ orderNo: 'T1', settleOutRequestNo: 'T1S' }), 'T1S1');
    });

    it('schedules the split job for this order at its next attempt after Alipay could not take it', async () => {
      const order = await splitNotTakenAtFirst();
      const row = await records().orderOf(order.orderNo);
      // The job is scheduled just after the attempt is recorded.
      await eventually(
        async () => {
          const { rows: jobs } = await deps().pool.query(
            `select 1 from agenda_jobs
              where name = 'terminal.settle' and data->>'orderId' = $1 and next_run_at = $2`,
            [row.id, row.settle_next_at],
          );
          return jobs.length === 1;
        },
        { message: 'the settle job scheduled for this order at its next attempt' },
      );
    });

    it('leaves a split FAILED for the admins once the schedule is used up', async () => {
      const order = await splitNotTakenAtFirst(4);
      assert.equal((await settleWhenDue(order.orderNo)).settle_attempts, 2);
      assert.equal((await settleWhenDue(order.orderNo)).settle_attempts, 3);
      const row = await settleWhenDue(order.orderNo);
      assert.deepEqual(
        [row.settle_status, row.settle_attempts, row.settle_last_error, row.settle_next_at],
        ['FAILED', 3, 'ACQ.SYSTEM_ERROR', null],
      );
      assert.deepEqual((await records().tradeOf(`${order.orderNo}Q`)).settlements, []);
    });

    it('sends a split whose share of the kept part is 0 as royalty_finish alone, releasing the school’s money', async () => {
      // 1,200 fen, 20 kept: the operator's 50 shrinks to floor(50 × 20 / 1,200) = 0.
      const items = [
        { name: '口香糖', quantity: 1, unitFen: 20 },
        { name: '矿泉水', quantity: 1, unitFen: 1_180 },
      ];
      const order = await paidRoyaltyOrder(items);
      const before = await records().balanceOf(operator.accountId);
      await royaltyMachine.reportDispensed(order.outOrderNo, {
        result: 'FAILED',
        failedItems: [{ index: 1, quantity: 1 }],
      });
      // Sent (royalty_mode async); once Alipay has done it, its query (or its message) makes it SUCCEEDED.
      await eventually(async () => (await records().orderOf(order.orderNo)).settle_status !== 'PENDING');
      await eventually(async () =>
        (await records().tradeOf(`${order.orderNo}Q`)).settlements.every((s) => s.state === 'SUCCESS'),
      );
      let row = await records().orderOf(order.orderNo);
      if (row.settle_status === 'SENT') row = await settleWhenDue(order.orderNo);
      assert.equal(row.settle_status, 'SUCCEEDED');
      assert.equal(row.settle_fen, 0);
      const trade = await records().tradeOf(`${order.orderNo}Q`);
      assert.deepEqual(
        trade.settlements.map((s) => [s.outRequestNo, s.amountFen, s.finish, s.receivers.length, s.state]),
        [[`${order.orderNo}S`, 0, true, 0, 'SUCCESS']],
      );
      assert.equal(trade.frozenFen, 0, 'nothing left frozen');
      assert.equal(await records().balanceOf(operator.accountId), before);
    });

    it('applies a settle message of a failure without a code as FAIL, and one without details as still processing', async () => {
      const order = await splitNotTakenAtFirst();
      const tradeNo = (await records().paymentOf(`${order.orderNo}Q`))!.alipay_trade_no;
      const message = (biz: Record<string, unknown>) =>
        terminalSettleMessage(deps(), deps().db, {
          msg_method: 'alipay.trade.order.settle.notify',
          biz_content: JSON.stringify({ out_request_no: `${order.orderNo}S`, trade_no: tradeNo, ...biz }),
        });
      assert.deepEqual(await message({}), {
        outcome: 'IGNORED',
        detail: `${order.orderNo}S: still processing`,
      });
      assert.deepEqual(await message({ royalty_detail_list: [{ state: 'FAIL' }] }), {
        outcome: 'APPLIED',
        detail: `${order.orderNo}S: FAILED`,
      });
      const row = await records().orderOf(order.orderNo);
      assert.deepEqual([row.settle_status, row.settle_last_error], ['FAILED', 'FAIL']);
    });

    it('holds a split for a minute while its attempt is out, so that no other attempt sends it meanwhile', async () => {
      const order = await splitNotTakenAtFirst();
      const due = await records().orderOf(order.orderNo);
      clock.advance(due.settle_next_at!.getTime() - clock.now().getTime() + 1_000);
      // Alipay takes its time over the next settle.
      await stack.alipay.control.injectApiFault({
        method: 'alipay.trade.order.settle',
        times: 1,
        latencyMs: 2_000,
      });
      const startedAt = clock.now().getTime();
      const first = attemptSettlement(deps(), due.id);
      const leased = await eventually(async () => {
        const r = await records().orderOf(order.orderNo);
        return r.settle_next_at!.getTime() > due.settle_next_at!.getTime() ? r : undefined;
      });
      assert.ok(leased.settle_next_at!.getTime() >= startedAt + 59_000, 'leased a minute ahead');
      await attemptSettlement(deps(), due.id);
      await first;
      const row = await records().orderOf(order.orderNo);
      assert.equal(row.settle_attempts, 2, 'one more attempt');
      assert.deepEqual(
        (await records().tradeOf(`${order.orderNo}Q`)).settlements.map((s) => s.outRequestNo),
        [`${order.orderNo}S`],
      );
    });

    it('asks Alipay for the result of a split whose message was lost, and records it SUCCEEDED', async () => {
      const order = await splitNotTakenAtFirst();
      await stack.alipay.control.injectNotifyFault({
        notifyType: 'alipay.trade.order.settle.notify',
        action: 'drop',
        times: 1,
      });
      let row = await settleWhenDue(order.orderNo);
      assert.equal(row.settle_status, 'SENT');
      await eventually(async () =>
        (await records().tradeOf(`${order.orderNo}Q`)).settlements.every((s) => s.state === 'SUCCESS'),
      );
      assert.equal((await records().orderOf(order.orderNo)).settle_status, 'SENT', 'no message came');
      row = await settleWhenDue(order.orderNo);
      assert.deepEqual(
        [row.settle_status, row.settle_next_at, row.settle_last_error],
        ['SUCCEEDED', null, null],
      );
      assert.ok(row.settled_at);
    });

    it('applies Alipay’s settle message to a split sent again under a new number', async () => {
      const order = await splitNotTakenAtFirst();
      // As an admin's retry of a refused split does: the next number, `<order no>S1`.
      await deps().pool.query('update terminal_orders set settle_out_request_no = $2 where order_no = $1', [
        order.orderNo,
        `${order.orderNo}S1`,
      ]);
      const tradeNo = (await records().paymentOf(`${order.orderNo}Q`))!.alipay_trade_no;
      const applied = await terminalSettleMessage(deps(), deps().db, {
        msg_method: 'alipay.trade.order.settle.notify',
        biz_content: JSON.stringify({
          out_request_no: `${order.orderNo}S1`,
          trade_no: tradeNo,
          royalty_detail_list: [{ state: 'SUCCESS' }],
        }),
      });
      assert.deepEqual(applied, { outcome: 'APPLIED', detail: `${order.orderNo}S1: SUCCEEDED` });
      assert.equal((await records().orderOf(order.orderNo)).settle_status, 'SUCCEEDED');
    });
  });
});
