import assert from 'node:assert/strict';
import { startStack, type Stack } from '../support/stack.js';
import { vendingMachine, COLA, CHIPS } from '../integration/terminals/helpers.js';
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
});
