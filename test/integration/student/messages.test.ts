import assert from 'node:assert/strict';
import { eventually } from '../../support/http.js';
import { startStack, type Stack, type StackUser } from '../../support/stack.js';
import { gatewayFor, sale, signedPayer, waitForDeduction } from '../withholding/helpers.js';
import { waitForRecharge } from './helpers.js';

/** The templates "chosen in the merchant console" for each message kind, as the sandbox knows them. */
const TEMPLATES = {
  RECHARGE_CREDITED: 'TPL_RECHARGE',
  WITHHOLDING_FAILED: 'TPL_WH_FAILED',
  ARREARS: 'TPL_ARREARS',
  BALANCE_LOW: 'TPL_BALANCE',
  CARD_LOST: 'TPL_LOST',
  CARD_BOUND: 'TPL_BOUND',
};

describe('subscription messages', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({
      schoolSettings: { retryScheduleSeconds: [1] },
      env: {
        ALIPAY_MESSAGE_TEMPLATES: JSON.stringify(TEMPLATES),
        DEDUCTION_RETRY_SCALE: '0.01',
        BALANCE_WATCH_EVERY_MS: '500',
        MESSAGE_RETRY_MS: '100,100',
      },
    });
    for (const templateId of Object.values(TEMPLATES))
      await stack.alipay.control.registerMessageTemplate({ templateId, keywords: 3 });
  });
  after(() => stack.stop());

  type Api = Awaited<ReturnType<StackUser['login']>>;

  /** What my.requestSubscribeMessage does: the user accepts in Alipay, the page tells our server. */
  async function subscribe(user: { userId: string }, api: Api, kinds: Array<keyof typeof TEMPLATES>) {
    const ids = kinds.map((kind) => TEMPLATES[kind]);
    await stack.alipay.control.subscribeMessages({ userId: user.userId, templateIds: ids });
    const res = await api.post('/api/v1/message-subscriptions', { accepted: ids });
    assert.equal(res.status, 200, res.text);
  }

  async function messagesOf(userId: string, templateId?: string) {
    return (await stack.alipay.control.messages(userId)).filter(
      (m) => !templateId || m.templateId === templateId,
    );
  }

  /** Waits until the sender is done with everything queued (a message not sent must be a decision). */
  async function settled() {
    await eventually(async () => {
      const { rows } = await stack.app.deps.pool.query(
        `select 1 from user_messages where status = 'PENDING'`,
      );
      return rows.length === 0;
    });
  }

  it('tells the templates to ask for, and counts what the user allowed', async () => {
    const user = await stack.createUser();
    const api = await user.login();
    const before = (await api.get('/api/v1/message-subscriptions')).body.kinds;
    assert.deepEqual(
      before.map((k: any) => [k.kind, k.templateId, k.remaining]),
      Object.entries(TEMPLATES).map(([kind, id]) => [kind, id, 0]),
    );
    await subscribe(user, api, ['RECHARGE_CREDITED']);
    await subscribe(user, api, ['RECHARGE_CREDITED']);
    const after = (await api.get('/api/v1/message-subscriptions')).body.kinds;
    assert.equal(after.find((k: any) => k.kind === 'RECHARGE_CREDITED').remaining, 2, 'one-time ones add up');
    const bad = await api.post('/api/v1/message-subscriptions', { accepted: ['SOMEONE_ELSES'] });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.field, 'body.accepted.0');
  });

  it('tells a subscriber once that a recharge is on the card, and nobody who did not subscribe', async () => {
    const payer = await signedPayer(stack);
    await subscribe(payer.user, payer.api, ['RECHARGE_CREDITED']);
    const first = await payer.api.post('/api/v1/recharges', { bindingId: payer.bindingId, amountFen: 2_500 });
    // Alipay's notification comes three times: the card is credited, and the payer told, once.
    await stack.alipay.control.injectNotifyFault({
      notifyType: 'trade_status_sync',
      action: 'duplicate',
      copies: 3,
    });
    await stack.alipay.control.payTrade({ tradeNO: first.body.tradeNo, userId: payer.user.userId });
    await waitForRecharge(payer.api, first.body.id, 'CREDITED');
    await eventually(
      async () => (await messagesOf(payer.user.userId, TEMPLATES.RECHARGE_CREDITED)).length === 1,
    );
    const [message] = await messagesOf(payer.user.userId, TEMPLATES.RECHARGE_CREDITED);
    assert.equal(message.data.keyword1, '¥25.00');
    assert.match(message.data.keyword2, new RegExp(payer.card.cardNo.slice(-4)));
    assert.equal(message.page, 'pages/card/card');
    assert.equal(message.authAppId, stack.school.alipayAuthAppId, 'sent for the school');

    // Its one subscription is used up: the next recharge is credited without a message.
    const second = await payer.api.post('/api/v1/recharges', {
      bindingId: payer.bindingId,
      amountFen: 1_000,
    });
    await stack.alipay.control.payTrade({ tradeNO: second.body.tradeNo, userId: payer.user.userId });
    await waitForRecharge(payer.api, second.body.id, 'CREDITED');
    await settled();
    assert.equal((await messagesOf(payer.user.userId, TEMPLATES.RECHARGE_CREDITED)).length, 1);
    const { rows } = await stack.app.deps.pool.query(
      `select status, skip_reason from user_messages where dedup_key = $1`,
      [`recharge-credited:${second.body.id}`],
    );
    assert.deepEqual(rows, [{ status: 'SKIPPED', skip_reason: 'NOT_SUBSCRIBED' }]);
  });

  it('tells the payer when a swipe could not be collected, and again with the amount when it is in arrears', async () => {
    const payer = await signedPayer(stack);
    await subscribe(payer.user, payer.api, ['WITHHOLDING_FAILED', 'ARREARS']);
    await stack.alipay.control.setBalance(payer.user.userId, 0);
    const gateway = await gatewayFor(stack);
    const swipe = sale(payer.card.cardNo, 860);
    assert.equal((await gateway.deduct(swipe)).body.decision, 'APPROVED');
    await waitForDeduction(gateway, swipe.txnNo, 'ARREARS');
    await eventually(async () => (await messagesOf(payer.user.userId)).length === 2);
    const [failed, arrears] = await messagesOf(payer.user.userId);
    assert.deepEqual(
      [failed.templateId, failed.data.keyword1, failed.data.keyword3],
      [TEMPLATES.WITHHOLDING_FAILED, '¥8.60', '支付宝余额不足'],
    );
    assert.deepEqual([arrears.templateId, arrears.data.keyword1], [TEMPLATES.ARREARS, '¥8.60']);
    assert.equal(arrears.page, 'pages/debts/debts');
  });

  it('tells a user whose card balance falls below their threshold, once per fall', async () => {
    const payer = await signedPayer(stack, { cardBalanceFen: 5_000 });
    await subscribe(payer.user, payer.api, ['BALANCE_LOW']);
    const alert = await payer.api.put(`/api/v1/bindings/${payer.bindingId}/balance-alert`, {
      thresholdFen: 2_000,
    });
    assert.equal(alert.status, 200, alert.text);
    assert.equal(alert.body.lowBalanceFen, 2_000);
    await stack.cardsys.control.setBalance(stack.school.code, payer.card.cardNo, 1_500);
    await eventually(async () => (await messagesOf(payer.user.userId, TEMPLATES.BALANCE_LOW)).length === 1, {
      message: 'the low balance was told',
    });
    const [message] = await messagesOf(payer.user.userId, TEMPLATES.BALANCE_LOW);
    assert.deepEqual([message.data.keyword2, message.data.keyword3], ['¥15.00', '¥20.00']);
    // Still low on the next reads: nothing more.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    assert.equal((await messagesOf(payer.user.userId, TEMPLATES.BALANCE_LOW)).length, 1);
    const bad = await payer.api.put(`/api/v1/bindings/${payer.bindingId}/balance-alert`, {
      thresholdFen: -1,
    });
    assert.equal(bad.body.error.field, 'body.thresholdFen');
  });

  it('tells everyone who bound a card that it was reported lost, and the holder that someone bound it', async () => {
    const holderUser = await stack.createUser();
    const holder = await holderUser.login();
    const card = await stack.createCard();
    const body = {
      schoolId: stack.school.id,
      cardNo: card.cardNo,
      name: card.holderName,
      studentNo: card.studentNo,
    };
    const own = await holder.post('/api/v1/bindings', { ...body, relation: 'SELF' });
    await subscribe(holderUser, holder, ['CARD_BOUND', 'CARD_LOST']);
    const parentUser = await stack.createUser();
    const parent = await parentUser.login();
    await subscribe(parentUser, parent, ['CARD_LOST']);
    const parentBinding = await parent.post('/api/v1/bindings', { ...body, relation: 'PARENT' });
    assert.equal(parentBinding.status, 201);
    await eventually(async () => (await messagesOf(holderUser.userId, TEMPLATES.CARD_BOUND)).length === 1);
    assert.equal((await messagesOf(holderUser.userId, TEMPLATES.CARD_BOUND))[0].data.keyword2, '家长');

    await holder.post(`/api/v1/bindings/${own.body.id}/loss`);
    await eventually(async () => {
      const told = await Promise.all(
        [holderUser, parentUser].map(async (u) => (await messagesOf(u.userId, TEMPLATES.CARD_LOST)).length),
      );
      return told.every((n) => n === 1);
    });
  });

  it('retries a send Alipay refused for a passing reason, and never sends again one whose answer was lost', async () => {
    const payer = await signedPayer(stack);
    await subscribe(payer.user, payer.api, ['RECHARGE_CREDITED']);
    await subscribe(payer.user, payer.api, ['RECHARGE_CREDITED']);
    await stack.alipay.control.injectApiFault({
      method: 'alipay.open.app.mini.templatemessage.send',
      times: 1,
      error: { code: '40005', subCode: 'isv.app-call-limited' },
    });
    const limited = await payer.api.post('/api/v1/recharges', { bindingId: payer.bindingId, amountFen: 700 });
    await stack.alipay.control.payTrade({ tradeNO: limited.body.tradeNo, userId: payer.user.userId });
    await eventually(
      async () => (await messagesOf(payer.user.userId, TEMPLATES.RECHARGE_CREDITED)).length === 1,
      {
        message: 'sent on the retry',
      },
    );

    await stack.alipay.control.injectApiFault({
      method: 'alipay.open.app.mini.templatemessage.send',
      times: 1,
      hangMs: 5_000,
      applyEffect: true,
    });
    const lost = await payer.api.post('/api/v1/recharges', { bindingId: payer.bindingId, amountFen: 800 });
    await stack.alipay.control.payTrade({ tradeNO: lost.body.tradeNo, userId: payer.user.userId });
    await waitForRecharge(payer.api, lost.body.id, 'CREDITED');
    await eventually(async () => {
      const { rows } = await stack.app.deps.pool.query(
        `select status from user_messages where dedup_key = $1`,
        [`recharge-credited:${lost.body.id}`],
      );
      return rows[0]?.status === 'UNCONFIRMED';
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(
      (await messagesOf(payer.user.userId, TEMPLATES.RECHARGE_CREDITED)).length,
      2,
      'delivered once by Alipay, never sent again',
    );
  });
});
