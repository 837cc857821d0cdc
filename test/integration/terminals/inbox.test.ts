import assert from 'node:assert/strict';
import { adminOf } from '../../support/admins.js';
import { OffsetClock } from '../../support/clock.js';
import { eventually } from '../../support/http.js';
import { startStack, type Stack } from '../../support/stack.js';
import { COLA, vendingMachine } from './helpers.js';

interface InboxItemBody {
  kind: string;
  id: string;
  orderNo: string | null;
  status: string;
  title: string;
  detail: string | null;
  actions: Array<{ name: string }>;
}

/**
 * Terminal orders in the school admins' exceptions inbox (issues 13 and 15): one kind, one item per order,
 * its problems in `status`; the actions go through the terminal code and are idempotent and audited.
 */
describe('terminal orders in the exceptions inbox', function () {
  this.timeout(120_000);
  let stack: Stack;
  const clock = new OffsetClock();
  let staff: Awaited<ReturnType<typeof adminOf>>['http'];
  let viewer: Awaited<ReturnType<typeof adminOf>>['http'];
  let base: string;

  before(async function () {
    this.timeout(180_000);
    // A callback the machine drops twice gives up at once: two attempts 50 ms apart.
    stack = await startStack({ clock, env: { TERMINAL_CALLBACK_RETRY_MS: '50' } });
    staff = (await adminOf(stack, stack.school.id, 'STAFF')).http;
    viewer = (await adminOf(stack, stack.school.id, 'VIEWER')).http;
    base = `/api/v1/admin/schools/${stack.school.id}`;
  });
  after(() => stack?.stop());

  async function itemOf(orderNo: string): Promise<InboxItemBody | undefined> {
    const res = await staff.get(`${base}/inbox?kind=terminal-order.problem&limit=50`);
    assert.equal(res.status, 200, res.text);
    return (res.body.items as InboxItemBody[]).find((i) => i.orderNo === orderNo);
  }

  async function auditActions(target: string): Promise<string[]> {
    const { rows } = await stack.app.deps.pool.query(
      'select action from audit_log where school_id = $1 and target = $2 order by id',
      [stack.school.id, target],
    );
    return rows.map((r) => r.action as string);
  }

  async function paidByQr(machine: Awaited<ReturnType<typeof vendingMachine>>) {
    const { body: order } = await machine.createOrder([COLA]);
    const buyer = await stack.createUser();
    await stack.alipay.control.scanQrCode({ qrCode: order.pay.qrCode!, userId: buyer.userId });
    return { order, buyer };
  }

  it('shows a refund Alipay refused; staff retry it once with the same request number, a second tap changes nothing', async () => {
    const machine = await vendingMachine(stack);
    try {
      const { order, buyer } = await paidByQr(machine);
      await machine.acknowledgedCallback(order.outOrderNo);
      const balanceBefore = (await stack.alipay.control.getAccount(buyer.userId)).balanceFen;
      await stack.alipay.control.injectApiFault({
        method: 'alipay.trade.refund',
        times: 1,
        error: { subCode: 'ACQ.TRADE_NOT_ALLOW_REFUND' },
      });
      assert.equal((await machine.reportDispensed(order.outOrderNo, { result: 'FAILED' })).status, 200);

      const item = await eventually(() => itemOf(order.orderNo), {
        message: 'the refused refund in the inbox',
      });
      assert.equal(item.status, 'REFUND_FAILED');
      assert.equal(item.title, '退款失败');
      assert.match(item.detail ?? '', /退款: .*TRADE_NOT_ALLOW_REFUND/);
      assert.deepEqual(
        item.actions.map((a) => a.name),
        ['retry-refund', 'mark-handled'],
      );
      // Not a second time as a plain stuck refund.
      const stuck = await staff.get(`${base}/inbox?kind=refund.stuck&limit=50`);
      assert.ok(!stuck.text.includes(order.orderNo));

      const url = `${base}/inbox/terminal-order.problem/${item.id}/retry-refund`;
      assert.equal((await viewer.post(url, {})).status, 403);
      const retried = await staff.post(url, {});
      assert.equal(retried.status, 200, retried.text);
      assert.deepEqual([retried.body.changed, retried.body.status], [true, 'REFUNDED']);
      const again = await staff.post(url, {});
      assert.equal(again.body.changed, false);

      assert.equal((await stack.alipay.control.getAccount(buyer.userId)).balanceFen, balanceBefore + 300);
      const [trade] = (await stack.alipay.control.ledger({ outTradeNo: `${order.orderNo}Q` })).trades;
      assert.equal(trade.refunds.length, 1, 'refunded exactly once');
      assert.equal(await itemOf(order.orderNo), undefined);
      assert.deepEqual(await auditActions(`${order.orderNo}D`), ['refund.retry']);
    } finally {
      await machine.stop();
    }
  });

  it('shows a callback the machine never acknowledged; staff call the machine again', async () => {
    const machine = await vendingMachine(stack);
    try {
      machine.dropNext = 2;
      const { order } = await paidByQr(machine);
      const item = await eventually(
        async () => {
          const found = await itemOf(order.orderNo);
          return found?.status === 'CALLBACK_GAVE_UP' ? found : undefined;
        },
        { message: 'the callback gave up' },
      );
      assert.equal(item.title, '机器未确认支付通知');
      assert.deepEqual(
        item.actions.map((a) => a.name),
        ['retry-callback'],
      );
      const url = `${base}/inbox/terminal-order.problem/${item.id}/retry-callback`;
      const retried = await staff.post(url, {});
      assert.deepEqual([retried.status, retried.body.changed], [200, true]);
      const callback = await machine.acknowledgedCallback(order.outOrderNo);
      assert.equal(callback.order.status, 'PAID');
      const again = await staff.post(url, {});
      assert.equal(again.body.changed, false);
      assert.equal(await itemOf(order.orderNo), undefined);
      assert.deepEqual(await auditActions(order.orderNo), ['terminal-order.callback.retry']);
    } finally {
      await machine.stop();
    }
  });

  it('shows a paid order without a dispense report once the school window has passed, until the machine reports', async () => {
    const machine = await vendingMachine(stack);
    try {
      const { order } = await paidByQr(machine);
      await machine.acknowledgedCallback(order.outOrderNo);
      assert.equal(await itemOf(order.orderNo), undefined, 'within the window');
      clock.advance(11 * 60_000);
      try {
        const item = await itemOf(order.orderNo);
        assert.equal(item?.status, 'NO_DISPENSE_REPORT');
        assert.equal(item?.title, '机器未报告出货');
        const inbox = await staff.get(`${base}/inbox`);
        const kind = (inbox.body.kinds as Array<{ kind: string; count: number }>).find(
          (k) => k.kind === 'terminal-order.problem',
        );
        assert.ok(kind && kind.count >= 1);
        assert.equal((await machine.reportDispensed(order.outOrderNo, { result: 'OK' })).status, 200);
        assert.equal(await itemOf(order.orderNo), undefined);
      } finally {
        clock.advance(-11 * 60_000);
      }
    } finally {
      await machine.stop();
    }
  });

  it('staff refund a paid order the machine never reported, whole and once, with a reason; a later report is refused', async () => {
    const machine = await vendingMachine(stack);
    try {
      const { order, buyer } = await paidByQr(machine);
      await machine.acknowledgedCallback(order.outOrderNo);
      const balanceBefore = (await stack.alipay.control.getAccount(buyer.userId)).balanceFen;
      clock.advance(11 * 60_000);
      try {
        const item = await itemOf(order.orderNo);
        assert.equal(item?.status, 'NO_DISPENSE_REPORT');
        assert.deepEqual(
          item.actions.map((a) => a.name),
          ['refund-undispensed'],
        );
        const url = `${base}/inbox/terminal-order.problem/${item.id}/refund-undispensed`;
        assert.equal((await viewer.post(url, { reason: '学生投诉未出货' })).status, 403);
        const noReason = await staff.post(url, {});
        assert.deepEqual([noReason.status, noReason.body.error.field], [400, 'body.reason']);
        const refunded = await staff.post(url, { reason: '学生投诉未出货，监控确认' });
        assert.equal(refunded.status, 200, refunded.text);
        assert.deepEqual([refunded.body.changed, refunded.body.status], [true, 'REFUNDED']);
        const again = await staff.post(url, { reason: '再点一次' });
        assert.deepEqual([again.body.changed, again.body.status], [false, 'FAILED']);

        assert.equal((await stack.alipay.control.getAccount(buyer.userId)).balanceFen, balanceBefore + 300);
        const [trade] = (await stack.alipay.control.ledger({ outTradeNo: `${order.orderNo}Q` })).trades;
        assert.deepEqual(
          trade.refunds.map((r) => [r.outRequestNo, r.amountFen]),
          [[`${order.orderNo}D`, 300]],
        );
        assert.equal(await itemOf(order.orderNo), undefined);
        const late = await machine.reportDispensed(order.outOrderNo, { result: 'OK' });
        assert.deepEqual(
          [late.status, (late.body as unknown as { error: { code: string } }).error.code],
          [409, 'DISPENSE_CONFLICT'],
        );
        const polled = await machine.getOrder(order.outOrderNo);
        assert.deepEqual([polled.body.dispense?.result, polled.body.dispense?.refundFen], ['FAILED', 300]);
        assert.deepEqual(await auditActions(order.orderNo), ['terminal-order.refund-undispensed']);
      } finally {
        clock.advance(-11 * 60_000);
      }
    } finally {
      await machine.stop();
    }
  });

  it('shows a royalty split Alipay refused; staff send it again and the operator is paid once', async () => {
    const operator = await stack.alipay.control.createMerchant({ name: '分账失败的承包商' });
    const machine = await vendingMachine(stack, {
      moneyMode: 'ROYALTY',
      royalty: { account: operator.accountId, fixedFen: 50, timing: 'AFTER_DISPENSE' },
    });
    try {
      const { order } = await paidByQr(machine);
      await machine.acknowledgedCallback(order.outOrderNo);
      await stack.alipay.control.injectApiFault({
        method: 'alipay.trade.order.settle',
        times: 1,
        error: { subCode: 'ACQ.ROYALTY_RECEIVER_INVALID' },
      });
      assert.equal((await machine.reportDispensed(order.outOrderNo, { result: 'OK' })).status, 200);
      const item = await eventually(
        async () => {
          const found = await itemOf(order.orderNo);
          return found?.status === 'SETTLE_FAILED' ? found : undefined;
        },
        { timeoutMs: 20_000, message: 'the refused split in the inbox' },
      );
      assert.equal(item.title, '分账失败');
      assert.deepEqual(
        item.actions.map((a) => a.name),
        ['retry-settle'],
      );
      assert.equal(await stack.alipay.control.getAccount(operator.accountId).then((a) => a.balanceFen), 0);

      const url = `${base}/inbox/terminal-order.problem/${item.id}/retry-settle`;
      assert.equal((await viewer.post(url, {})).status, 403);
      const retried = await staff.post(url, {});
      assert.equal(retried.status, 200, retried.text);
      assert.equal(retried.body.changed, true);
      await eventually(
        async () => (await stack.alipay.control.getAccount(operator.accountId)).balanceFen === 50,
        { timeoutMs: 20_000, message: 'the operator got the share' },
      );
      const again = await staff.post(url, {});
      assert.equal(again.body.changed, false);
      const [trade] = (await stack.alipay.control.ledger({ outTradeNo: `${order.orderNo}Q` })).trades;
      assert.deepEqual(
        trade.settlements.map((s) => [s.outRequestNo, s.amountFen, s.state]),
        [[`${order.orderNo}S`, 50, 'SUCCESS']],
        'split once, under the number Alipay never received',
      );
      assert.equal(trade.frozenFen, 0);
      await eventually(async () => ((await itemOf(order.orderNo)) === undefined ? true : undefined), {
        message: 'the item leaves the inbox once the split succeeded',
      });
      assert.deepEqual(await auditActions(order.orderNo), ['terminal-order.settle.retry']);
    } finally {
      await machine.stop();
    }
  });

  it('does not act on another school’s order', async () => {
    const other = await stack.addSchool();
    const intruder = await adminOf(stack, other.id, 'OWNER');
    const machine = await vendingMachine(stack);
    try {
      const { order } = await paidByQr(machine);
      await machine.acknowledgedCallback(order.outOrderNo);
      const { rows } = await stack.app.deps.pool.query('select id from terminal_orders where order_no = $1', [
        order.orderNo,
      ]);
      const res = await intruder.http.post(
        `/api/v1/admin/schools/${other.id}/inbox/terminal-order.problem/${rows[0].id}/retry-callback`,
        {},
      );
      assert.deepEqual([res.status, res.body.error.code], [404, 'INBOX_ITEM_NOT_FOUND']);
    } finally {
      await machine.stop();
    }
  });
});
