import assert from 'node:assert/strict';
import { createGatewayClient } from '../../server/src/domain/schools/gateway-clients.js';
import { ERROR_MESSAGES_ZH } from '../../shared/messages-zh.js';
import { eventually } from '../support/http.js';
import { startStack, type Stack } from '../support/stack.js';
import { userWithCard } from '../integration/student/helpers.js';
import type { MiniRuntime } from './support/runtime.js';
import { closeOpenedRuntimes, openMiniprogram } from './support/session.js';

/**
 * The withholding and arrears pages (issue 6) beyond the happy path of the journey: cancelling, ending
 * the agreement, a school without withholding, a cashier closed during repayment. Real BFF and sandboxes.
 */
describe('withholding and arrears pages against the real BFF', function () {
  this.timeout(60_000);
  let stack: Stack;
  let runtime: MiniRuntime | undefined;

  before(async function () {
    this.timeout(120_000);
    stack = await startStack({ schoolSettings: { retryScheduleSeconds: [3600] } });
    const pos = await createGatewayClient(stack.app.deps, { schoolId: stack.school.id, name: '食堂 POS' });
    await stack.cardsys.control.configurePlatform(stack.school.code, { baseUrl: stack.app.url, ...pos });
  });

  after(async () => {
    await stack?.stop();
  });

  afterEach(closeOpenedRuntimes);

  const studentWithCard = (school?: { id: string; code: string }) => userWithCard(stack, { school });

  /** Signs through the API and the sandbox (arranging), and waits until the card is bound for withholding. */
  async function signed(student: Awaited<ReturnType<typeof studentWithCard>>) {
    const sign = await student.api.post('/api/v1/withholding/sign', { bindingId: student.bindingId });
    assert.equal(sign.status, 201, sign.text);
    await stack.alipay.control.signAgreement({ signStr: sign.body.signStr, userId: student.user.userId });
    // ACTIVE, and the card bound at the card system: only then do its swipes come to the platform.
    await eventually(
      async () =>
        (await student.api.get('/api/v1/withholding')).body.items.some(
          (i: any) => i.status === 'ACTIVE' && i.cards?.some((c: any) => c.isBoundAtCardSystem),
        ),
      { timeoutMs: 15_000, message: 'the agreement never became ACTIVE with its card bound' },
    );
    await eventually(
      async () =>
        (await stack.cardsys.control.getCard(stack.school.code, student.card.cardNo)).alipayBind !== null,
      { timeoutMs: 15_000, message: 'the card was never bound for withholding at the card system' },
    );
  }

  /** A canteen swipe Alipay cannot collect (empty balance): the student now owes it. */
  async function inArrears(student: Awaited<ReturnType<typeof studentWithCard>>, amountFen: number) {
    await stack.alipay.control.setBalance(student.user.userId, 0);
    const swipe = await stack.cardsys.control.swipe({
      schoolCode: stack.school.code,
      cardNo: student.card.cardNo,
      amountFen,
      terminalId: 'POS-03',
    });
    assert.equal(swipe.platform.decision, 'APPROVED', JSON.stringify(swipe));
    await eventually(async () => (await student.api.get('/api/v1/debts')).body.items.length === 1, {
      timeoutMs: 15_000,
      message: 'the failed collection never became a debt',
    });
  }

  describe('withholding page', () => {
    it('leaves the agreement unsigned and says so when the person backs out of signing (6001)', async () => {
      const student = await studentWithCard();
      runtime = await openMiniprogram(stack, student.user, {
        paySignCenter: (signStr) =>
          stack.alipay.control.signAgreement({ signStr, userId: student.user.userId, action: 'cancel' }),
      });
      const page = runtime.launch(`/pages/withholding/withholding?bindingId=${student.bindingId}`);
      await page.waitFor((data) => !data.loading);
      await page.call('onSign');
      assert.equal(page.data.notice, '您已取消签约');
      assert.equal(page.data.confirming, false);
      assert.equal(page.data.view.statusLabel, '未开通');
      assert.equal(page.data.view.canSign, true);
      assert.equal(
        runtime.my.requests.filter(
          (request) => request.method === 'GET' && request.url.endsWith('/withholding'),
        ).length,
        1,
        'no polling after a cancelled signature',
      );
    });

    it('ends the agreement only after the person confirms', async () => {
      const student = await studentWithCard();
      await signed(student);
      let confirms = false;
      runtime = await openMiniprogram(stack, student.user, { answerConfirm: () => confirms });
      const page = runtime.launch(`/pages/withholding/withholding?bindingId=${student.bindingId}`);
      await page.waitFor((data) => !data.loading);
      assert.equal(page.data.view.isActive, true);
      await page.call('onUnsign');
      assert.equal(page.data.view.isActive, true);
      assert.equal(runtime.my.requests.filter((request) => request.method === 'DELETE').length, 0);
      confirms = true;
      await page.call('onUnsign');
      assert.equal(page.data.view.isActive, false);
      assert.equal(page.data.view.canSign, true);
      assert.ok(runtime.my.toasts.some((toast) => toast.content === '已关闭刷卡免密代扣'));
    });

    it('refuses to end the agreement while a withholding is unpaid, and offers the way to repay', async () => {
      const student = await studentWithCard();
      await signed(student);
      await inArrears(student, 600);
      runtime = await openMiniprogram(stack, student.user);
      const page = runtime.launch(`/pages/withholding/withholding?bindingId=${student.bindingId}`);
      await page.waitFor((data) => !data.loading);
      await page.call('onUnsign');
      assert.equal(page.data.notice, ERROR_MESSAGES_ZH.HAS_ARREARS);
      assert.equal(page.data.showRepayLink, true);
      await page.call('onRepay');
      await runtime.waitForPage('pages/debts/debts');
    });

    it('offers no signing at a school that has withholding switched off', async () => {
      const school = await stack.addSchool({ settings: { withholdingEnabled: false } });
      const student = await studentWithCard(school);
      runtime = await openMiniprogram(stack, student.user);
      const page = runtime.launch(`/pages/withholding/withholding?bindingId=${student.bindingId}`);
      await page.waitFor((data) => !data.loading);
      assert.equal(page.data.errorMessage, '');
      assert.equal(page.data.view.canSign, false);
      assert.equal(page.data.view.unavailableText, '学校暂未开通刷卡免密代扣');
    });
  });

  describe('debts page', () => {
    it('shows the empty state when nothing is owed', async () => {
      const student = await studentWithCard();
      runtime = await openMiniprogram(stack, student.user);
      const page = runtime.launch('/pages/debts/debts');
      await page.waitFor((data) => !data.loading);
      assert.equal(page.data.errorMessage, '');
      assert.equal(page.data.isEmpty, true);
    });

    it('keeps the debt when the person closes the cashier, and pays the same repayment on the next try', async () => {
      const student = await studentWithCard();
      await signed(student);
      await inArrears(student, 700);
      let action: 'cancel' | 'pay' = 'cancel';
      runtime = await openMiniprogram(stack, student.user, {
        tradePay: (tradeNO) =>
          stack.alipay.control.payTrade({ tradeNO, userId: student.user.userId, action }),
      });
      const page = runtime.launch('/pages/debts/debts');
      await page.waitFor((data) => !data.loading);
      assert.equal(page.data.totalText, '¥7.00');
      await stack.alipay.control.setBalance(student.user.userId, 1_000);
      await page.tap('onRepay', { school: stack.school.id });
      assert.equal(page.data.notice, '您已取消支付，没有扣款');
      assert.equal(page.data.groups[0].rows.length, 1);
      assert.equal(page.data.repaid, false);

      action = 'pay';
      await page.tap('onRepay', { school: stack.school.id });
      assert.equal(page.data.repaid, true);
      assert.equal(page.data.isEmpty, true);
      const repayments = runtime.my.requests.filter((request) => request.url.endsWith('/debts/repay'));
      assert.equal(repayments.length, 1, 'the second try pays the repayment the first one created');
      assert.equal(runtime.my.calls.filter((call) => call === 'tradePay').length, 2);
      assert.equal((await stack.alipay.control.getUser(student.user.userId)).balanceFen, 300);
    });
  });
});
