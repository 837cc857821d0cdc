import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { refreshDailyStats } from '../../server/src/domain/dashboard/daily-stats.js';
import { arrearsOf, creditFailedRecharge } from '../integration/admin/helpers.js';
import { adminOf } from '../support/admins.js';
import { eventually } from '../support/http.js';
import { testIdNumber, testMobile } from '../support/identity.js';
import { startStack, type Stack } from '../support/stack.js';
import { userWithCard, vendorCreditsFor, waitForRecharge } from '../integration/student/helpers.js';
import { gatewayFor, sale, signedPayer, type Gateway } from '../integration/withholding/helpers.js';
import type { MiniRuntime } from './support/runtime.js';
import { closeOpenedRuntimes, openMiniprogram } from './support/session.js';

/**
 * The admin operations pages of the mini-program (issue 13), driven as a school's owner and viewer would
 * against the real BFF and both sandboxes: the roster import from a picked file, a student's one-tap
 * binding against it, the exceptions inbox clearing a CREDIT_FAILED recharge and an ARREARS deduction
 * (both in the audit log), the dashboard with its 7-day trend, and orders with their timeline.
 */
describe('mini-program admin operations pages against the real BFF', function () {
  this.timeout(120_000);
  let stack: Stack;
  let gateway: Gateway;
  let runtime: MiniRuntime | undefined;
  let dir: string;

  before(async function () {
    this.timeout(180_000);
    stack = await startStack({
      env: {
        RECHARGE_CREDIT_RETRY_MS: '50',
        DEDUCTION_RETRY_SCALE: '0.001',
        DEDUCTION_POLL_INTERVAL_MS: '100',
        ADMIN_STATS_LAG_MS: '0',
      },
      schoolSettings: { retryScheduleSeconds: [100] },
    });
    gateway = await gatewayFor(stack);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'admin-pages-'));
  });
  after(async () => {
    await stack?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  afterEach(closeOpenedRuntimes);

  it('lets an owner import a roster from a file; a student binds with one tap; the owner clears a CREDIT_FAILED recharge and an ARREARS deduction from the inbox, each in the audit log', async () => {
    const school = stack.school;
    const owner = await adminOf(stack, school.id, 'OWNER');

    // The owner picks a roster file on the PC client; one row has a bad phone number.
    const card = await stack.createCard();
    const idNumber = testIdNumber('20050607');
    const file = path.join(dir, '2026级名单.csv');
    fs.writeFileSync(
      file,
      [
        '姓名,学号,卡号,身份证号,手机号,监护人手机,是否学生',
        `${card.holderName},${card.studentNo},${card.cardNo},${idNumber},${testMobile()},,是`,
        `错号,S2,81000002,,12345,,是`,
      ].join('\n'),
    );
    runtime = await openMiniprogram(stack, owner.user, {
      chooseFileFromDisk: async () => ({ apFilePath: file }),
    });
    const home = runtime.launch(`/pages/admin-home/admin-home?schoolId=${school.id}`);
    await home.waitFor((data) => !!data.home);
    await home.call('onRoster');
    const roster = await runtime.waitForPage('pages/admin-roster/admin-roster');
    await roster.waitFor((data) => !data.loading);
    assert.equal(roster.data.canPick, true);
    await roster.call('onPickFile');
    await roster.waitFor((data) => !!data.report && !data.report.isRunning);
    assert.equal(roster.data.report.title, '2026级名单.csv · 导入完成');
    assert.match(roster.data.report.counts, /新增 1 · 更新 0 · 未变 0 · 有误 1/);
    assert.deepEqual(
      roster.data.report.errors.map((e: { text: string }) => e.text.split('：')[0]),
      ['第 3 行 · 手机号'],
    );
    const upload = runtime.my.requests.find((r) => r.url.endsWith('/roster/imports') && r.method === 'POST');
    assert.equal(upload?.status, 201);
    runtime.close();

    // The student lets Alipay share the certified ID number: the bind page finds the card, one tap binds it.
    const student = await stack.createUser(100_000, { certNo: idNumber });
    await stack.alipay.control.shareInfo(student.userId, { certNo: true });
    runtime = await openMiniprogram(stack, student);
    const bind = runtime.launch(
      `/pages/bind/bind?schoolId=${school.id}&schoolName=${encodeURIComponent(school.name)}`,
    );
    await bind.waitFor((data) => !data.loading);
    await bind.call('onFindWithAlipay');
    assert.equal(bind.data.matches.length, 1, bind.data.lookupNotice);
    await bind.tap('onBindMatch', { token: bind.data.matches[0].token });
    await runtime.waitForPage('pages/card/card');
    runtime.close();

    // Two things stuck for a person: a recharge the card system refused, an unpaid canteen swipe.
    const failed = await creditFailedRecharge(stack, 1_500);
    await stack.cardsys.control.setStatus(school.code, failed.card.cardNo, 'NORMAL');
    const debtor = await signedPayer(stack, { balanceFen: 0 });
    const owed = await arrearsOf(stack, gateway, debtor, 600);

    runtime = await openMiniprogram(stack, owner.user);
    const inbox = runtime.launch(`/pages/admin-inbox/admin-inbox?schoolId=${school.id}`);
    await inbox.waitFor((data) => !data.loading);
    const rowOf = (orderNo: string) =>
      inbox.data.rows.find((r: { brief: string }) => r.brief.includes(orderNo));
    const recharge = rowOf(failed.outTradeNo);
    assert.deepEqual(
      recharge.actions.map((a: { label: string }) => a.label),
      ['重新入账', '退款给付款人'],
    );
    // A double tap: one credit at the card system.
    await Promise.all([
      inbox.tap('onAction', { key: recharge.key, action: 'retry-credit' }),
      inbox.tap('onAction', { key: recharge.key, action: 'retry-credit' }),
    ]);
    await inbox.waitFor(() => !rowOf(failed.outTradeNo));
    await waitForRecharge(failed.api, failed.orderId, 'CREDITED');
    assert.equal((await vendorCreditsFor(stack, failed.card.cardNo, failed.outTradeNo)).length, 1);
    assert.ok(runtime.my.dialogs.some((d) => d.title === '重新入账' && /不会重复入账/.test(d.content!)));

    const debt = rowOf(owed.deductionNo);
    assert.deepEqual(
      debt.actions.map((a: { name: string }) => a.name),
      ['collect-now', 'waive'],
    );
    await inbox.tap('onAction', { key: debt.key, action: 'waive' });
    assert.equal(inbox.data.reasonFor.label, '免除欠款');
    await inbox.call('onReasonConfirm');
    assert.equal(inbox.data.reasonError, '请写明原因（2–200 个字）');
    await inbox.input('onReasonInput', '家庭困难，学校承担');
    await inbox.call('onReasonConfirm');
    await inbox.waitFor(() => !rowOf(owed.deductionNo));
    assert.equal((await gateway.get(`/gateway/v1/deductions/${owed.txnNo}`)).body.status, 'WAIVED');
    assert.equal((await gateway.deduct(sale(debtor.card.cardNo, 100))).body.decision, 'APPROVED');
    runtime.close();

    runtime = await openMiniprogram(stack, owner.user);
    const audit = runtime.launch(`/pages/admin-audit/admin-audit?schoolId=${school.id}`);
    await audit.waitFor((data) => !data.loading);
    const titles = audit.data.entries.map((e: { title: string }) => e.title);
    for (const title of ['导入学生名单', '重新入账', '免除欠款']) assert.ok(titles.includes(title), titles);
    const waived = audit.data.entries.find((e: { title: string }) => e.title === '免除欠款');
    assert.ok(waived.changes.includes('原因：家庭困难，学校承担'), JSON.stringify(waived.changes));
  });

  it('says where a roster can be imported when the client cannot pick a file', async () => {
    const owner = await adminOf(stack, stack.school.id, 'OWNER');
    runtime = await openMiniprogram(stack, owner.user);
    const roster = runtime.launch(`/pages/admin-roster/admin-roster?schoolId=${stack.school.id}`);
    await roster.waitFor((data) => !data.loading);
    assert.equal(roster.data.canPick, false);
    assert.ok(!runtime.my.calls.includes('chooseFileFromDisk'));
  });

  it("shows a viewer today's figures, what stands open and a 7-day trend; finds an order by card number and opens its timeline", async () => {
    const viewer = await adminOf(stack, stack.school.id, 'VIEWER');
    runtime = await openMiniprogram(stack, viewer.user);
    await refreshDailyStats(stack.app.deps);
    const dashboard = runtime.launch(`/pages/admin-dashboard/admin-dashboard?schoolId=${stack.school.id}`);
    await dashboard.waitFor((data) => !!data.view);
    const paidToday = () => Number(dashboard.data.view.today[0].value.split(' ')[0]);
    const before = paidToday();

    const payer = await userWithCard(stack);
    const created = await payer.api.post('/api/v1/recharges', {
      bindingId: payer.bindingId,
      amountFen: 2_000,
    });
    await stack.alipay.control.payTrade({ tradeNO: created.body.tradeNo, userId: payer.user.userId });
    await waitForRecharge(payer.api, created.body.id, 'CREDITED');
    await eventually(async () => {
      await refreshDailyStats(stack.app.deps);
      await dashboard.lifecycle('onPullDownRefresh');
      return paidToday() === before + 1;
    });
    const today = dashboard.data.view.today[0];
    assert.equal(today.label, '充值');
    assert.match(today.hint, /^¥[\d,.]+ · 已入账 \d+ · 入账失败 \d+$/);
    assert.equal(dashboard.data.bars.length, 7);
    const todayBar = dashboard.data.bars[6];
    assert.equal(todayBar.label, '今天');
    assert.equal(todayBar.heightPct, 100, 'only today had recharges in this stack');
    assert.ok(dashboard.data.bars.slice(0, 6).every((b: { heightPct: number }) => b.heightPct === 0));
    await dashboard.call('onSeriesChange', 'declined');
    assert.equal(dashboard.data.series, 'declined');
    assert.match(dashboard.data.bars[6].valueText, /^\d+$/);
    assert.ok(dashboard.data.view.open.some((t: { label: string }) => t.label === '待处理事项'));

    const orders = runtime.launch(`/pages/admin-orders/admin-orders?schoolId=${stack.school.id}`);
    await orders.waitFor((data) => data.searched);
    await orders.call('onKindChange', 'RECHARGE');
    await orders.input('onTextInput', payer.card.cardNo);
    await orders.call('onSearch');
    assert.equal(orders.data.rows.length, 1);
    const [row] = orders.data.rows;
    assert.equal(row.amount, '¥20.00');
    assert.equal(row.status, '已到账');
    assert.match(row.brief, new RegExp(`卡号 \\*+${payer.card.cardNo.slice(-4)} `), 'masked for viewers');
    await orders.tap('onOpenOrder', { key: row.key });
    const order = await runtime.waitForPage('pages/admin-order/admin-order');
    await order.waitFor((data) => !!data.view);
    const steps = order.data.view.timeline as Array<{ kind: string; title: string; outcome: string }>;
    assert.ok(
      steps.some(
        (s) =>
          s.kind === '外部调用' &&
          s.title === 'alipay.trade.create' &&
          /^OK · 10000 · \d+ ms$/.test(s.outcome),
      ),
    );
    assert.ok(steps.some((s) => s.kind === '支付宝通知'));
    assert.ok(steps.some((s) => s.kind === '状态' && s.title === 'PAID → CREDITED'));
    assert.equal(order.data.hasActions, false);
  });
});
