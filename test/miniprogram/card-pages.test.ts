import assert from 'node:assert/strict';
import { saveRosterEntries } from '../../server/src/domain/roster/roster-entries.js';
import { eventually } from '../support/http.js';
import { testIdNumber, testMobile } from '../support/identity.js';
import { startStack, type Stack, type StackUser } from '../support/stack.js';
import type { MiniRuntime } from './support/runtime.js';
import { closeOpenedRuntimes, openMiniprogram } from './support/session.js';

/**
 * Students and parents in the mini-program (issue #12): binding with one tap from the roster, the holder's
 * view of other bindings, a parent waiting for approval, loss and 解挂, a frozen card, message subscriptions.
 */
const TEMPLATES = {
  RECHARGE_CREDITED: 'TPL_R',
  CARD_LOST: 'TPL_L',
  CARD_BOUND: 'TPL_B',
  BALANCE_LOW: 'TPL_BAL',
};

describe('card pages: proof, holder, loss and messages', function () {
  this.timeout(60_000);
  let stack: Stack;
  let runtime: MiniRuntime | undefined;

  before(async function () {
    this.timeout(120_000);
    stack = await startStack({
      schoolSettings: { parentApproval: 'ADULTS' },
      env: { ALIPAY_MESSAGE_TEMPLATES: JSON.stringify(TEMPLATES) },
    });
    for (const templateId of Object.values(TEMPLATES))
      await stack.alipay.control.registerMessageTemplate({ templateId, keywords: 3 });
  });
  after(() => stack?.stop());
  afterEach(closeOpenedRuntimes);

  async function rosterCard(birth = '20000101') {
    const card = await stack.createCard();
    const entry = { idNumber: testIdNumber(birth), phone: testMobile(), guardianPhone: testMobile() };
    await saveRosterEntries(stack.app.deps, stack.school.id, [
      { cardNo: card.cardNo, name: card.holderName, ...entry },
    ]);
    return { ...card, ...entry };
  }

  async function bound(
    user: StackUser,
    card: { cardNo: string; holderName: string; idNumber: string },
    relation: string,
  ) {
    const res = await (
      await user.login()
    ).post('/api/v1/bindings', {
      schoolId: stack.school.id,
      cardNo: card.cardNo,
      name: card.holderName,
      relation,
      idNumber: card.idNumber,
    });
    assert.equal(res.status, 201, res.text);
    return res.body.id as string;
  }

  const formUrl = () =>
    `/pages/bind/bind?schoolId=${stack.school.id}&schoolName=${encodeURIComponent(stack.school.name)}`;

  it('finds the card with what Alipay shares and binds it with one tap', async () => {
    const card = await rosterCard();
    const user = await stack.createUser(100_000, { certNo: card.idNumber });
    await stack.alipay.control.shareInfo(user.userId, { certNo: true });
    runtime = await openMiniprogram(stack, user);
    const form = runtime.launch(formUrl());
    await form.waitFor((data) => !data.loading);
    assert.equal(form.data.hasRoster, true);
    assert.equal(form.data.proofLabel, '持卡人身份证号');
    await form.call('onFindWithAlipay');
    assert.equal(form.data.matches.length, 1, form.data.lookupNotice);
    assert.match(form.data.matches[0].title, new RegExp(`${card.cardNo.slice(-4)}$`));
    await form.tap('onBindMatch', { token: form.data.matches[0].token });
    const home = await runtime.waitForPage('pages/card/card');
    await home.waitFor((data) => !!data.card);
    assert.equal(home.data.card.cardNo, card.cardNo);
    assert.equal(home.data.card.isHolder, true);
  });

  it('binds with the last six characters of the ID number typed in the form', async () => {
    const card = await rosterCard();
    const user = await stack.createUser();
    runtime = await openMiniprogram(stack, user);
    const form = runtime.launch(formUrl());
    await form.waitFor((data) => !data.loading);
    await form.input('onCardNoInput', card.cardNo);
    await form.input('onHolderNameInput', card.holderName);
    await form.input('onProofInput', '000000');
    await form.call('onSubmit');
    assert.equal(form.data.proofError, '身份信息与学校登记的不一致，请核对后再试');
    await form.input('onProofInput', card.idNumber.slice(-6));
    await form.call('onSubmit');
    await runtime.waitForPage('pages/card/card');
  });

  it('shows the holder who else bound the card, lets them approve a parent, and the parent then sees the balance', async () => {
    const card = await rosterCard('20000101');
    const holder = await stack.createUser();
    const holderBinding = await bound(holder, card, 'SELF');
    const parent = await stack.createUser();
    const parentBinding = await bound(parent, card, 'PARENT');

    runtime = await openMiniprogram(stack, parent);
    const waiting = runtime.launch(`/pages/card/card?bindingId=${parentBinding}`);
    await waiting.waitFor((data) => !!data.card);
    assert.deepEqual(
      [waiting.data.card.isPending, waiting.data.card.statusLabel, waiting.data.card.balanceText],
      [true, '等待持卡人同意', '同意后可查看'],
    );
    runtime.close();

    runtime = await openMiniprogram(stack, holder);
    const home = runtime.launch(`/pages/card/card?bindingId=${holderBinding}`);
    await home.waitFor((data) => !!data.card);
    assert.equal(home.data.others.length, 1);
    assert.match(home.data.others[0].detail, /身份证号验证 · 等待持卡人同意/);
    await home.tap('onApproveOther', { id: parentBinding });
    assert.equal(home.data.others[0].canApprove, false);
    runtime.close();

    runtime = await openMiniprogram(stack, parent);
    const approved = runtime.launch(`/pages/card/card?bindingId=${parentBinding}`);
    await approved.waitFor((data) => !!data.card);
    assert.equal(approved.data.card.balanceText, '¥100.00');
  });

  it('reports a card lost with words on how to undo it, and cancels the loss', async () => {
    const card = await rosterCard();
    const holder = await stack.createUser();
    const bindingId = await bound(holder, card, 'SELF');
    runtime = await openMiniprogram(stack, holder);
    const home = runtime.launch(`/pages/card/card?bindingId=${bindingId}`);
    await home.waitFor((data) => !!data.card);
    await home.call('onReportLoss');
    assert.match(runtime.my.dialogs.at(-1)!.content!, /解挂/);
    assert.equal(home.data.card.statusLabel, '已挂失');
    assert.equal(home.data.card.canCancelLoss, true);
    assert.match(home.data.card.lossHelpText, /在这里解挂/);
    await home.call('onCancelLoss');
    assert.equal(home.data.card.statusLabel, '正常使用');
    assert.equal((await stack.cardsys.control.getCard(stack.school.code, card.cardNo)).status, 'NORMAL');
  });

  it('shows a card frozen at the card system as frozen, without recharge', async () => {
    const card = await rosterCard();
    const holder = await stack.createUser();
    const bindingId = await bound(holder, card, 'SELF');
    await stack.cardsys.control.setStatus(stack.school.code, card.cardNo, 'FROZEN');
    runtime = await openMiniprogram(stack, holder);
    const home = runtime.launch(`/pages/card/card?bindingId=${bindingId}`);
    await home.waitFor((data) => !!data.card);
    assert.deepEqual([home.data.card.statusLabel, home.data.card.rechargeDisabled], ['已冻结', true]);
  });

  it('asks for the messages a person wants and sets a low-balance threshold', async () => {
    const card = await rosterCard();
    const holder = await stack.createUser();
    const bindingId = await bound(holder, card, 'SELF');
    runtime = await openMiniprogram(stack, holder);
    const home = runtime.launch(`/pages/card/card?bindingId=${bindingId}`);
    await home.waitFor((data) => !!data.card);
    await home.call('onSubscribeCardAlerts');
    await home.input('onLowBalanceInput', '20');
    await home.call('onSaveLowBalance');
    assert.equal(home.data.card.lowBalanceYuan, '20.00');
    const asked = runtime.my.calls.filter((call) => call === 'requestSubscribeMessage').length;
    assert.equal(asked, 2);
    const kinds = (await (await holder.login()).get('/api/v1/message-subscriptions')).body.kinds;
    assert.deepEqual(
      kinds
        .filter((k: any) => k.remaining > 0)
        .map((k: any) => k.kind)
        .sort(),
      ['BALANCE_LOW', 'CARD_BOUND', 'CARD_LOST'],
    );
    // Someone else binds the card: the holder is told.
    const parent = await stack.createUser();
    await bound(parent, card, 'PARENT');
    await eventually(async () => (await stack.alipay.control.messages(holder.userId)).length === 1);
  });
});
