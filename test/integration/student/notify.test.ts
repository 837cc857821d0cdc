import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { fenToYuan } from '../../../shared/money.js';
import { postNotification, signedNotification } from '../../support/alipay-forge.js';
import { eventually } from '../../support/http.js';
import { startStack, type Stack } from '../../support/stack.js';
import { userWithCard, vendorCreditsFor, waitForRecharge } from './helpers.js';

describe('Alipay payment notifications', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(() => stack.stop());

  /** A created, unpaid recharge of 30.00 and everything needed to talk about it. */
  async function openOrder() {
    const ctx = await userWithCard(stack);
    const created = await ctx.api.post('/api/v1/recharges', { bindingId: ctx.bindingId, amountFen: 3_000 });
    assert.equal(created.status, 201, created.text);
    return { ...ctx, order: created.body };
  }

  function notificationFor(
    order: { outTradeNo: string; tradeNo: string },
    overrides: Record<string, string> = {},
  ) {
    return {
      notify_type: 'trade_status_sync',
      notify_id: String(crypto.randomInt(10 ** 12)),
      notify_time: '2026-11-25 12:00:00',
      app_id: stack.alipay.appId,
      auth_app_id: stack.school.alipayAuthAppId!,
      seller_id: stack.school.alipaySellerId!,
      out_trade_no: order.outTradeNo,
      trade_no: order.tradeNo,
      trade_status: 'TRADE_SUCCESS',
      total_amount: fenToYuan(3_000),
      ...overrides,
    };
  }

  async function notifyLog(outTradeNo: string): Promise<string[]> {
    const { rows } = await stack.app.deps.pool.query(
      'select outcome from notify_log where out_trade_no = $1 order by id',
      [outTradeNo],
    );
    return rows.map((r) => r.outcome);
  }

  it('ignores a forged notification and keeps it on record', async () => {
    const { api, order } = await openOrder();
    const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const forged = signedNotification(
      notificationFor(order),
      privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    );
    assert.equal(await postNotification(stack.app.url, forged), 'fail');
    assert.equal((await api.get(`/api/v1/recharges/${order.id}`)).body.status, 'CREATED');
    assert.deepEqual(await notifyLog(order.outTradeNo), ['REJECTED_SIGNATURE']);
  });

  it("refuses a notification signed with RSA (SHA-1), even with Alipay's own key", async () => {
    const { api, order } = await openOrder();
    const form: Record<string, string> = { charset: 'utf-8', version: '1.0', ...notificationFor(order) };
    const content = Object.keys(form)
      .filter((key) => form[key] !== '')
      .sort()
      .map((key) => `${key}=${form[key]}`)
      .join('&');
    form.sign_type = 'RSA';
    form.sign = crypto
      .sign('RSA-SHA1', Buffer.from(content), stack.alipay.sandbox.alipayPrivateKey)
      .toString('base64');
    assert.equal(await postNotification(stack.app.url, form), 'fail');
    assert.equal((await api.get(`/api/v1/recharges/${order.id}`)).body.status, 'CREATED');
    assert.deepEqual(await notifyLog(order.outTradeNo), ['REJECTED_SIGNATURE']);
  });

  it('does not credit a genuine notification whose amount differs from the order', async () => {
    const { api, order } = await openOrder();
    const wrong = signedNotification(
      notificationFor(order, { total_amount: '0.01' }),
      stack.alipay.sandbox.alipayPrivateKey,
    );
    assert.equal(await postNotification(stack.app.url, wrong), 'fail');
    assert.equal((await api.get(`/api/v1/recharges/${order.id}`)).body.status, 'CREATED');
    assert.deepEqual(await notifyLog(order.outTradeNo), ['REJECTED_AMOUNT']);
  });

  it('does not credit a notification for another seller or another app', async () => {
    const { api, order } = await openOrder();
    const key = stack.alipay.sandbox.alipayPrivateKey;
    assert.equal(
      await postNotification(
        stack.app.url,
        signedNotification(notificationFor(order, { seller_id: '2088000000000001' }), key),
      ),
      'fail',
    );
    assert.equal(
      await postNotification(
        stack.app.url,
        signedNotification(notificationFor(order, { app_id: '2021000000000009' }), key),
      ),
      'fail',
    );
    assert.equal((await api.get(`/api/v1/recharges/${order.id}`)).body.status, 'CREATED');
    assert.deepEqual(await notifyLog(order.outTradeNo), ['REJECTED_SELLER', 'REJECTED_APP']);
  });

  it('recovers from a tampered first delivery: Alipay retries and the card is credited once', async () => {
    const { user, api, card, order } = await openOrder();
    await stack.alipay.control.injectNotifyFault({
      notifyType: 'trade_status_sync',
      action: 'tamper',
      attempts: 1,
      times: 1,
    });
    await stack.alipay.control.payTrade({ tradeNO: order.tradeNo, userId: user.userId });
    await waitForRecharge(api, order.id, 'CREDITED');
    const [record] = await stack.alipay.control.notifications({ outTradeNo: order.outTradeNo });
    assert.deepEqual(
      record.attempts.map((a) => a.answer),
      ['fail', 'success'],
    );
    assert.equal((await vendorCreditsFor(stack, card.cardNo, order.outTradeNo)).length, 1);
  });

  it('credits once however many times the notification is delivered', async () => {
    const { user, api, card, order } = await openOrder();
    await stack.alipay.control.injectNotifyFault({
      notifyType: 'trade_status_sync',
      action: 'duplicate',
      copies: 4,
      times: 1,
    });
    await stack.alipay.control.payTrade({ tradeNO: order.tradeNo, userId: user.userId });
    await waitForRecharge(api, order.id, 'CREDITED');
    await eventually(async () => (await notifyLog(order.outTradeNo)).length >= 4);
    const outcomes = await notifyLog(order.outTradeNo);
    assert.equal(outcomes.filter((o) => o === 'APPLIED').length, 1);
    assert.ok(
      outcomes.slice(1).every((o) => o === 'ALREADY_APPLIED'),
      outcomes.join(),
    );
    assert.equal((await vendorCreditsFor(stack, card.cardNo, order.outTradeNo)).length, 1);
  });

  it('keeps a credited order credited when a stale "closed" notification arrives late', async () => {
    const { user, api, card, order } = await openOrder();
    await stack.alipay.control.injectNotifyFault({
      notifyType: 'trade_status_sync',
      action: 'reorder',
      holdMs: 300,
      times: 1,
    });
    await stack.alipay.control.payTrade({ tradeNO: order.tradeNo, userId: user.userId });
    await waitForRecharge(api, order.id, 'CREDITED');
    const late = signedNotification(
      notificationFor(order, { trade_status: 'TRADE_CLOSED' }),
      stack.alipay.sandbox.alipayPrivateKey,
    );
    assert.equal(await postNotification(stack.app.url, late), 'success');
    assert.equal((await api.get(`/api/v1/recharges/${order.id}`)).body.status, 'CREDITED');
    assert.equal((await vendorCreditsFor(stack, card.cardNo, order.outTradeNo)).length, 1);
  });

  it('answers success only with the exact body Alipay expects', async () => {
    const { user, api, order } = await openOrder();
    await stack.alipay.control.payTrade({ tradeNO: order.tradeNo, userId: user.userId });
    await waitForRecharge(api, order.id, 'CREDITED');
    const [record] = await stack.alipay.control.notifications({ outTradeNo: order.outTradeNo });
    assert.equal(record.status, 'acknowledged');
    assert.equal(record.attempts[0].answer, 'success');
  });
});
