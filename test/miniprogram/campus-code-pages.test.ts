import assert from 'node:assert/strict';
import { updateSchoolSettings } from '../../server/src/domain/schools/schools.js';
import { TEST_OPERATOR } from '../support/admins.js';
import { ERROR_MESSAGES_ZH } from '../../shared/messages-zh.js';
import type { CampusCodeUploadAnswer } from '../../shared/gateway-api.js';
import { issuedCode, uploadBatch, waitForCampusCodePayment } from '../integration/campus-code/helpers.js';
import { gatewayFor, type Gateway } from '../integration/withholding/helpers.js';
import { startStack, type Stack } from '../support/stack.js';
import type { MiniRuntime } from './support/runtime.js';
import { openMiniprogram } from './support/session.js';

/**
 * Campus codes in the mini-program (issue #14): the card home opens Alipay's campus code, the statement
 * shows campus-code payments with their state, a refused one is repaid on the debts page. Real BFF and
 * sandboxes; only `my` is simulated.
 */
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
  afterEach(async () => {
    const errors = runtime?.errors ?? [];
    runtime?.close();
    runtime = undefined;
    await stack.alipay.control.clearFaults();
    assert.deepEqual(errors, [], 'a page lifecycle hook failed');
  });

  async function student(balanceFen = 10_000) {
    const user = await stack.createUser(balanceFen);
    const card = await stack.createCard();
    const res = await (
      await user.login()
    ).post('/api/v1/bindings', {
      schoolId: stack.school.id,
      cardNo: card.cardNo,
      name: card.holderName,
      relation: 'SELF',
      studentNo: card.studentNo,
    });
    assert.equal(res.status, 201, res.text);
    return { user, card, bindingId: res.body.id as string };
  }

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
});
