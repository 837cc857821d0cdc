import assert from 'node:assert/strict';
import { ERROR_MESSAGES_ZH } from '../../shared/messages-zh.js';
import { startStack, type Stack, type StackUser } from '../support/stack.js';
import type { MiniRuntime } from './support/runtime.js';
import { closeOpenedRuntimes, openMiniprogram } from './support/session.js';

/**
 * The pages of the student journey (issue 5), each driven like a person would, against the real BFF, the
 * real database and both sandboxes. Only the Alipay app runtime (`my`) is simulated.
 */

const pathOf = (url: string) => new URL(url).pathname;

describe('mini-program pages against the real BFF', function () {
  this.timeout(60_000);
  let stack: Stack;
  let runtime: MiniRuntime | undefined;

  before(async function () {
    this.timeout(120_000);
    stack = await startStack();
  });

  after(async () => {
    await stack?.stop();
  });

  afterEach(closeOpenedRuntimes);

  /** A card of the stack's school, bound by `user` through the API (arranging, not the journey). */
  async function boundCard(
    user: StackUser,
    options: {
      balanceFen?: number;
      relation?: 'SELF' | 'PARENT';
      schoolId?: string;
      schoolCode?: string;
    } = {},
  ) {
    const card = await stack.createCard({
      balanceFen: options.balanceFen ?? 10_000,
      schoolCode: options.schoolCode,
    });
    const http = await user.login();
    const res = await http.post('/api/v1/bindings', {
      schoolId: options.schoolId ?? stack.school.id,
      cardNo: card.cardNo,
      name: card.holderName,
      relation: options.relation ?? 'SELF',
      studentNo: card.studentNo,
    });
    assert.equal(res.status, 201, res.text);
    return { ...card, bindingId: res.body.id as string };
  }

  describe('entry and silent login', () => {
    it('logs a new user in silently and sends them to the school search', async () => {
      const user = await stack.createUser();
      runtime = await openMiniprogram(stack, user);
      runtime.launch();
      const school = await runtime.waitForPage('pages/school/school');
      await school.waitFor((data) => !data.loading);
      assert.ok(school.data.schools.some((row: any) => row.id === stack.school.id));
      assert.equal(runtime.my.calls.filter((call) => call === 'getAuthCode').length, 1);
      const [session, me] = runtime.my.requests;
      assert.equal(`${session.method} ${pathOf(session.url)}`, 'POST /api/v1/session');
      assert.equal(`${me.method} ${pathOf(me.url)}`, 'GET /api/v1/me');
      const stored = runtime.my.storage.get('campus.session') as { token: string };
      assert.equal(me.headers.authorization, `Bearer ${stored.token}`);
    });

    it('opens the card home on the card looked at last when the user has cards', async () => {
      const user = await stack.createUser();
      await boundCard(user);
      const second = await boundCard(user, { relation: 'PARENT' });
      runtime = await openMiniprogram(stack, user);
      runtime.my.storage.set('campus.currentBindingId', second.bindingId);
      runtime.launch();
      const card = await runtime.waitForPage('pages/card/card');
      await card.waitFor((data) => !!data.card);
      assert.equal(card.data.card.id, second.bindingId);
      assert.equal(card.data.hasSeveralCards, true);
    });

    it('logs in again, silently and once, when the server no longer accepts the stored token', async () => {
      const user = await stack.createUser();
      runtime = await openMiniprogram(stack, user);
      runtime.my.storage.set('campus.session', {
        token: 'a-token-the-server-forgot',
        expiresAt: Date.now() + 3_600_000,
      });
      runtime.launch();
      await runtime.waitForPage('pages/school/school');
      assert.deepEqual(
        runtime.my.requests
          .slice(0, 3)
          .map((request) => `${request.method} ${pathOf(request.url)} ${request.status}`),
        ['GET /api/v1/me 401', 'POST /api/v1/session 200', 'GET /api/v1/me 200'],
      );
      assert.equal(runtime.my.calls.filter((call) => call === 'getAuthCode').length, 1);
    });
  });

  describe('school search', () => {
    it('finds the school by name and opens the bind form for it', async () => {
      const user = await stack.createUser();
      runtime = await openMiniprogram(stack, user);
      const page = runtime.launch('/pages/school/school');
      await page.waitFor((data) => !data.loading);
      await page.input('onQueryInput', stack.school.name);
      await page.call('onSearch');
      assert.deepEqual(
        page.data.schools.map((row: any) => row.name),
        [stack.school.name],
      );
      await page.tap('onPickSchool', { id: stack.school.id });
      const bind = await runtime.waitForPage('pages/bind/bind');
      assert.equal(bind.data.schoolId, stack.school.id);
      assert.equal(bind.data.schoolName, stack.school.name);
    });

    it('shows the empty state when no school matches', async () => {
      const user = await stack.createUser();
      runtime = await openMiniprogram(stack, user);
      const page = runtime.launch('/pages/school/school');
      await page.waitFor((data) => !data.loading);
      await page.input('onQueryInput', '没有这所学校');
      await page.call('onSearch');
      assert.equal(page.data.isEmpty, true);
      assert.deepEqual(page.data.schools, []);
    });
  });

  describe('bind form', () => {
    const formUrl = () =>
      `/pages/bind/bind?schoolId=${stack.school.id}&schoolName=${encodeURIComponent(stack.school.name)}`;

    it('checks the form before asking the card system', async () => {
      const user = await stack.createUser();
      runtime = await openMiniprogram(stack, user);
      const form = runtime.launch(formUrl());
      await form.waitFor((data) => !data.loading);
      await form.call('onSubmit');
      assert.equal(form.data.cardNoError, '请输入校园卡号');
      assert.equal(form.data.holderNameError, '请输入持卡人姓名');
      assert.equal(form.data.proofError, '请输入学号');
      await form.input('onCardNoInput', '12-3');
      await form.input('onHolderNameInput', '张三');
      await form.call('onSubmit');
      assert.equal(form.data.cardNoError, '卡号为 4–32 位数字或字母');
      assert.equal(form.data.holderNameError, '');
      assert.equal(
        runtime.my.requests.filter((request) => pathOf(request.url) === '/api/v1/bindings').length,
        0,
      );
    });

    it('shows each card-system refusal in Chinese under the input it concerns', async () => {
      const user = await stack.createUser();
      const card = await stack.createCard();
      const lost = await stack.createCard({ status: 'LOST' });
      const already = await boundCard(user);
      runtime = await openMiniprogram(stack, user);
      const form = runtime.launch(formUrl());
      await form.waitFor((data) => !data.loading);
      const submit = async (cardNo: string, name: string, studentNo = cardNo) => {
        await form.input('onCardNoInput', cardNo);
        await form.input('onHolderNameInput', name);
        await form.input('onProofInput', studentNo);
        await form.call('onSubmit');
        return form.data;
      };
      assert.equal(
        (await submit(card.cardNo, '不是本人')).holderNameError,
        ERROR_MESSAGES_ZH.CARD_NAME_MISMATCH,
      );
      assert.equal((await submit('99999999', card.holderName)).cardNoError, ERROR_MESSAGES_ZH.CARD_NOT_FOUND);
      assert.equal(
        (await submit(lost.cardNo, lost.holderName)).cardNoError,
        ERROR_MESSAGES_ZH.CARD_NOT_NORMAL,
      );
      assert.equal(
        (await submit(card.cardNo, card.holderName, 'S404')).proofError,
        ERROR_MESSAGES_ZH.IDENTITY_NOT_VERIFIED,
      );
      assert.equal(
        (await submit(already.cardNo, already.holderName)).formError,
        ERROR_MESSAGES_ZH.BINDING_EXISTS,
      );
      assert.equal(form.data.submitting, false);
      assert.equal(runtime.current().route, 'pages/bind/bind');
    });

    it('binds a card for a parent and opens its card home with the live balance', async () => {
      const user = await stack.createUser();
      const card = await stack.createCard({ balanceFen: 12_345 });
      runtime = await openMiniprogram(stack, user);
      const form = runtime.launch(formUrl());
      await form.waitFor((data) => !data.loading);
      await form.input('onCardNoInput', card.cardNo);
      await form.input('onHolderNameInput', card.holderName);
      await form.input('onProofInput', card.studentNo!);
      await form.call('onRelationChange', 'PARENT', { text: '家长', value: 'PARENT' }, {});
      await form.call('onSubmit');
      const home = await runtime.waitForPage('pages/card/card');
      await home.waitFor((data) => !!data.card);
      assert.equal(home.data.card.cardNo, card.cardNo);
      assert.equal(home.data.card.relationLabel, '家长');
      assert.equal(home.data.card.balanceText, '¥123.45');
      assert.equal(runtime.stack.length, 1, 'back from the card home does not return to the form');
      assert.ok(runtime.my.toasts.some((toast) => toast.content === '绑定成功'));
    });
  });

  describe('card home', () => {
    it('shows 余额暂不可用 instead of ¥0.00 when the card system does not answer', async () => {
      const user = await stack.createUser();
      const card = await boundCard(user);
      runtime = await openMiniprogram(stack, user);
      await stack.cardsys.control.setDowntime(true);
      try {
        const home = runtime.launch(`/pages/card/card?bindingId=${card.bindingId}`);
        await home.waitFor((data) => !!data.card, { timeoutMs: 15_000 });
        assert.equal(home.data.card.balanceText, '余额暂不可用');
        assert.equal(home.data.card.holderName, card.holderName);
      } finally {
        await stack.cardsys.control.setDowntime(false);
      }
    });

    it('shows the new balance after a pull-down, and ends the pull-down spinner', async () => {
      const user = await stack.createUser();
      const card = await boundCard(user, { balanceFen: 1_000 });
      runtime = await openMiniprogram(stack, user);
      const home = runtime.launch(`/pages/card/card?bindingId=${card.bindingId}`);
      await home.waitFor((data) => !!data.card);
      assert.equal(home.data.card.balanceText, '¥10.00');
      await stack.cardsys.control.setBalance(stack.school.code, card.cardNo, 2_550);
      await home.lifecycle('onPullDownRefresh');
      assert.equal(home.data.card.balanceText, '¥25.50');
      assert.equal(runtime.my.pullDownRefreshStops, 1);
    });

    it('lets a parent switch between the cards they bound, and remembers the choice', async () => {
      const user = await stack.createUser();
      const first = await boundCard(user, { relation: 'PARENT', balanceFen: 100 });
      const second = await boundCard(user, { relation: 'PARENT', balanceFen: 200 });
      runtime = await openMiniprogram(stack, user);
      const home = runtime.launch(`/pages/card/card?bindingId=${first.bindingId}`);
      await home.waitFor((data) => !!data.card);
      assert.deepEqual(
        home.data.tabs.map((tab: any) => tab.id).sort(),
        [first.bindingId, second.bindingId].sort(),
      );
      await home.tap('onSwitchCard', { id: second.bindingId });
      assert.equal(home.data.card.id, second.bindingId);
      assert.equal(home.data.card.balanceText, '¥2.00');
      assert.equal(runtime.my.storage.get('campus.currentBindingId'), second.bindingId);
    });

    it('reports a card lost only after the person confirms', async () => {
      const user = await stack.createUser();
      const card = await boundCard(user);
      let confirms = false;
      runtime = await openMiniprogram(stack, user, { answerConfirm: () => confirms });
      const home = runtime.launch(`/pages/card/card?bindingId=${card.bindingId}`);
      await home.waitFor((data) => !!data.card);
      await home.call('onReportLoss');
      assert.equal(runtime.my.dialogs.length, 1);
      assert.equal(runtime.my.requests.filter((request) => request.url.endsWith('/loss')).length, 0);
      confirms = true;
      await home.call('onReportLoss');
      assert.equal(home.data.card.statusLabel, '已挂失');
      assert.equal(home.data.card.rechargeDisabled, true);
      assert.ok(runtime.my.toasts.some((toast) => toast.content === '已挂失'));
      const vendorCard = await stack.cardsys.control.getCard(stack.school.code, card.cardNo);
      assert.equal(vendorCard.status, 'LOST');
    });

    it('unbinds the last card after confirmation and starts over at the school search', async () => {
      const user = await stack.createUser();
      const card = await boundCard(user);
      runtime = await openMiniprogram(stack, user);
      const home = runtime.launch(`/pages/card/card?bindingId=${card.bindingId}`);
      await home.waitFor((data) => !!data.card);
      await home.call('onUnbind');
      assert.match(runtime.my.dialogs[0].title ?? '', /解除绑定/);
      await runtime.waitForPage('pages/school/school');
      assert.equal(runtime.stack.length, 1);
      assert.equal(runtime.my.storage.has('campus.currentBindingId'), false);
    });
  });

  describe('recharge', () => {
    it('recharges a preset amount through the cashier and shows the credited balance', async () => {
      const user = await stack.createUser(100_000);
      const card = await boundCard(user, { balanceFen: 10_000 });
      runtime = await openMiniprogram(stack, user);
      const page = runtime.launch(`/pages/recharge/recharge?bindingId=${card.bindingId}`);
      await page.waitFor((data) => !data.loading);
      await page.tap('onPickPreset', { fen: 5000 });
      assert.equal(page.data.payText, '支付宝支付 ¥50.00');
      await page.call('onPay');
      const result = await runtime.waitForPage('pages/recharge-result/recharge-result');
      await result.waitFor((data) => data.result?.status === 'CREDITED' && !!data.balanceText, {
        timeoutMs: 30_000,
      });
      assert.equal(result.data.result.title, '已到账');
      assert.equal(result.data.result.amountText, '¥50.00');
      assert.equal(result.data.balanceText, '¥150.00');
      assert.equal((await stack.alipay.control.getUser(user.userId)).balanceFen, 95_000);
    });

    it('stays on the recharge page, with nothing charged, when the person closes the cashier (6001)', async () => {
      const user = await stack.createUser(100_000);
      const card = await boundCard(user);
      runtime = await openMiniprogram(stack, user, {
        tradePay: (tradeNO) =>
          stack.alipay.control.payTrade({ tradeNO, userId: user.userId, action: 'cancel' }),
      });
      const page = runtime.launch(`/pages/recharge/recharge?bindingId=${card.bindingId}`);
      await page.waitFor((data) => !data.loading);
      await page.input('onCustomInput', '30');
      await page.call('onPay');
      assert.equal(page.data.payMessage, '您已取消支付，没有扣款');
      assert.equal(page.data.paying, false);
      assert.equal(runtime.current().route, 'pages/recharge/recharge');
      assert.equal((await stack.alipay.control.getUser(user.userId)).balanceFen, 100_000);
    });

    it("keeps amounts within the school's recharge range", async () => {
      const school = await stack.addSchool({ settings: { rechargeMinFen: 500, rechargeMaxFen: 10_000 } });
      const user = await stack.createUser();
      const card = await boundCard(user, { schoolId: school.id, schoolCode: school.code });
      runtime = await openMiniprogram(stack, user);
      const page = runtime.launch(`/pages/recharge/recharge?bindingId=${card.bindingId}`);
      await page.waitFor((data) => !data.loading);
      assert.equal(page.data.limitsText, '单笔可充 ¥5.00 – ¥100.00');
      assert.deepEqual(
        page.data.presets.map((preset: any) => preset.disabled),
        [false, false, false, true],
      );
      await page.input('onCustomInput', '150');
      assert.equal(page.data.amountError, '单笔最多充值 ¥100.00');
      assert.equal(page.data.payDisabled, true);
      await page.input('onCustomInput', '4.99');
      assert.equal(page.data.amountError, '单笔最少充值 ¥5.00');
      await page.input('onCustomInput', '99.99');
      assert.equal(page.data.amountError, '');
      assert.equal(page.data.amountFen, 9999);
      assert.equal(page.data.payText, '支付宝支付 ¥99.99');
      await page.call('onPay');
      await runtime.waitForPage('pages/recharge-result/recharge-result');
      assert.equal(runtime.my.calls.filter((call) => call === 'tradePay').length, 1);
    });

    it('asks the server when the cashier lost the network after paying (6002), and shows the money arrived', async () => {
      const user = await stack.createUser(100_000);
      const card = await boundCard(user, { balanceFen: 0 });
      runtime = await openMiniprogram(stack, user, {
        tradePay: (tradeNO) =>
          stack.alipay.control.payTrade({ tradeNO, userId: user.userId, reportResultCode: '6002' }),
      });
      const page = runtime.launch(`/pages/recharge/recharge?bindingId=${card.bindingId}`);
      await page.waitFor((data) => !data.loading);
      await page.tap('onPickPreset', { fen: 2000 });
      await page.call('onPay');
      const result = await runtime.waitForPage('pages/recharge-result/recharge-result');
      await result.waitFor((data) => data.result?.status === 'CREDITED' && !!data.balanceText, {
        timeoutMs: 30_000,
      });
      assert.equal(result.data.balanceText, '¥20.00');
    });
  });

  describe('statement', () => {
    async function swipe(cardNo: string, count: number) {
      for (let i = 0; i < count; i += 1) {
        await stack.cardsys.control.swipe({
          schoolCode: stack.school.code,
          cardNo,
          amountFen: 100,
          terminalId: 'POS-01',
          place: '第一食堂',
        });
      }
    }

    it('pages through older entries at the bottom and refreshes on pull-down', async () => {
      const user = await stack.createUser();
      const card = await boundCard(user, { balanceFen: 100_000 });
      await swipe(card.cardNo, 25);
      runtime = await openMiniprogram(stack, user);
      const page = runtime.launch(`/pages/statement/statement?bindingId=${card.bindingId}`);
      await page.waitFor((data) => !data.loading);
      assert.equal(page.data.rows.length, 20);
      assert.equal(page.data.hasMore, true);
      assert.deepEqual(
        {
          title: page.data.rows[0].title,
          place: page.data.rows[0].place,
          amount: page.data.rows[0].amountText,
        },
        { title: '消费', place: '第一食堂', amount: '-¥1.00' },
      );
      await page.lifecycle('onReachBottom');
      assert.equal(page.data.rows.length, 25);
      assert.equal(page.data.hasMore, false);
      assert.equal(new Set(page.data.rows.map((row: any) => row.id)).size, 25, 'no entry twice');

      await swipe(card.cardNo, 1);
      await page.lifecycle('onPullDownRefresh');
      assert.equal(runtime.my.pullDownRefreshStops, 1);
      assert.equal(page.data.rows.length, 20);
      assert.equal(page.data.hasMore, true);
      assert.equal(page.data.rows[0].balanceText, '余额 ¥974.00');
    });

    it('opens a row’s receipt with the card system’s serial, the place and the time', async () => {
      const user = await stack.createUser();
      const card = await boundCard(user, { balanceFen: 10_000 });
      await swipe(card.cardNo, 1);
      runtime = await openMiniprogram(stack, user);
      const page = runtime.launch(`/pages/statement/statement?bindingId=${card.bindingId}`);
      await page.waitFor((data) => !data.loading);
      await page.tap('onOpenEntry', { id: page.data.rows[0].id });
      const receipt = await runtime.waitForPage('pages/receipt/receipt');
      await receipt.waitFor((data) => !data.loading);
      assert.equal(receipt.data.errorMessage, '');
      assert.equal(receipt.data.receipt.title, '消费');
      assert.equal(receipt.data.receipt.amountText, '-¥1.00');
      const fields = Object.fromEntries(receipt.data.receipt.fields.map((f: any) => [f.label, f.value]));
      assert.equal(fields['地点'], '第一食堂');
      assert.equal(fields['卡号'], card.cardNo);
      assert.match(fields['一卡通流水号'], /^\d+$/);
      assert.deepEqual(
        receipt.data.receipt.timeline.map((step: any) => step.text),
        ['一卡通记账'],
      );
    });

    it('reads another date range: a preset, or two days picked, never longer than the card system allows', async () => {
      const user = await stack.createUser();
      const card = await boundCard(user, { balanceFen: 10_000 });
      await swipe(card.cardNo, 2);
      const picks = ['2020-01-01', '2020-03-01', '2019-01-01'];
      runtime = await openMiniprogram(stack, user, {
        datePicker: async () => ({ date: picks.shift()! }),
      });
      const page = runtime.launch(`/pages/statement/statement?bindingId=${card.bindingId}`);
      await page.waitFor((data) => !data.loading);
      assert.equal(page.data.rows.length, 2);
      await page.call('onRangeChange', '7');
      assert.equal(page.data.rows.length, 2);
      assert.match(page.data.rangeText, /^\d{4}-\d{2}-\d{2} 至 \d{4}-\d{2}-\d{2}$/);
      await page.call('onPickFrom');
      await page.call('onPickTo');
      assert.equal(page.data.rangeText, '2020-01-01 至 2020-03-01');
      assert.equal(page.data.isEmpty, true, 'nothing then');
      await page.call('onPickFrom');
      assert.equal(page.data.rangeError, '学校一卡通最多查询 366 天的账单');
    });

    it('shows the empty state for a card without entries', async () => {
      const user = await stack.createUser();
      const card = await boundCard(user);
      runtime = await openMiniprogram(stack, user);
      const page = runtime.launch(`/pages/statement/statement?bindingId=${card.bindingId}`);
      await page.waitFor((data) => !data.loading);
      assert.equal(page.data.isEmpty, true);
      assert.equal(page.data.errorMessage, '');
    });
  });
});
