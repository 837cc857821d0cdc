import assert from 'node:assert/strict';
import { createGatewayClient } from '../../server/src/domain/schools/gateway-clients.js';
import { eventually } from '../support/http.js';
import { startStack, type Stack } from '../support/stack.js';
import type { MiniRuntime } from './support/runtime.js';
import { closeOpenedRuntimes, openMiniprogram } from './support/session.js';

/**
 * The whole journey a student takes in the mini-program, through the real BFF, its PostgreSQL and both
 * sandboxes: every tap is a page handler, every Alipay screen (authorisation, cashier, agreement) is the
 * Alipay sandbox acting for the student, every canteen swipe is the card-system sandbox's POS.
 */
describe('student journey in the mini-program', function () {
  this.timeout(120_000);
  let stack: Stack;
  let runtime: MiniRuntime | undefined;

  before(async function () {
    this.timeout(120_000);
    // Failed withholdings retry an hour later: the repayment below, not a retry, is what clears the debt.
    stack = await startStack({ schoolSettings: { retryScheduleSeconds: [3600] } });
  });

  after(async () => {
    await stack?.stop();
  });

  afterEach(closeOpenedRuntimes);

  it('opens, logs in, picks the school, binds, recharges ¥50.00 and sees it on the card and the statement', async () => {
    const user = await stack.createUser(100_000);
    const card = await stack.createCard({ balanceFen: 1_000 });
    runtime = await openMiniprogram(stack, user);

    runtime.launch();
    const school = await runtime.waitForPage('pages/school/school');
    await school.waitFor((data) => !data.loading);
    await school.input('onQueryInput', stack.school.name);
    await school.call('onSearch');
    await school.tap('onPickSchool', { id: stack.school.id });

    const bind = await runtime.waitForPage('pages/bind/bind');
    await bind.waitFor((data) => !data.loading);
    assert.equal(bind.data.proofLabel, '学号', 'a school without a roster asks for the student number');
    await bind.input('onCardNoInput', card.cardNo);
    await bind.input('onHolderNameInput', card.holderName);
    await bind.input('onProofInput', card.studentNo!);
    await bind.call('onSubmit');

    const home = await runtime.waitForPage('pages/card/card');
    await home.waitFor((data) => !!data.card);
    assert.equal(home.data.card.balanceText, '¥10.00');
    assert.equal(home.data.card.statusLabel, '正常使用');
    await home.call('onRecharge');

    const recharge = await runtime.waitForPage('pages/recharge/recharge');
    await recharge.waitFor((data) => !data.loading);
    await recharge.tap('onPickPreset', { fen: 5000 });
    await recharge.call('onPay');

    const result = await runtime.waitForPage('pages/recharge-result/recharge-result');
    await result.waitFor((data) => data.result?.status === 'CREDITED' && !!data.balanceText, {
      timeoutMs: 30_000,
    });
    assert.equal(result.data.result.title, '已到账');
    assert.equal(result.data.balanceText, '¥60.00');
    await result.call('onBackToCard');

    const backHome = await runtime.waitForPage('pages/card/card');
    assert.equal(backHome, home, 'back on the same card home');
    await home.waitFor((data) => data.card.balanceText === '¥60.00');
    await home.call('onStatement');

    const statement = await runtime.waitForPage('pages/statement/statement');
    await statement.waitFor((data) => !data.loading);
    const [latest] = statement.data.rows;
    assert.deepEqual(
      {
        title: latest.title,
        amount: latest.amountText,
        balance: latest.balanceText,
        state: latest.stateText,
      },
      { title: '充值', amount: '+¥50.00', balance: '余额 ¥60.00', state: '' },
    );
    await statement.tap('onOpenEntry', { id: latest.id });
    const receipt = await runtime.waitForPage('pages/receipt/receipt');
    await receipt.waitFor((data) => !data.loading && !!data.receipt);
    const fields = Object.fromEntries(receipt.data.receipt.fields.map((f: any) => [f.label, f.value]));
    assert.match(fields['订单号'], /^R/);
    assert.match(fields['支付宝交易号'], /^\d{28}$/);
    assert.deepEqual(
      receipt.data.receipt.timeline.map((step: any) => step.text),
      ['下单', '支付成功', '已充入校园卡'],
    );
    assert.equal((await stack.alipay.control.getUser(user.userId)).balanceFen, 95_000);
  });

  it('signs withholding, sees it on the card home, falls into arrears at the canteen, repays and is approved again', async () => {
    const user = await stack.createUser(100_000);
    const card = await stack.createCard({ balanceFen: 1_000 });
    const http = await user.login();
    const bound = await http.post('/api/v1/bindings', {
      schoolId: stack.school.id,
      cardNo: card.cardNo,
      name: card.holderName,
      relation: 'SELF',
      studentNo: card.studentNo,
    });
    assert.equal(bound.status, 201, bound.text);
    // The school's canteen POS gateway talks to our BFF (operator set-up, as the dev launcher does it).
    const pos = await createGatewayClient(stack.app.deps, { schoolId: stack.school.id, name: '食堂 POS' });
    await stack.cardsys.control.configurePlatform(stack.school.code, { baseUrl: stack.app.url, ...pos });
    const swipe = (amountFen: number) =>
      stack.cardsys.control.swipe({
        schoolCode: stack.school.code,
        cardNo: card.cardNo,
        amountFen,
        terminalId: 'POS-07',
        place: '第二食堂',
      });

    runtime = await openMiniprogram(stack, user);
    runtime.launch();
    const home = await runtime.waitForPage('pages/card/card');
    await home.waitFor((data) => !!data.card);
    assert.equal(home.data.withholding.statusLabel, '未开通');
    await home.call('onWithholding');

    const withholding = await runtime.waitForPage('pages/withholding/withholding');
    await withholding.waitFor((data) => !data.loading);
    assert.equal(withholding.data.errorMessage, '');
    assert.equal(withholding.data.view.canSign, true);
    assert.equal(withholding.data.view.txnLimitText, '¥50.00');
    assert.equal(withholding.data.view.dailyLimitText, '¥200.00');
    await withholding.call('onSign');
    assert.equal(withholding.data.view.statusLabel, '已开通');
    assert.equal(withholding.data.view.isActive, true);
    assert.ok(runtime.my.calls.includes('paySignCenter'));

    runtime.my.api.navigateBack();
    await runtime.waitForPage('pages/card/card');
    await home.waitFor((data) => data.withholding?.isActive === true);
    assert.equal(home.data.withholding.statusLabel, '已开通');

    // Lunch with an empty Alipay balance: approved at the till, but Alipay cannot collect it.
    await stack.alipay.control.setBalance(user.userId, 0);
    const lunch = await swipe(1250);
    assert.equal(lunch.platform.decision, 'APPROVED');
    await eventually(
      async () => {
        await home.lifecycle('onPullDownRefresh');
        return home.data.debts.hasDebts;
      },
      { timeoutMs: 30_000, message: 'the card home never showed the unpaid lunch' },
    );
    assert.match(home.data.debts.text, /¥12\.50/);
    const dinnerInArrears = await swipe(800);
    assert.equal(dinnerInArrears.platform.decision, 'DECLINED');
    assert.equal(dinnerInArrears.platform.reason, 'IN_ARREARS');
    await home.call('onDebts');

    const debts = await runtime.waitForPage('pages/debts/debts');
    await debts.waitFor((data) => !data.loading);
    assert.equal(debts.data.errorMessage, '');
    assert.equal(debts.data.totalText, '¥12.50');
    assert.deepEqual(
      debts.data.groups[0].rows.map((row: any) => [
        row.amountText,
        row.reasonText,
        row.whoText,
        row.terminalText,
      ]),
      [
        [
          '¥12.50',
          '支付宝余额不足',
          `${card.holderName}的卡 · 尾号${card.cardNo.slice(-4)}`,
          '食堂 POS · POS-07',
        ],
      ],
    );

    await stack.alipay.control.setBalance(user.userId, 5_000);
    await debts.tap('onRepay', { school: stack.school.id });
    assert.equal(debts.data.repaid, true);
    assert.equal(debts.data.notice, '欠款已还清，食堂刷卡已恢复支付宝免密代扣');
    assert.equal(debts.data.isEmpty, true);
    assert.equal((await stack.alipay.control.getUser(user.userId)).balanceFen, 3_750);

    const nextLunch = await swipe(900);
    assert.equal(nextLunch.platform.decision, 'APPROVED');
  });
});
