import assert from 'node:assert/strict';
import { updateSchoolSettings } from '../../server/src/domain/schools/schools.js';
import { adminOf, TEST_OPERATOR } from '../support/admins.js';
import { testMobile } from '../support/identity.js';
import { startStack, type Stack } from '../support/stack.js';
import { vendingMachine, COLA, CHIPS } from '../integration/terminals/helpers.js';
import { JsapiFail } from './support/fake-my.js';
import type { MiniRuntime } from './support/runtime.js';
import { closeOpenedRuntimes, openMiniprogram } from './support/session.js';

/**
 * The page a vending machine's mini-program QR opens (issue #15): a person scans, sees the lines, pays with
 * the cashier, and is told to take the goods once the server has the payment. Real BFF and sandboxes; only
 * the Alipay app runtime is simulated.
 */
describe('mini-program: paying a vending machine order', function () {
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

  it('shows the order, pays it, and says to take the goods; the machine is told', async () => {
    const machine = await vendingMachine(stack);
    try {
      const { body: order } = await machine.createOrder([COLA, CHIPS]);
      const user = await stack.createUser(10_000);
      runtime = await openMiniprogram(stack, user);
      // What the machine's QR opens: the page with the order number as its query.
      const query = new URL(order.pay.miniProgramUrl.replace('alipays://', 'http://')).searchParams.get(
        'query',
      )!;
      const page = runtime.launch(`/pages/terminal-pay/terminal-pay?${query}`);
      await page.waitFor((data) => !data.loading);
      assert.deepEqual(
        page.data.lines.map((l: { name: string; quantityText: string; amountText: string }) => [
          l.name,
          l.quantityText,
          l.amountText,
        ]),
        [
          ['可乐', '×1', '¥3.00'],
          ['薯片', '×2', '¥9.00'],
        ],
      );
      assert.equal(page.data.amountText, '¥12.00');
      assert.equal(page.data.payable, true);
      await page.call('onPay');
      assert.equal(page.data.stateText, '支付成功，请在机器上取货');
      assert.equal(page.data.payable, false);
      assert.equal((await stack.alipay.control.getUser(user.userId)).balanceFen, 10_000 - 1_200);
      const callback = await machine.acknowledgedCallback(order.outOrderNo);
      assert.equal(callback.order.channel, 'MINIAPP');
    } finally {
      await machine.stop();
    }
  });

  it('charges nothing and keeps the order payable when the person closes the cashier', async () => {
    const machine = await vendingMachine(stack);
    try {
      const { body: order } = await machine.createOrder([COLA]);
      const user = await stack.createUser(10_000);
      runtime = await openMiniprogram(stack, user, {
        tradePay: (tradeNO) =>
          stack.alipay.control.payTrade({ tradeNO, userId: user.userId, action: 'cancel' }),
      });
      const page = runtime.launch(`/pages/terminal-pay/terminal-pay?orderNo=${order.orderNo}`);
      await page.waitFor((data) => !data.loading);
      await page.call('onPay');
      assert.equal(page.data.payMessage, '您已取消支付，没有扣款');
      assert.equal(page.data.payable, true);
      assert.equal((await stack.alipay.control.getUser(user.userId)).balanceFen, 10_000);
    } finally {
      await machine.stop();
    }
  });

  it('where the school asks, has an unknown payer share their Alipay mobile, then pays with the same tap flow', async () => {
    const setPhoneRule = (terminalPayRequiresPhone: boolean) =>
      updateSchoolSettings(stack.app.deps, TEST_OPERATOR, stack.school.id, { terminalPayRequiresPhone });
    // The school's owner switches it on in 学校设置.
    const owner = await adminOf(stack, stack.school.id, 'OWNER');
    const adminRuntime = await openMiniprogram(stack, owner.user);
    const settings = adminRuntime.launch(`/pages/admin-settings/admin-settings?schoolId=${stack.school.id}`);
    await settings.waitFor((data) => !!data.form);
    assert.equal(settings.data.form.terminalPayRequiresPhone, false);
    await settings.call('onTerminalPhoneChange', true);
    await settings.call('onSave');
    assert.equal(settings.data.saved.terminalPayRequiresPhone, true);
    const put = adminRuntime.my.requests.filter((r) => r.method === 'PUT');
    assert.deepEqual(JSON.parse(put[0].body!), { terminalPayRequiresPhone: true });
    adminRuntime.close();

    const machine = await vendingMachine(stack);
    try {
      const { body: order } = await machine.createOrder([COLA]);
      const user = await stack.createUser(10_000, { mobile: testMobile() });
      await stack.alipay.control.shareInfo(user.userId, { mobile: true });
      runtime = await openMiniprogram(stack, user);
      const page = runtime.launch(`/pages/terminal-pay/terminal-pay?orderNo=${order.orderNo}`);
      await page.waitFor((data) => !data.loading);
      await page.call('onPay');
      assert.equal(page.data.phoneRequired, true);
      assert.equal(page.data.payMessage, '本校要求首次付款前授权登记支付宝手机号');
      assert.equal(page.data.payable, true);
      assert.equal(
        (await stack.alipay.control.getUser(user.userId)).balanceFen,
        10_000,
        'nothing charged yet',
      );

      await page.call('onSharePhone');
      assert.equal(page.data.phoneRequired, false);
      assert.equal(page.data.stateText, '支付成功，请在机器上取货');
      assert.equal((await stack.alipay.control.getUser(user.userId)).balanceFen, 10_000 - 300);
      // One silent login for the page, one consent sheet for the mobile: the session was reused.
      assert.equal(runtime.my.calls.filter((call) => call === 'getAuthCode').length, 2);
      await machine.acknowledgedCallback(order.outOrderNo);
    } finally {
      await machine.stop();
      await setPhoneRule(false);
    }
  });

  it('tells a payer who declines the consent sheet why they cannot pay, and charges nothing', async () => {
    const setPhoneRule = (terminalPayRequiresPhone: boolean) =>
      updateSchoolSettings(stack.app.deps, TEST_OPERATOR, stack.school.id, { terminalPayRequiresPhone });
    await setPhoneRule(true);
    const machine = await vendingMachine(stack);
    try {
      const { body: order } = await machine.createOrder([COLA]);
      const user = await stack.createUser(10_000);
      runtime = await openMiniprogram(stack, user, {
        getAuthCode: async (scopes) => {
          if (scopes === 'auth_user') throw new JsapiFail(11, 'user cancelled');
          return stack.alipay.control.issueAuthCode({ userId: user.userId, appId: stack.alipay.appId });
        },
      });
      const page = runtime.launch(`/pages/terminal-pay/terminal-pay?orderNo=${order.orderNo}`);
      await page.waitFor((data) => !data.loading);
      await page.call('onPay');
      await page.call('onSharePhone');
      assert.equal(page.data.payMessage, '没有获得支付宝授权；本校要求授权手机号后才能付款');
      assert.equal(page.data.phoneRequired, true);
      assert.equal((await stack.alipay.control.getUser(user.userId)).balanceFen, 10_000);
    } finally {
      await machine.stop();
      await setPhoneRule(false);
    }
  });
});
