import assert from 'node:assert/strict';
import { startStack, type Stack } from '../support/stack.js';
import { userWithCard } from '../integration/student/helpers.js';
import type { MiniRuntime } from './support/runtime.js';
import { closeOpenedRuntimes, openMiniprogram } from './support/session.js';

/** The card home's "add to Alipay card wallet" (issue 16), against the real BFF and card-management sandbox. */
describe('the card home and the Alipay card wallet', function () {
  this.timeout(60_000);
  let stack: Stack;
  let runtime: MiniRuntime | undefined;

  before(async function () {
    this.timeout(120_000);
    stack = await startStack({ membercard: {} });
  });
  after(() => stack?.stop());
  afterEach(closeOpenedRuntimes);

  const boundStudent = (school = stack.school) => userWithCard(stack, { school, cardBalanceFen: 10_000 });

  it('adds the card to the wallet through the claim link and then shows it is there', async () => {
    const { user, bindingId } = await boundStudent();
    runtime = await openMiniprogram(stack, user);
    const page = runtime.launch(`/pages/card/card?bindingId=${bindingId}`);
    await page.waitFor((data) => !!data.card);
    assert.deepEqual(
      [page.data.wallet.isOffered, page.data.wallet.canAdd, page.data.wallet.statusLabel],
      [true, true, '未添加'],
    );
    await page.call('onAddToWallet');
    assert.ok(runtime.my.toasts.some((t) => t.content === '已添加到支付宝卡包'));
    await page.waitFor((data) => data.wallet.canOpen);
    assert.equal(page.data.wallet.statusLabel, '已添加');
    assert.equal((await stack.membercard!.control.wallet(user.openId)).length, 1);
    await page.call('onOpenWallet');
    assert.ok(runtime.my.calls.includes('ap.openCardList'));
  });

  it('leaves the card out of the wallet without a word when the person backs out', async () => {
    const { user, bindingId } = await boundStudent();
    runtime = await openMiniprogram(stack, user, {
      addCardAuth: async () => ({ success: false, code: 'JSAPI_SERVICE_TERMINATED' }),
    });
    const page = runtime.launch(`/pages/card/card?bindingId=${bindingId}`);
    await page.waitFor((data) => !!data.card);
    await page.call('onAddToWallet');
    assert.deepEqual(runtime.my.toasts, []);
    assert.equal(page.data.wallet.canAdd, true);
  });

  it('offers nothing at a school without the card in the wallet', async () => {
    const school = await stack.addSchool();
    const { user, bindingId } = await boundStudent(school);
    runtime = await openMiniprogram(stack, user);
    const page = runtime.launch(`/pages/card/card?bindingId=${bindingId}`);
    await page.waitFor((data) => !!data.card);
    assert.equal(page.data.wallet.isOffered, false);
  });
});
