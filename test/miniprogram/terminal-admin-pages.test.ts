import assert from 'node:assert/strict';
import { adminOf } from '../support/admins.js';
import { OffsetClock } from '../support/clock.js';
import { eventually } from '../support/http.js';
import { startStack, type Stack } from '../support/stack.js';
import { COLA, vendingMachine } from '../integration/terminals/helpers.js';
import type { MiniRuntime } from './support/runtime.js';
import { closeOpenedRuntimes, openMiniprogram } from './support/session.js';

/**
 * The admin pages for vending machines and cashier windows (issue 15), driven as an owner, staff and a viewer
 * would against the real BFF: add a terminal with profit sharing (the secret shown once), edit it, disable
 * it, and read its orders. Only the Alipay app runtime (`my.*`) is simulated.
 */
describe('mini-program admin pages for terminals', function () {
  this.timeout(90_000);
  let stack: Stack;
  let runtime: MiniRuntime | undefined;
  const clock = new OffsetClock();

  before(async function () {
    this.timeout(180_000);
    stack = await startStack({ clock });
  });
  after(() => stack?.stop());
  afterEach(closeOpenedRuntimes);

  it('lets an owner add a terminal with profit sharing, shows the secret once, and names a wrong field', async () => {
    const owner = await adminOf(stack, stack.school.id, 'OWNER');
    runtime = await openMiniprogram(stack, owner.user);
    const home = runtime.launch(`/pages/admin-home/admin-home?schoolId=${stack.school.id}`);
    await home.waitFor((data) => !!data.home);
    await home.call('onTerminals');
    const list = await runtime.waitForPage('pages/admin-terminals/admin-terminals');
    await list.waitFor((data) => !data.loading);
    assert.equal(list.data.isOwner, true);
    await list.call('onAdd');
    const form = await runtime.waitForPage('pages/admin-terminal/admin-terminal');
    await form.waitFor((data) => !data.loading);
    assert.equal(form.data.isNew, true);

    await form.input('onTerminalIdInput', 'VM-PAGE-01');
    await form.input('onNameInput', '饮料机');
    await form.input('onLocationInput', '二食堂');
    await form.call('onMoneyModeChange', 'ROYALTY');
    await form.input('onRoyaltyAccountInput', '2088123');
    await form.input('onShareInput', '30');
    await form.call('onSave');
    assert.match(form.data.errors.royaltyAccount, /2088/, 'checked before sending');
    assert.equal(form.data.created, null);

    const operator = await stack.alipay.control.createMerchant({ name: '页面运营商' });
    await form.input('onRoyaltyAccountInput', operator.accountId);
    await form.call('onSave');
    assert.equal(form.data.formError, '');
    const created = form.data.created as { secret: string } | null;
    assert.match(created?.secret ?? '', /\S{20,}/);
    assert.equal(form.data.isNew, false);
    const { rows } = await stack.app.deps.pool.query(
      `select money_mode, royalty_account, royalty_bps, royalty_timing from terminals
        where school_id = $1 and terminal_id = 'VM-PAGE-01'`,
      [stack.school.id],
    );
    assert.deepEqual(rows[0], {
      money_mode: 'ROYALTY',
      royalty_account: operator.accountId,
      royalty_bps: 3_000,
      royalty_timing: 'ON_PAYMENT',
    });

    // The same terminal id again: the server's refusal is shown under the field.
    const again = runtime.launch(`/pages/admin-terminal/admin-terminal?schoolId=${stack.school.id}`);
    await again.waitFor((data) => !data.loading);
    await again.input('onTerminalIdInput', 'VM-PAGE-01');
    await again.input('onNameInput', '另一台');
    await again.call('onSave');
    assert.ok(again.data.errors.terminalId || again.data.formError, 'the duplicate is refused');
    assert.equal(again.data.created, null);
  });

  it('lets staff edit and disable a terminal but not change where its money goes; a viewer only reads', async () => {
    const machine = await vendingMachine(stack, { name: '零食机' });
    try {
      const staff = await adminOf(stack, stack.school.id, 'STAFF');
      runtime = await openMiniprogram(stack, staff.user);
      const list = runtime.launch(`/pages/admin-terminals/admin-terminals?schoolId=${stack.school.id}`);
      await list.waitFor((data) => !data.loading);
      assert.equal(list.data.isOwner, false);
      const row = list.data.rows.find((r: { id: string }) => r.id === machine.terminalRef);
      assert.match(row.title, /零食机/);
      assert.equal(row.moneyText, '学校收款');

      await list.tap('onEdit', { id: machine.terminalRef });
      const form = await runtime.waitForPage('pages/admin-terminal/admin-terminal');
      await form.waitFor((data) => !data.loading);
      assert.deepEqual([form.data.canEdit, form.data.isOwner], [true, false]);
      await form.input('onLocationInput', '图书馆一楼');
      await form.call('onSave');
      assert.equal(form.data.saved.location, '图书馆一楼');
      await form.call('onMoneyModeChange', 'RESTRICTED');
      await form.input('onSellerInput', '2088000000000777');
      await form.call('onSave');
      assert.equal(form.data.formError, '只有学校负责人可以修改收款方式');

      await list.tap('onToggle', { id: machine.terminalRef });
      const disabled = list.data.rows.find((r: { id: string }) => r.id === machine.terminalRef);
      assert.equal(disabled.statusLabel, '已停用');
      const refused = await machine.createOrder([COLA]);
      assert.equal(refused.status, 409, JSON.stringify(refused.body));
      await list.tap('onToggle', { id: machine.terminalRef });
      runtime.close();

      const viewer = await adminOf(stack, stack.school.id, 'VIEWER');
      runtime = await openMiniprogram(stack, viewer.user);
      const read = runtime.launch(`/pages/admin-terminals/admin-terminals?schoolId=${stack.school.id}`);
      await read.waitFor((data) => !data.loading);
      assert.equal(read.data.canOperate, false);
    } finally {
      await machine.stop();
    }
  });

  it("shows a terminal's orders and the school's exceptions", async () => {
    const machine = await vendingMachine(stack);
    try {
      const { body: order } = await machine.createOrder([COLA]);
      const buyer = await stack.createUser();
      await stack.alipay.control.scanQrCode({ qrCode: order.pay.qrCode!, userId: buyer.userId });
      await machine.acknowledgedCallback(order.outOrderNo);
      await machine.reportDispensed(order.outOrderNo, { result: 'FAILED' });

      const viewer = await adminOf(stack, stack.school.id, 'VIEWER');
      runtime = await openMiniprogram(stack, viewer.user);
      const list = runtime.launch(`/pages/admin-terminals/admin-terminals?schoolId=${stack.school.id}`);
      await list.waitFor((data) => !data.loading);
      await list.tap('onOrders', { id: machine.terminalRef });
      const orders = await runtime.waitForPage('pages/admin-terminal-orders/admin-terminal-orders');
      await orders.waitFor((data) => !data.loading);
      assert.equal(orders.data.rows.length, 1);
      const row = orders.data.rows[0];
      assert.deepEqual([row.amountText, row.statusLabel], ['¥3.00', '已支付']);
      assert.ok(row.lines.includes('未出货'), row.lines.join('|'));
      assert.ok(
        row.lines.some((l: string) => /^(已退款|退款中) ¥3\.00$/.test(l)),
        row.lines.join('|'),
      );
      assert.match(row.refText, new RegExp(order.outOrderNo));

      await orders.call('onFilterChange', 'CALLBACK_GAVE_UP');
      await orders.waitFor((data) => !data.loading);
      assert.equal(orders.data.isEmpty, true);
      assert.ok(orders.data.filterOptions.some((o: { value: string }) => o.value === 'REFUND_FAILED'));
    } finally {
      await machine.stop();
    }
  });

  it('lets staff clear vending orders from the inbox: a refund of one never reported (with a reason), a refused split sent again', async () => {
    const staff = await adminOf(stack, stack.school.id, 'STAFF');
    const operator = await stack.alipay.control.createMerchant({ name: '收件箱页面的承包商' });
    const silent = await vendingMachine(stack);
    const splitter = await vendingMachine(stack, {
      moneyMode: 'ROYALTY',
      royalty: { account: operator.accountId, fixedFen: 50, timing: 'AFTER_DISPENSE' },
    });
    const paidByQr = async (machine: typeof silent) => {
      const { body: order } = await machine.createOrder([COLA]);
      const buyer = await stack.createUser();
      await stack.alipay.control.scanQrCode({ qrCode: order.pay.qrCode!, userId: buyer.userId });
      await machine.acknowledgedCallback(order.outOrderNo);
      return { order, buyer };
    };
    try {
      // One machine never says what it gave out; the other's royalty split is refused by Alipay.
      const unreported = await paidByQr(silent);
      const split = await paidByQr(splitter);
      await stack.alipay.control.injectApiFault({
        method: 'alipay.trade.order.settle',
        times: 1,
        error: { subCode: 'ACQ.ROYALTY_RECEIVER_INVALID' },
      });
      assert.equal((await splitter.reportDispensed(split.order.outOrderNo, { result: 'OK' })).status, 200);
      await eventually(
        async () => {
          const { rows } = await stack.app.deps.pool.query(
            `select settle_status from terminal_orders where order_no = $1`,
            [split.order.orderNo],
          );
          return rows[0]?.settle_status === 'FAILED';
        },
        { timeoutMs: 20_000, message: 'the refused split' },
      );
      const balanceBefore = (await stack.alipay.control.getAccount(unreported.buyer.userId)).balanceFen;
      clock.advance(11 * 60_000);
      try {
        runtime = await openMiniprogram(stack, staff.user);
        const inbox = runtime.launch(`/pages/admin-inbox/admin-inbox?schoolId=${stack.school.id}`);
        await inbox.waitFor((data) => !data.loading);
        const rowOf = (orderNo: string) =>
          inbox.data.rows.find((r: { brief: string }) => r.brief.includes(orderNo));

        // 未出货，全额退款: asks for the reason the audit log keeps, then the buyer has the money back.
        const refund = rowOf(unreported.order.orderNo);
        assert.equal(refund?.title, '机器未报告出货');
        assert.deepEqual(
          refund.actions.map((a: { label: string }) => a.label),
          ['未出货，全额退款'],
        );
        await inbox.tap('onAction', { key: refund.key, action: 'refund-undispensed' });
        assert.equal(inbox.data.reasonFor.label, '未出货，全额退款');
        await inbox.input('onReasonInput', '学生投诉未出货，监控确认');
        await inbox.call('onReasonConfirm');
        await inbox.waitFor(() => !rowOf(unreported.order.orderNo));
        assert.equal(
          (await stack.alipay.control.getAccount(unreported.buyer.userId)).balanceFen,
          balanceBefore + 300,
        );

        // 重试分账: confirmed in a dialog; the operator is paid once and the item leaves the inbox.
        const settle = rowOf(split.order.orderNo);
        assert.equal(settle?.title, '分账失败');
        await inbox.tap('onAction', { key: settle.key, action: 'retry-settle' });
        assert.ok(runtime.my.dialogs.some((d) => d.title === '重试分账' && /不会重复分账/.test(d.content!)));
        await eventually(
          async () => (await stack.alipay.control.getAccount(operator.accountId)).balanceFen === 50,
          { timeoutMs: 20_000, message: 'the operator got the share' },
        );
        await eventually(
          async () => {
            await inbox.lifecycle('onPullDownRefresh');
            return !rowOf(split.order.orderNo);
          },
          { timeoutMs: 20_000, message: 'the item leaves the inbox once the split succeeded' },
        );
        const { rows } = await stack.app.deps.pool.query(
          `select action, actor_id from audit_log where school_id = $1 and target = any($2) order by id`,
          [stack.school.id, [unreported.order.orderNo, split.order.orderNo]],
        );
        assert.deepEqual(
          rows.map((r) => [r.action, r.actor_id]),
          [
            ['terminal-order.refund-undispensed', staff.userId],
            ['terminal-order.settle.retry', staff.userId],
          ],
        );
        // The 全部 tab asks for every kind: no `kind` on the wire.
        const inboxCalls = runtime.my.requests.filter((r) => /\/inbox\?/.test(r.url));
        assert.ok(inboxCalls.length > 0);
        for (const call of inboxCalls) assert.doesNotMatch(call.url, /[?&]kind=/);
      } finally {
        clock.advance(-11 * 60_000);
      }
    } finally {
      await silent.stop();
      await splitter.stop();
    }
  });
});
