import assert from 'node:assert/strict';
import { beijingDate, reconcileDay } from '../../../server/src/domain/reconciliation/reconcile-day.js';
import { eventually } from '../../support/http.js';
import { startStack, type Stack } from '../../support/stack.js';
import { CHIPS, COLA, vendingMachine } from './helpers.js';

/**
 * Terminal trades in the daily reconciliation (issues 15 and 17): the Alipay sandbox's bill of the school
 * against our terminal payments and refunds. A clean day of vending — royalty on the trade, a failed
 * dispense refunded with the royalty taken back, royalty settled after dispensing, a payment after the
 * close refunded, and a restricted-collection terminal whose trades are the operator's — balances.
 */
describe('terminal trades in the daily reconciliation', function () {
  this.timeout(180_000);
  let stack: Stack;

  before(async function () {
    this.timeout(180_000);
    stack = await startStack();
  });
  after(() => stack?.stop());

  async function scanned(machine: Awaited<ReturnType<typeof vendingMachine>>, items = [COLA]) {
    const { body: order } = await machine.createOrder(items);
    const buyer = await stack.createUser();
    await stack.alipay.control.scanQrCode({ qrCode: order.pay.qrCode!, userId: buyer.userId });
    await machine.acknowledgedCallback(order.outOrderNo);
    return { order, buyer };
  }

  it('balances a clean day of terminal payments, refunds and royalty', async () => {
    const billDate = beijingDate(new Date());
    const operator = await stack.alipay.control.createMerchant({ name: '售货机运营商' });
    const plain = await vendingMachine(stack);
    const onPayment = await vendingMachine(stack, {
      moneyMode: 'ROYALTY',
      royalty: { account: operator.accountId, bps: 3_000, timing: 'ON_PAYMENT' },
    });
    const afterDispense = await vendingMachine(stack, {
      moneyMode: 'ROYALTY',
      royalty: { account: operator.accountId, fixedFen: 50, timing: 'AFTER_DISPENSE' },
    });
    const restricted = await vendingMachine(stack, { moneyMode: 'RESTRICTED', sellerId: operator.accountId });
    try {
      // 300 fen, given out.
      const a = await scanned(plain);
      assert.equal((await plain.reportDispensed(a.order.outOrderNo, { result: 'OK' })).status, 200);
      // 1,200 fen with 30 % royalty (360); the chips did not come out: 900 back, the operator keeps 90.
      const b = await scanned(onPayment, [COLA, CHIPS]);
      const failed = { result: 'FAILED' as const, failedItems: [{ index: 1, quantity: 2 }] };
      assert.equal((await onPayment.reportDispensed(b.order.outOrderNo, failed)).status, 200);
      // 300 fen frozen, 50 settled to the operator once given out.
      const c = await scanned(afterDispense);
      assert.equal((await afterDispense.reportDispensed(c.order.outOrderNo, { result: 'OK' })).status, 200);
      // The operator's own money: not in the school's bill, and not missing from it either.
      const d = await scanned(restricted);
      assert.equal((await restricted.reportDispensed(d.order.outOrderNo, { result: 'OK' })).status, 200);

      const { rows } = await stack.app.deps.pool.query(
        `select count(*)::int as open from refunds r join terminal_orders o on o.id = r.terminal_order_id
          where o.school_id = $1 and r.status <> 'SUCCEEDED'`,
        [stack.school.id],
      );
      assert.equal(rows[0].open, 0);
      await eventually(
        async () =>
          (
            await stack.app.deps.pool.query(`select settle_status from terminal_orders where order_no = $1`, [
              c.order.orderNo,
            ])
          ).rows[0].settle_status === 'SUCCEEDED',
        { timeoutMs: 20_000, message: 'the settle went through' },
      );
      await eventually(
        async () => (await stack.alipay.control.getAccount(operator.accountId)).balanceFen === 90 + 50 + 300,
        { message: 'the operator has its shares and its own sale' },
      );

      // The next day, once Alipay's bill of the day exists.
      await stack.alipay.control.advanceClock({ days: 1, hours: 10 });
      const day = await reconcileDay(stack.app.deps, stack.school, billDate);
      assert.equal(day.status, 'MATCHED');
      assert.equal(day.openFindings, 0, JSON.stringify(day.totals));
      assert.equal(day.balanced, true);
      const terminal = day.totals!.kinds.find((k) => k.kind === 'TERMINAL')!;
      assert.deepEqual(
        [terminal.rows, terminal.oursFen, terminal.alipayFen, terminal.differenceFen],
        [3, 1_800, 1_800, 0],
      );
      assert.equal(terminal.royaltyFen, 90 + 50, 'the royalty still with the operator');
      const refund = day.totals!.kinds.find((k) => k.kind === 'REFUND')!;
      assert.deepEqual([refund.oursFen, refund.alipayFen], [900, 900]);
    } finally {
      await Promise.all([plain.stop(), onPayment.stop(), afterDispense.stop(), restricted.stop()]);
    }
  });
});
