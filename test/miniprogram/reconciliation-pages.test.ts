import assert from 'node:assert/strict';
import ExcelJS from 'exceljs';
import { beijingDate, reconcileDay } from '../../server/src/domain/reconciliation/reconcile-day.js';
import { adminOf } from '../support/admins.js';
import { startStack, type Stack } from '../support/stack.js';
import { userWithCard, waitForRecharge } from '../integration/student/helpers.js';
import type { MiniRuntime } from './support/runtime.js';
import { closeOpenedRuntimes, openMiniprogram } from './support/session.js';

/**
 * The reconciliation pages of the admin mini-program (issue 17) against the real BFF and sandboxes: a day
 * whose bill holds a stranger's trade and whose card system lost a credit shows on the calendar with its
 * open findings; staff re-credit one (confirmed, once at the card system) and mark the other handled (with
 * what was done) from the day's page, and the day turns balanced. A viewer sees the same without actions.
 */
describe('mini-program reconciliation pages against the real BFF', function () {
  this.timeout(120_000);
  let stack: Stack;
  let runtime: MiniRuntime | undefined;
  let billDate: string;
  let dropped: { outTradeNo: string; cardNo: string };

  before(async function () {
    this.timeout(240_000);
    stack = await startStack({ env: { RECONCILE_AUTO: 'false' } });
    billDate = beijingDate(new Date());
    const payer = await userWithCard(stack);
    const created = await payer.api.post('/api/v1/recharges', {
      bindingId: payer.bindingId,
      amountFen: 2_500,
    });
    assert.equal(created.status, 201, created.text);
    await stack.alipay.control.payTrade({ tradeNO: created.body.tradeNo, userId: payer.user.userId });
    await waitForRecharge(payer.api, created.body.id, 'CREDITED');
    dropped = { outTradeNo: created.body.outTradeNo, cardNo: payer.card.cardNo };
    await stack.cardsys.control.tamperCredit(stack.school.code, dropped.outTradeNo, 'drop');
    await stack.alipay.control.corruptBill({
      sellerId: stack.school.alipaySellerId!,
      billDate,
      kind: 'STRANGER',
      amountFen: 999,
    });
    // The day's bill exists from 09:00 the next day at Alipay.
    await stack.alipay.control.advanceClock({ days: 1, hours: 10 });
    const outcome = await reconcileDay(stack.app.deps, stack.school, billDate);
    assert.equal(outcome.openFindings, 2);
  });
  after(() => stack?.stop());
  afterEach(closeOpenedRuntimes);

  it('shows the day on the calendar with its open findings; staff re-credit and mark handled from the day, which turns balanced', async () => {
    const staff = await adminOf(stack, stack.school.id, 'STAFF');
    runtime = await openMiniprogram(stack, staff.user);
    const home = runtime.launch(`/pages/admin-home/admin-home?schoolId=${stack.school.id}`);
    await home.waitFor((data) => !!data.home);
    await home.call('onReconciliation');
    await runtime.waitForPage('pages/admin-reconciliation/admin-reconciliation');

    const calendar = runtime.launch(
      `/pages/admin-reconciliation/admin-reconciliation?schoolId=${stack.school.id}&month=${billDate.slice(0, 7)}`,
    );
    await calendar.waitFor((data) => !data.loading && !!data.calendar);
    const cellOf = () =>
      calendar.data.calendar.weeks
        .flatMap((w: { cells: unknown[] }) => w.cells)
        .find((c: { date: string }) => c.date === billDate);
    assert.deepEqual([cellOf().label, cellOf().tone, cellOf().canOpen], ['2 条差异', 'open', true]);
    assert.equal(calendar.data.calendar.summary, '已平 0 天，有差异 1 天');
    const [y, m] = billDate.split('-').map(Number);
    assert.equal(calendar.data.calendar.title, `${y}年${m}月`);

    await calendar.tap('onOpenDay', { date: billDate });
    const day = await runtime.waitForPage('pages/admin-reconciliation-day/admin-reconciliation-day');
    await day.waitFor((data) => !data.loading && !!data.header);
    assert.equal(day.data.header.state, '2 条差异待处理');
    assert.equal(day.data.canOperate, true);
    const recharge = day.data.totals.find((t: { key: string }) => t.key === 'RECHARGE');
    assert.deepEqual(
      [recharge.kind, recharge.ours, recharge.alipay, recharge.vendor, recharge.isOff],
      ['充值', '¥25.00', '¥25.00', '¥0.00', false],
    );
    const unknown = day.data.totals.find((t: { key: string }) => t.key === 'UNKNOWN');
    assert.deepEqual([unknown.kind, unknown.difference, unknown.isOff], ['平台不认识的交易', '-¥9.99', true]);

    const rowOf = (title: string) => day.data.findings.find((f: { title: string }) => f.title === title);
    const lostCredit = rowOf('已收款，一卡通没有这笔充值');
    assert.deepEqual(
      lostCredit.repairs.map((r: { label: string }) => r.label),
      ['重新入账', '标记已处理'],
    );
    assert.match(
      lostCredit.brief,
      new RegExp(`^重新入账 · 充值 ${dropped.outTradeNo} · 卡号 ${dropped.cardNo}$`),
    );

    // Re-credit: confirmed first, and one credit at the card system.
    await day.tap('onAction', { key: lostCredit.key, action: 're-credit' });
    await day.waitFor(() => !rowOf('已收款，一卡通没有这笔充值').isOpen);
    assert.ok(runtime.my.dialogs.some((d) => d.title === '重新入账' && /不会重复入账/.test(d.content!)));
    assert.equal(rowOf('已收款，一卡通没有这笔充值').outcome.split(' · ')[0], '已重新入账');
    assert.deepEqual(rowOf('已收款，一卡通没有这笔充值').repairs, []);
    const credits = (await stack.cardsys.control.getRecords(stack.school.code, dropped.cardNo)).filter(
      (r) => r.type === 'RECHARGE' && r.refNo === dropped.outTradeNo,
    );
    assert.equal(credits.length, 1);

    const stranger = rowOf('支付宝账单中有平台不认识的交易');
    await day.tap('onAction', { key: stranger.key, action: 'mark-handled' });
    assert.equal(day.data.reasonFor.label, '标记已处理');
    await day.call('onReasonConfirm');
    assert.equal(day.data.reasonError, '请写明原因（2–200 个字）');
    await day.input('onReasonInput', '支付宝客服确认是测试交易');
    await day.call('onReasonConfirm');
    await day.waitFor((data) => data.header.state === '已平');
    assert.match(rowOf('支付宝账单中有平台不认识的交易').outcome, /^已处理 · 支付宝客服确认是测试交易 · /);

    await calendar.lifecycle('onShow');
    await calendar.waitFor(() => cellOf().tone === 'balanced');
    assert.equal(cellOf().label, '已平');
  });

  it('shows a viewer the day and its findings without repairs, card numbers masked', async () => {
    const viewer = await adminOf(stack, stack.school.id, 'VIEWER');
    runtime = await openMiniprogram(stack, viewer.user);
    const day = runtime.launch(
      `/pages/admin-reconciliation-day/admin-reconciliation-day?schoolId=${stack.school.id}&billDate=${billDate}`,
    );
    await day.waitFor((data) => !data.loading && !!data.header);
    assert.equal(day.data.canOperate, false);
    assert.equal(day.data.findings.length, 2);
    assert.ok(day.data.findings.every((f: { repairs: unknown[] }) => f.repairs.length === 0));
    const withCard = day.data.findings.find((f: { brief: string }) => f.brief.includes('卡号'));
    const masked = `${'*'.repeat(dropped.cardNo.length - 4)}${dropped.cardNo.slice(-4)}`;
    assert.ok(withCard.brief.endsWith(`卡号 ${masked}`));

    // The finance office's workbook: a link to open on a computer goes to the clipboard.
    await day.call('onExport');
    assert.ok(runtime.my.dialogs.some((d) => d.title === '下载链接已复制' && /电脑浏览器/.test(d.content!)));
    const url = runtime.my.clipboard!;
    assert.match(url, /^http:\/\/.+\/exports\/reconciliation\/[\w-]+\.[\w-]+$/);
    // Opened in a browser: no session, the workbook as a download, masked as for the viewer who asked.
    const res = await fetch(url);
    assert.equal(res.status, 200, await res.clone().text());
    assert.match(res.headers.get('content-disposition') ?? '', /attachment; filename=.*\.xlsx/);
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load((await res.arrayBuffer()) as ArrayBuffer);
    const findings = workbook.getWorksheet('差异')!;
    const cards: unknown[] = [];
    findings.eachRow((row, n) => n > 1 && cards.push(row.getCell(7).value));
    assert.ok(cards.includes(masked), `card numbers masked: ${JSON.stringify(cards)}`);
    assert.ok(!cards.includes(dropped.cardNo));
  });
});
