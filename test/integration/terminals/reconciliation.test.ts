import assert from 'node:assert/strict';
import { beijingDate, reconcileDay } from '../../../server/src/domain/reconciliation/reconcile-day.js';
import { adminOf } from '../../support/admins.js';
import { eventually } from '../../support/http.js';
import { startStack, type Stack } from '../../support/stack.js';
import { CHIPS, COLA, vendingMachine } from './helpers.js';

/**
 * Terminal trades in the daily reconciliation (issues 15 and 17): the Alipay sandbox's bill of the school
 * against our terminal payments and refunds. A clean day of vending — royalty on the trade, a failed
 * dispense refunded with the royalty taken back, royalty settled after dispensing, a payment after the
 * close refunded, and a restricted-collection terminal whose trades are the operator's — balances, royalty
 * included (ours against the bill's 分润 on each payment and refund row); a royalty the bill shows otherwise is
 * a finding to investigate, never a reversal.
 */
describe('terminal trades in the daily reconciliation', function () {
  this.timeout(180_000);
  let stack: Stack;

  before(async function () {
    this.timeout(180_000);
    stack = await startStack();
  });
  after(() => stack?.stop());

  let billDate: string;
  let operatorId: string;
  /** The ON_PAYMENT order of 1,200 fen whose chips did not come out. */
  let onPaymentOrderNo: string;

  async function scanned(machine: Awaited<ReturnType<typeof vendingMachine>>, items = [COLA]) {
    const { body: order } = await machine.createOrder(items);
    const buyer = await stack.createUser();
    await stack.alipay.control.scanQrCode({ qrCode: order.pay.qrCode!, userId: buyer.userId });
    await machine.acknowledgedCallback(order.outOrderNo);
    return { order, buyer };
  }

  it('balances a clean day of terminal payments, refunds and royalty', async () => {
    billDate = beijingDate(new Date());
    const operator = await stack.alipay.control.createMerchant({ name: '售货机运营商' });
    operatorId = operator.accountId;
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
      onPaymentOrderNo = b.order.orderNo;
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
      // 分润 as split off the trades (360 with the payment, 50 by the settle), and as the refund took back.
      assert.deepEqual([terminal.royaltyFen, terminal.oursRoyaltyFen], [360 + 50, 360 + 50]);
      const refund = day.totals!.kinds.find((k) => k.kind === 'REFUND')!;
      assert.deepEqual([refund.oursFen, refund.alipayFen], [900, 900]);
      assert.deepEqual([refund.royaltyFen, refund.oursRoyaltyFen], [-270, -270]);
      assert.equal(day.totals!.all.royaltyFen, 90 + 50, 'the royalty still with the operator');
    } finally {
      await Promise.all([plain.stop(), onPayment.stop(), afterDispense.stop(), restricted.stop()]);
    }
  });

  it('finds a royalty that differs on a payment row and on a refund row, to investigate once, and a rerun adds nothing', async () => {
    const { rows } = await stack.app.deps.pool.query(
      `select p.out_trade_no, r.out_request_no
         from terminal_orders o join terminal_payments p on p.id = o.paid_payment_id
         join refunds r on r.terminal_order_id = o.id
        where o.order_no = $1`,
      [onPaymentOrderNo],
    );
    const [{ out_trade_no: outTradeNo, out_request_no: outRequestNo }] = rows;
    const sellerId = stack.school.alipaySellerId!;
    // The bill says the operator got 3.00 of the 1,200-fen trade (we split 3.60), and the refund took back
    // 2.00 (we asked for 2.70).
    await stack.alipay.control.corruptBill({
      sellerId,
      billDate,
      kind: 'ROYALTY',
      outTradeNo,
      amountFen: 300,
    });
    await stack.alipay.control.corruptBill({
      sellerId,
      billDate,
      kind: 'ROYALTY',
      outTradeNo,
      outRequestNo,
      amountFen: 200,
    });
    const operatorBefore = (await stack.alipay.control.getAccount(operatorId)).balanceFen;

    const day = await reconcileDay(stack.app.deps, stack.school, billDate);
    assert.deepEqual([day.newFindings, day.openFindings, day.balanced], [2, 2, false]);
    const terminal = day.totals!.kinds.find((k) => k.kind === 'TERMINAL')!;
    assert.deepEqual([terminal.royaltyFen, terminal.oursRoyaltyFen], [300 + 50, 360 + 50]);
    assert.equal(terminal.differenceFen, 0, 'the amounts themselves agree');
    const refund = day.totals!.kinds.find((k) => k.kind === 'REFUND')!;
    assert.deepEqual([refund.royaltyFen, refund.oursRoyaltyFen], [-200, -270]);

    const staff = await adminOf(stack, stack.school.id, 'STAFF');
    const inbox = `/api/v1/admin/schools/${stack.school.id}/inbox`;
    const listed = await staff.http.get(`${inbox}?kind=reconciliation.finding&limit=50`);
    assert.equal(listed.status, 200, listed.text);
    const day1 = await staff.http.get(
      `/api/v1/admin/schools/${stack.school.id}/reconciliation/days/${billDate}`,
    );
    const findings = day1.body.findingList as Array<{
      id: string;
      kind: string;
      action: string;
      outTradeNo: string;
      oursFen: number;
      alipayFen: number;
      repairs: string[];
    }>;
    assert.deepEqual(
      findings.map((f) => [f.kind, f.action, f.outTradeNo, f.oursFen, f.alipayFen, f.repairs.join()]).sort(),
      [
        ['REFUND_ROYALTY_DIFFERS', 'INVESTIGATE', outTradeNo, 270, 200, 'mark-handled'],
        ['ROYALTY_DIFFERS', 'INVESTIGATE', outTradeNo, 360, 300, 'mark-handled'],
      ],
    );
    for (const f of findings) {
      const item = listed.body.items.find((i: { id: string }) => i.id === f.id);
      assert.deepEqual(
        item.actions.map((x: { name: string }) => x.name),
        ['mark-handled'],
      );
    }
    assert.match(
      listed.body.items.find(
        (i: { id: string }) => i.id === findings.find((f) => f.kind === 'ROYALTY_DIFFERS')!.id,
      ).detail,
      /分润金额不一致 · 平台 ¥3\.60 \/ 支付宝 ¥3\.00/,
    );

    // Investigated and handled once each; a second tap changes nothing, and no money moved back.
    for (const f of findings) {
      const path = `${inbox}/reconciliation.finding/${f.id}/mark-handled`;
      const handled = await staff.http.post(path, { reason: `与支付宝核对分润: ${f.kind}` });
      assert.deepEqual([handled.status, handled.body.changed, handled.body.status], [200, true, 'HANDLED']);
      const again = await staff.http.post(path, { reason: 'again' });
      assert.deepEqual([again.status, again.body.changed], [200, false]);
    }
    assert.equal((await stack.alipay.control.getAccount(operatorId)).balanceFen, operatorBefore);

    const rerun = await reconcileDay(stack.app.deps, stack.school, billDate);
    assert.deepEqual([rerun.newFindings, rerun.openFindings, rerun.balanced], [0, 0, true]);
    const { rows: all } = await stack.app.deps.pool.query(
      `select kind, status, resolution from reconciliation_findings where school_id = $1 and bill_date = $2 order by kind`,
      [stack.school.id, billDate],
    );
    assert.deepEqual(
      all.map((r) => [r.kind, r.status, r.resolution]),
      [
        ['REFUND_ROYALTY_DIFFERS', 'RESOLVED', 'HANDLED'],
        ['ROYALTY_DIFFERS', 'RESOLVED', 'HANDLED'],
      ],
    );
  });
});
