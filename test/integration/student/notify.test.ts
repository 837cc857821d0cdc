import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { fenToYuan } from '../../../shared/money.js';
import {
  handleAlipayNotification,
  type NotificationHandler,
  type NotificationHandlers,
} from '../../../server/src/domain/notify/notifications.js';
import type { NotifyOutcome } from '../../../server/src/db/repos/notify/notify-log.js';
import {
  findRechargeToNotify,
  markPaidNotified,
} from '../../../server/src/db/repos/recharge/payment-batches.js';
import { postNotification, signedNotification } from '../../support/alipay-forge.js';
import { eventually, request } from '../../support/http.js';
import { startStack, type Stack } from '../../support/stack.js';
import { userWithCard, vendorCreditsFor, waitForRecharge } from './helpers.js';

describe('Alipay payment notifications', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(() => stack.stop());

  /** A created, unpaid recharge (of 30.00 unless said) and everything needed to talk about it. */
  async function openOrder(amountFen = 3_000) {
    const ctx = await userWithCard(stack);
    const created = await ctx.api.post('/api/v1/recharges', { bindingId: ctx.bindingId, amountFen });
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

  /** What notify_log says of each notification of an order: outcome, whether it verified, and why. */
  async function notifyLogEntries(outTradeNo: string) {
    const { rows } = await stack.app.deps.pool.query(
      'select outcome, is_verified as verified, detail from notify_log where out_trade_no = $1 order by id',
      [outTradeNo],
    );
    return rows as Array<{ outcome: string; verified: boolean; detail: string | null }>;
  }

  async function notifyLog(outTradeNo: string): Promise<string[]> {
    const { rows } = await stack.app.deps.pool.query(
      'select outcome from notify_log where out_trade_no = $1 order by id',
      [outTradeNo],
    );
    return rows.map((r) => r.outcome);
  }

  /** campus_alipay_notifications_total by its labels, as a scraper reads it. */
  async function notificationCounts(): Promise<Map<string, number>> {
    const res = await request('GET', `${stack.app.url}/metrics`);
    assert.equal(res.status, 200);
    const counts = new Map<string, number>();
    for (const match of res.text.matchAll(/^campus_alipay_notifications_total\{(.*)\} (\d+)$/gm))
      counts.set(match[1], Number(match[2]));
    return counts;
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
    assert.deepEqual(await notifyLogEntries(order.outTradeNo), [
      { outcome: 'REJECTED_SIGNATURE', verified: false, detail: null },
    ]);
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
    assert.deepEqual(await notifyLogEntries(order.outTradeNo), [
      { outcome: 'REJECTED_SELLER', verified: true, detail: 'seller_id 2088000000000001' },
      { outcome: 'REJECTED_APP', verified: true, detail: 'app_id 2021000000000009' },
    ]);
  });

  it('checks auth_app_id only against a school that has an authorized app id', async () => {
    const { api, order } = await openOrder();
    const { pool } = stack.app.deps;
    // A school onboarded before its ISV authorization was recorded (no app id to compare with): the signature
    // and the seller still vouch for the notification.
    await pool.query('update schools set alipay_auth_app_id = null where id = $1', [stack.school.id]);
    try {
      const form = notificationFor(order, { auth_app_id: '2021000000000077' });
      const key = stack.alipay.sandbox.alipayPrivateKey;
      assert.equal(await postNotification(stack.app.url, signedNotification(form, key)), 'success');
    } finally {
      await pool.query('update schools set alipay_auth_app_id = $2 where id = $1', [
        stack.school.id,
        stack.school.alipayAuthAppId,
      ]);
    }
    assert.deepEqual(await notifyLogEntries(order.outTradeNo), [
      { outcome: 'APPLIED', verified: true, detail: 'PAID' },
    ]);
    await waitForRecharge(api, order.id, 'CREDITED');
  });

  it('counts every notification on /metrics by whether it verified and what was done with it', async () => {
    const { order } = await openOrder();
    const key = stack.alipay.sandbox.alipayPrivateKey;
    const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const before = await notificationCounts();
    const deliveries: Array<[Record<string, string>, string]> = [
      [notificationFor(order, { app_id: '2021000000000009' }), key],
      [notificationFor(order), privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()],
      [notificationFor(order), key],
      [notificationFor(order), key],
    ];
    for (const [form, signingKey] of deliveries)
      await postNotification(stack.app.url, signedNotification(form, signingKey));
    const after = await notificationCounts();
    const added = (series: string) => (after.get(series) ?? 0) - (before.get(series) ?? 0);
    assert.deepEqual(
      {
        appRejected: added('verified="true",outcome="REJECTED_APP"'),
        forged: added('verified="false",outcome="REJECTED_SIGNATURE"'),
        applied: added('verified="true",outcome="APPLIED"'),
        repeated: added('verified="true",outcome="ALREADY_APPLIED"'),
      },
      { appRejected: 1, forged: 1, applied: 1, repeated: 1 },
    );
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

  it('writes notifications that arrive together in one statement, each with its own outcome; a bad one fails alone', async () => {
    const [a, b, c] = [await openOrder(), await openOrder(), await openOrder()];
    const { pool } = stack.app.deps;
    const now = new Date();
    const payment = (
      ctx: { order: { outTradeNo: string; tradeNo: string } },
      form = notificationFor(ctx.order),
    ) => ({
      outTradeNo: ctx.order.outTradeNo,
      tradeNo: ctx.order.tradeNo,
      buyerId: null,
      at: now,
      form,
      detail: 'PAID',
    });
    // Submitted in the same turn: one statement for all four, which c's unstorable notify_id makes fail.
    const results = await Promise.allSettled([
      markPaidNotified(pool, payment(a)),
      markPaidNotified(pool, payment(a)),
      markPaidNotified(pool, payment(b)),
      markPaidNotified(pool, payment(c, notificationFor(c.order, { notify_id: 'bad\u0000id' }))),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'fulfilled', 'fulfilled', 'rejected'],
    );
    const [first, repeat, other] = results.map((r) => (r.status === 'fulfilled' ? r.value : 'failed'));
    assert.equal(first, a.order.id);
    assert.equal(repeat, undefined);
    assert.equal(other, b.order.id);
    assert.deepEqual(await notifyLog(a.order.outTradeNo), ['APPLIED', 'ALREADY_APPLIED']);
    assert.deepEqual(await notifyLog(b.order.outTradeNo), ['APPLIED']);
    assert.deepEqual(await notifyLog(c.order.outTradeNo), []);
    const { rows } = await pool.query<{ out_trade_no: string; status: string }>(
      'select out_trade_no, status from recharge_orders where out_trade_no = any($1)',
      [[a.order.outTradeNo, b.order.outTradeNo, c.order.outTradeNo]],
    );
    assert.deepEqual(Object.fromEntries(rows.map((r) => [r.out_trade_no, r.status])), {
      [a.order.outTradeNo]: 'PAID',
      [b.order.outTradeNo]: 'PAID',
      [c.order.outTradeNo]: 'CREATED',
    });
  });

  it('reads the orders of notifications that arrive together, each answered with its own order and school', async () => {
    const [a, b] = [await openOrder(3_000), await openOrder(4_500)];
    const { pool } = stack.app.deps;
    // Submitted in the same turn: one read for all four, two of them for one order, one for an order we never made.
    const found = await Promise.all(
      [b.order.outTradeNo, 'R-never-made', a.order.outTradeNo, b.order.outTradeNo].map((outTradeNo) =>
        findRechargeToNotify(pool, outTradeNo),
      ),
    );
    const school = {
      alipaySellerId: stack.school.alipaySellerId,
      alipayAuthAppId: stack.school.alipayAuthAppId,
    };
    const ofB = { order: { id: b.order.id, outTradeNo: b.order.outTradeNo, amountFen: 4_500 }, school };
    assert.deepEqual(found, [
      ofB,
      undefined,
      { order: { id: a.order.id, outTradeNo: a.order.outTradeNo, amountFen: 3_000 }, school },
      ofB,
    ]);
  });

  it('answers success only with the exact body Alipay expects', async () => {
    const { user, api, order } = await openOrder();
    await stack.alipay.control.payTrade({ tradeNO: order.tradeNo, userId: user.userId });
    await waitForRecharge(api, order.id, 'CREDITED');
    const [record] = await stack.alipay.control.notifications({ outTradeNo: order.outTradeNo });
    assert.equal(record.status, 'acknowledged');
    assert.equal(record.attempts[0].answer, 'success');
  });

  describe('routing a verified notification to the domain that applies it', () => {
    /** A plain handler (applied in a transaction with its notify_log entry) that says who took the form. */
    const takenBy =
      (name: string): NotificationHandler =>
      async () => ({ outcome: 'APPLIED', detail: name });
    const handlers: NotificationHandlers = {
      trade: { R: takenBy('recharge'), P: takenBy('repayment') },
      agreement: takenBy('agreement'),
      notifyTypes: { open_app_auth_notify: takenBy('app authorization') },
      messages: { 'alipay.open.auth.appauth.cancelled': takenBy('authorization cancelled') },
    };

    /** A form signed by Alipay's key, as Alipay would post it to us. */
    function fromAlipay(fields: Record<string, string>) {
      return signedNotification(
        { notify_id: String(crypto.randomInt(10 ** 12)), app_id: stack.alipay.appId, ...fields },
        stack.alipay.sandbox.alipayPrivateKey,
      );
    }

    async function logged(form: Record<string, string>) {
      const { rows } = await stack.app.deps.pool.query(
        'select outcome, is_verified as verified, detail from notify_log where notify_id = $1 order by id',
        [form.notify_id],
      );
      return rows as Array<{ outcome: string; verified: boolean; detail: string | null }>;
    }

    async function deliver(form: Record<string, string>, to: NotificationHandlers = handlers) {
      const answer = await handleAlipayNotification(stack.app.deps, form, to);
      return { answer, logged: await logged(form) };
    }

    it('sends trade notifications by order prefix, (un)signing to agreements, messages by msg_method, the rest by notify_type', async () => {
      const cases: Array<[Record<string, string>, string]> = [
        [{ notify_type: 'trade_status_sync', out_trade_no: 'R20261125000001' }, 'recharge'],
        [{ notify_type: 'trade_status_sync', out_trade_no: 'P20261125000001' }, 'repayment'],
        [{ notify_type: 'dut_user_sign', external_agreement_no: 'A1' }, 'agreement'],
        [{ notify_type: 'dut_user_unsign', external_agreement_no: 'A1' }, 'agreement'],
        [{ notify_type: 'open_app_auth_notify' }, 'app authorization'],
        // A message may carry the old protocol's notify_type too (ALIPAY-M2.md §0): msg_method decides.
        [
          { msg_method: 'alipay.open.auth.appauth.cancelled', notify_type: 'open_app_auth_notify' },
          'authorization cancelled',
        ],
        [{ msg_method: 'alipay.open.auth.appauth.cancelled' }, 'authorization cancelled'],
      ];
      for (const [fields, handler] of cases) {
        const { answer, logged: entries } = await deliver(fromAlipay(fields));
        assert.deepEqual(
          { answer, entries },
          { answer: 'success', entries: [{ outcome: 'APPLIED', verified: true, detail: handler }] },
          JSON.stringify(fields),
        );
      }
    });

    it('acknowledges a verified notification no domain takes, and records it IGNORED with what it was', async () => {
      const cases: Array<[Record<string, string>, string]> = [
        [
          { notify_type: 'trade_status_sync', out_trade_no: 'Z20261125000001' },
          'no handler for trade_status_sync',
        ],
        [{ notify_type: 'trade_status_sync' }, 'no handler for trade_status_sync'],
        [{ notify_type: 'batch_trans_notify' }, 'no handler for batch_trans_notify'],
        [
          { msg_method: 'alipay.open.mini.version.audit.passed' },
          'no handler for alipay.open.mini.version.audit.passed',
        ],
      ];
      for (const [fields, detail] of cases) {
        const { answer, logged: entries } = await deliver(fromAlipay(fields));
        assert.deepEqual(
          { answer, entries },
          { answer: 'success', entries: [{ outcome: 'IGNORED', verified: true, detail }] },
          JSON.stringify(fields),
        );
      }
    });

    it('answers fail when applying throws, so Alipay sends it again, and records it FAILED with the error', async () => {
      const failing: NotificationHandlers = {
        trade: {
          R: async () => {
            throw new Error('card system said no');
          },
        },
      };
      const form = fromAlipay({ notify_type: 'trade_status_sync', out_trade_no: 'R20261125000002' });
      assert.deepEqual(await deliver(form, failing), {
        answer: 'fail',
        logged: [{ outcome: 'FAILED', verified: true, detail: 'card system said no' }],
      });
    });

    it('acknowledges only what was applied, already applied or ignored; anything else is asked for again', async () => {
      const answering = (outcome: NotifyOutcome): NotificationHandlers => ({
        trade: { R: async () => ({ outcome, detail: outcome }) },
      });
      const answers: Record<string, string> = {};
      for (const outcome of [
        'APPLIED',
        'ALREADY_APPLIED',
        'IGNORED',
        'REJECTED_AMOUNT',
        'REJECTED_SELLER',
      ] as const) {
        const form = fromAlipay({ notify_type: 'trade_status_sync', out_trade_no: 'R20261125000003' });
        const { answer, logged: entries } = await deliver(form, answering(outcome));
        answers[outcome] = answer;
        assert.deepEqual(entries, [{ outcome, verified: true, detail: outcome }]);
      }
      assert.deepEqual(answers, {
        APPLIED: 'success',
        ALREADY_APPLIED: 'success',
        IGNORED: 'success',
        REJECTED_AMOUNT: 'fail',
        REJECTED_SELLER: 'fail',
      });
    });
  });
});
