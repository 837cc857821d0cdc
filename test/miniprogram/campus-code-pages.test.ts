import assert from 'node:assert/strict';
import { updateSchoolSettings } from '../../server/src/domain/schools/schools.js';
import { adminOf, TEST_OPERATOR } from '../support/admins.js';
import { ERROR_MESSAGES_ZH } from '../../shared/messages-zh.js';
import type { CampusCodeUploadAnswer } from '../../shared/gateway-api.js';
import {
  issuedCode,
  offlineCode,
  uploadBatch,
  waitForCampusCodePayment,
} from '../integration/campus-code/helpers.js';
import { userWithCard } from '../integration/student/helpers.js';
import { gatewayFor, type Gateway } from '../integration/withholding/helpers.js';
import { startStack, type Stack } from '../support/stack.js';
import type { MiniRuntime } from './support/runtime.js';
import { closeOpenedRuntimes, openMiniprogram } from './support/session.js';

/**
 * Campus codes in the mini-program (issue #14): the card home opens Alipay's campus code, the statement
 * shows campus-code payments with their state, a refused one is repaid on the debts page, the school's admins
 * see refused and expired payments and late uploads and set the campus-code settings. Real BFF and
 * sandboxes; only `my` is simulated.
 */
const HOUR_MS = 3_600_000;

describe('campus code in the mini-program', function () {
  this.timeout(60_000);
  let stack: Stack;
  let device: Gateway;
  let runtime: MiniRuntime | undefined;

  before(async function () {
    this.timeout(120_000);
    stack = await startStack();
    device = await gatewayFor(stack);
  });
  after(() => stack?.stop());
  afterEach(() => stack.alipay.control.clearFaults());
  afterEach(closeOpenedRuntimes);

  const student = (balanceFen = 10_000) => userWithCard(stack, { balanceFen, cardBalanceFen: 10_000 });

  /** The student shows the code at a shop till; the device uploads it and Alipay is charged (or not). */
  async function scanned(who: Awaited<ReturnType<typeof student>>, amountFen: number, finalStatus: string) {
    const payment = await issuedCode(
      stack,
      who.user.userId,
      { studentNo: who.card.studentNo!, studentName: who.card.holderName },
      { amountFen, terminalId: 'SHOP-01' },
    );
    const [answer] = ((await uploadBatch(device, [payment])).body as CampusCodeUploadAnswer).results;
    assert.equal(answer.result, 'ACCEPTED');
    await waitForCampusCodePayment(device, payment.txnNo, finalStatus);
    return payment;
  }

  it('opens Alipay’s campus code from the card home, and explains when the school has not set it up', async () => {
    const me = await student();
    runtime = await openMiniprogram(stack, me.user);
    const home = runtime.launch(`/pages/card/card?bindingId=${me.bindingId}`);
    await home.waitFor((data) => !!data.card);
    await home.call('onCampusCode');
    assert.equal(runtime.my.miniPrograms.length, 0);
    assert.ok(runtime.my.toasts.some((t) => t.content === ERROR_MESSAGES_ZH.CAMPUS_CODE_NOT_AVAILABLE));

    await updateSchoolSettings(stack.app.deps, TEST_OPERATOR, stack.school.id, {
      alipayInstitutionCode: '2088000034052130',
    });
    await home.call('onCampusCode');
    const [opened] = runtime.my.miniPrograms;
    assert.equal(opened.appId, '77700203');
    const query = new URLSearchParams(decodeURIComponent((opened.extraData as { query: string }).query));
    assert.equal(query.get('institutionCode'), '2088000034052130');
    assert.equal(query.get('codeType'), 'codec_double_offline_code');
    assert.equal(home.data.busy, false);
  });

  it('shows campus-code payments on the statement with their state', async () => {
    const me = await student();
    await scanned(me, 1_200, 'PAID');
    runtime = await openMiniprogram(stack, me.user);
    const page = runtime.launch(`/pages/statement/statement?bindingId=${me.bindingId}`);
    await page.waitFor((data) => !data.loading);
    const [row] = page.data.rows;
    assert.deepEqual(
      { title: row.title, place: row.place, amount: row.amountText, state: row.stateText },
      { title: '校园码消费', place: 'test POS · SHOP-01', amount: '-¥12.00', state: '' },
    );
  });

  it('lists a campus-code payment Alipay refused as a debt and repays it', async () => {
    const me = await student(5_000);
    await stack.alipay.control.injectApiFault({
      method: 'alipay.trade.pay',
      times: 1,
      error: { subCode: 'ACQ.PAYMENT_AUTH_CODE_INVALID' },
    });
    await scanned(me, 450, 'FAILED');
    runtime = await openMiniprogram(stack, me.user);
    const home = runtime.launch(`/pages/card/card?bindingId=${me.bindingId}`);
    await home.waitFor((data) => !!data.card);
    assert.equal(home.data.debts.hasDebts, true);
    await home.call('onDebts');
    const page = await runtime.waitForPage('pages/debts/debts');
    await page.waitFor((data) => !data.loading);
    assert.equal(page.data.totalText, '¥4.50');
    assert.equal(page.data.hintText, '以下校园码消费支付宝没有扣款成功，请还款。');
    const [row] = page.data.groups[0].rows;
    assert.deepEqual(
      [row.terminalText, row.reasonText, row.statusLabel],
      ['校园码 · test POS · SHOP-01', '校园码已失效或超过了10天', '扣款失败，待还款'],
    );
    await page.tap('onRepay', { school: page.data.groups[0].schoolId });
    assert.equal(page.data.repaid, true);
    assert.equal(page.data.notice, '欠款已还清，感谢您补缴校园码消费');
    assert.equal((await stack.alipay.control.getUser(me.user.userId)).balanceFen, 5_000 - 450);
  });
  it('shows the school’s admins what to act on: refused payments with the student, old uploads with the device', async () => {
    const me = await student(5_000);
    await stack.alipay.control.injectApiFault({
      method: 'alipay.trade.pay',
      times: 1,
      error: { subCode: 'ACQ.PAYMENT_AUTH_CODE_INVALID' },
    });
    const refused = await scanned(me, 680, 'FAILED');
    // A till that kept a code 11 days before uploading it: too old to charge, and late.
    const old = offlineCode(
      { schoolCode: stack.school.code, studentNo: '20269999', studentName: '李四' },
      { madeAt: new Date(Date.now() - 11 * 24 * HOUR_MS), amountFen: 320, terminalId: 'GATE-02' },
    );
    const [answer] = ((await uploadBatch(device, [old])).body as CampusCodeUploadAnswer).results;
    assert.equal(answer.result, 'EXPIRED');

    const admin = await adminOf(stack, stack.school.id, 'VIEWER');
    const summary = (await admin.http.get(`/api/v1/admin/schools/${stack.school.id}/campus-code/summary`))
      .body as Record<string, number>;
    runtime = await openMiniprogram(stack, admin.user);
    const home = runtime.launch(`/pages/admin-home/admin-home?schoolId=${stack.school.id}`);
    await home.waitFor((data) => !!data.home);
    await home.call('onCampusCode');
    const page = await runtime.waitForPage('pages/admin-campus-code/admin-campus-code');
    await page.waitFor((data) => !data.loading);
    assert.deepEqual(
      page.data.kindOptions.map((option: { text: string }) => option.text),
      [`扣款失败 ${summary.FAILED}`, `上传过期 ${summary.EXPIRED}`, `上传延迟 ${summary.LATE}`],
    );
    const rowOf = (txnNo: string) =>
      page.data.rows.find((row: { refText: string }) => row.refText === `设备流水号 ${txnNo}`);
    assert.deepEqual(rowOf(refused.txnNo), {
      id: rowOf(refused.txnNo).id,
      amountText: '¥6.80',
      statusLabel: '扣款失败',
      studentText: `学生：${me.card.holderName} · 学号 ${me.card.studentNo}`,
      deviceText: '设备：test POS · 终端 SHOP-01',
      timeText: rowOf(refused.txnNo).timeText,
      delayText: '',
      reasonText: '原因：校园码已失效或超过了10天',
      refText: `设备流水号 ${refused.txnNo}`,
    });

    await page.call('onKindChange', 'EXPIRED');
    await page.waitFor((data) => !data.loading && !!rowOf(old.txnNo));
    const expired = rowOf(old.txnNo);
    assert.deepEqual(
      [expired.amountText, expired.statusLabel, expired.studentText, expired.deviceText, expired.reasonText],
      [
        '¥3.20',
        '已过期，未扣款',
        '学生：李四 · 学号 20269999',
        '设备：test POS · 终端 GATE-02',
        '原因：超过了学校的上传期限',
      ],
    );
    assert.match(expired.delayText, /^校园码生成 26\d(\.\d)? 小时后才上传$/);
    assert.match(page.data.hint, /联系设备厂商/);

    await page.call('onKindChange', 'LATE');
    await page.waitFor((data) => !data.loading && !!rowOf(old.txnNo));
    assert.equal(rowOf(refused.txnNo), undefined, 'a payment uploaded at once is not late');
  });

  it('lets the school’s owner set the campus-code settings on the settings page, checked as typed', async () => {
    const owner = await adminOf(stack, stack.school.id, 'OWNER');
    runtime = await openMiniprogram(stack, owner.user);
    const page = runtime.launch(`/pages/admin-settings/admin-settings?schoolId=${stack.school.id}`);
    await page.waitFor((data) => !!data.form);
    assert.equal(page.data.form.campusCodeWindowDays, '10');
    await page.input('onCampusCodeIdInput', '1234');
    await page.input('onCampusCodeWindowInput', '11');
    await page.call('onSave');
    assert.match(page.data.errors.campusCodeId, /2088 开头/);
    assert.match(page.data.errors.campusCodeWindowDays, /1 到 10 天/);
    assert.equal(runtime.my.requests.filter((r) => r.method === 'PUT').length, 0);

    await page.input('onCampusCodeIdInput', '2088000034059999');
    await page.input('onCampusCodeWindowInput', '7');
    await page.input('onCampusCodeLateInput', '12');
    await page.input('onCampusCodeMaxInput', '80');
    await page.call('onSave');
    const [put] = runtime.my.requests.filter((r) => r.method === 'PUT');
    assert.deepEqual(JSON.parse(put.body!), {
      alipayInstitutionCode: '2088000034059999',
      campusCodeWindowDays: 7,
      campusCodeLateAfterHours: 12,
      campusCodeMaxFen: 8_000,
    });
    assert.deepEqual([page.data.saved.campusCodeWindowDays, page.data.form.campusCodeMaxYuan], [7, '80.00']);
    await updateSchoolSettings(stack.app.deps, TEST_OPERATOR, stack.school.id, {
      campusCodeWindowDays: 10,
      campusCodeLateAfterHours: 24,
    });
  });
});
