import assert from 'node:assert/strict';
import { closeExpiredOrder } from '../../../server/src/domain/terminals/lifecycle.js';
import { findOrderContextByNo } from '../../../server/src/db/repos/terminals/orders.js';
import { OffsetClock } from '../../support/clock.js';
import { eventually } from '../../support/http.js';
import { startStack, type Stack } from '../../support/stack.js';
import { COLA, terminalRecords, vendingMachine } from './helpers.js';

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
      const { body: order } = await machine.createOrder([COLA]);
      const late = await stack.createUser();
      const lateApp = await late.login();
      const opened = await lateApp.post(`/api/v1/terminal-orders/${order.orderNo}/pay`);
      assert.equal(opened.status, 200, opened.text);
      // trade.close gets no answer; the QR's trade.cancel goes through.
      await stack.alipay.control.injectApiFault({
        method: 'alipay.trade.close',
        times: 1,
        error: { subCode: 'ACQ.SYSTEM_ERROR' },
      });
      await closeExpiredOrder(deps(), await orderRow(order.orderNo));
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
  });
});
