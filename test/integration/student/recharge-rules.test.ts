import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { fenToYuan } from '../../../shared/money.js';
import { reconcileUnpaidRecharge } from '../../../server/src/domain/recharge/recharge.js';
import { findRecharge } from '../../../server/src/db/repos/recharge/recharges.js';
import { postNotification, signedNotification } from '../../support/alipay-forge.js';
import { OffsetClock } from '../../support/clock.js';
import { eventually } from '../../support/http.js';
import { startStack, type Stack } from '../../support/stack.js';
import { userWithCard, vendorCreditsFor, waitForRecharge } from './helpers.js';

/**
 * The rules that decide whether a recharge credits a card, for every Alipay trade state (ALIPAY.md §3.2) on
 * orders that are unpaid, paid (card system down, so not yet credited) and credited. Only TRADE_SUCCESS and
 * TRADE_FINISHED mean money was taken; a closed trade closes only an unpaid order; nothing credits twice.
 */
const AMOUNT_FEN = 3_000;
const TRADE_STATES = ['WAIT_BUYER_PAY', 'TRADE_CLOSED', 'TRADE_SUCCESS', 'TRADE_FINISHED'] as const;

describe('recharge notifications for every trade state', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({
      env: { RECHARGE_CREDIT_RETRY_MS: '100,100,100,100,100,100,100,100,100,100,100,100' },
    });
  });
  after(() => stack.stop());

  async function openOrder() {
    const ctx = await userWithCard(stack, { cardBalanceFen: 0 });
    const created = await ctx.api.post('/api/v1/recharges', {
      bindingId: ctx.bindingId,
      amountFen: AMOUNT_FEN,
    });
    assert.equal(created.status, 201, created.text);
    return { ...ctx, order: created.body as { id: string; outTradeNo: string; tradeNo: string } };
  }

  function notify(order: { outTradeNo: string; tradeNo: string }, overrides: Record<string, string> = {}) {
    const form = {
      notify_type: 'trade_status_sync',
      notify_id: String(crypto.randomInt(10 ** 12)),
      notify_time: '2026-11-25 12:00:00',
      app_id: stack.alipay.appId,
      auth_app_id: stack.school.alipayAuthAppId!,
      seller_id: stack.school.alipaySellerId!,
      out_trade_no: order.outTradeNo,
      trade_no: order.tradeNo,
      trade_status: 'TRADE_SUCCESS',
      total_amount: fenToYuan(AMOUNT_FEN),
      ...overrides,
    };
    return postNotification(stack.app.url, signedNotification(form, stack.alipay.sandbox.alipayPrivateKey));
  }

  /** "outcome detail" of the latest notify_log entry of an order. */
  async function lastOutcome(outTradeNo: string): Promise<string> {
    const entry = await lastEntry(outTradeNo);
    return `${entry?.outcome} ${entry?.detail}`;
  }

  /** The latest notify_log entry of an order: what was done, whether it verified, and why. */
  async function lastEntry(outTradeNo: string) {
    const { rows } = await stack.app.deps.pool.query(
      'select outcome, is_verified as verified, detail from notify_log where out_trade_no = $1 order by id desc limit 1',
      [outTradeNo],
    );
    return rows[0] as { outcome: string; verified: boolean; detail: string | null } | undefined;
  }

  async function status(api: Awaited<ReturnType<typeof openOrder>>['api'], id: string) {
    return (await api.get(`/api/v1/recharges/${id}`)).body.status as string;
  }

  it('leaves an unpaid order payable on WAIT_BUYER_PAY, acknowledging it', async () => {
    const { api, card, order } = await openOrder();
    assert.equal(await notify(order, { trade_status: 'WAIT_BUYER_PAY' }), 'success');
    assert.equal(await status(api, order.id), 'CREATED');
    assert.deepEqual(await lastEntry(order.outTradeNo), {
      outcome: 'IGNORED',
      verified: true,
      detail: 'WAIT_BUYER_PAY',
    });
    assert.equal((await vendorCreditsFor(stack, card.cardNo, order.outTradeNo)).length, 0);
  });

  it('closes an unpaid order on TRADE_CLOSED and never credits it', async () => {
    const { api, card, order } = await openOrder();
    assert.equal(await notify(order, { trade_status: 'TRADE_CLOSED' }), 'success');
    assert.equal(await status(api, order.id), 'CLOSED');
    assert.equal((await findRecharge(stack.app.deps.db, order.id))!.lastError, 'TRADE_CLOSED');
    assert.deepEqual(await lastEntry(order.outTradeNo), {
      outcome: 'APPLIED',
      verified: true,
      detail: 'TRADE_CLOSED',
    });
    assert.equal((await vendorCreditsFor(stack, card.cardNo, order.outTradeNo)).length, 0);
  });

  for (const paidState of ['TRADE_SUCCESS', 'TRADE_FINISHED']) {
    it(`credits an unpaid order once on ${paidState}`, async () => {
      const { api, card, order } = await openOrder();
      assert.equal(await notify(order, { trade_status: paidState }), 'success');
      assert.deepEqual(await lastEntry(order.outTradeNo), {
        outcome: 'APPLIED',
        verified: true,
        detail: 'PAID',
      });
      await waitForRecharge(api, order.id, 'CREDITED');
      assert.equal((await vendorCreditsFor(stack, card.cardNo, order.outTradeNo)).length, 1);
    });
  }

  it('keeps a paid order paid (not closed, not paid twice) for every later trade state, then credits it once', async () => {
    const { user, api, card, order } = await openOrder();
    await stack.cardsys.control.setDowntime(true);
    try {
      await stack.alipay.control.payTrade({ tradeNO: order.tradeNo, userId: user.userId });
      await waitForRecharge(api, order.id, 'PAID');
      const outcomes: string[] = [];
      for (const tradeStatus of TRADE_STATES) {
        assert.equal(await notify(order, { trade_status: tradeStatus }), 'success', tradeStatus);
        assert.equal(await status(api, order.id), 'PAID', tradeStatus);
        outcomes.push(await lastOutcome(order.outTradeNo));
      }
      assert.deepEqual(outcomes, [
        'IGNORED WAIT_BUYER_PAY',
        'IGNORED TRADE_CLOSED',
        'ALREADY_APPLIED PAID',
        'ALREADY_APPLIED PAID',
      ]);
    } finally {
      await stack.cardsys.control.setDowntime(false);
    }
    await waitForRecharge(api, order.id, 'CREDITED');
    assert.equal((await vendorCreditsFor(stack, card.cardNo, order.outTradeNo)).length, 1);
  });

  it('keeps a credited order credited once for every later trade state', async () => {
    const { user, api, card, order } = await openOrder();
    await stack.alipay.control.payTrade({ tradeNO: order.tradeNo, userId: user.userId });
    await waitForRecharge(api, order.id, 'CREDITED');
    const outcomes: string[] = [];
    for (const tradeStatus of TRADE_STATES) {
      assert.equal(await notify(order, { trade_status: tradeStatus }), 'success', tradeStatus);
      outcomes.push(await lastOutcome(order.outTradeNo));
    }
    assert.deepEqual(outcomes, [
      'IGNORED WAIT_BUYER_PAY',
      'IGNORED TRADE_CLOSED',
      'ALREADY_APPLIED PAID',
      'ALREADY_APPLIED PAID',
    ]);
    assert.equal(await status(api, order.id), 'CREDITED');
    assert.equal((await vendorCreditsFor(stack, card.cardNo, order.outTradeNo)).length, 1);
  });

  it("refuses a notification of another merchant's app (auth_app_id), asking Alipay to send it again", async () => {
    const { api, order } = await openOrder();
    assert.equal(await notify(order, { auth_app_id: '2021009999999999' }), 'fail');
    assert.equal(await status(api, order.id), 'CREATED');
    assert.deepEqual(await lastEntry(order.outTradeNo), {
      outcome: 'REJECTED_APP',
      verified: true,
      detail: 'auth_app_id 2021009999999999',
    });
  });

  it('refuses one fen more than the order, and a total_amount that is not money', async () => {
    const { api, order } = await openOrder();
    assert.equal(await notify(order, { total_amount: fenToYuan(AMOUNT_FEN + 1) }), 'fail');
    assert.deepEqual(await lastEntry(order.outTradeNo), {
      outcome: 'REJECTED_AMOUNT',
      verified: true,
      detail: 'paid 3001 fen, order 3000 fen',
    });
    assert.equal(await notify(order, { total_amount: '30.001' }), 'fail');
    assert.deepEqual(await lastEntry(order.outTradeNo), {
      outcome: 'REJECTED_MALFORMED',
      verified: true,
      detail: 'total_amount 30.001',
    });
    assert.equal(await status(api, order.id), 'CREATED');
  });

  it('refuses a notification for an order we never made, and records it', async () => {
    const outTradeNo = `R${Date.now()}${crypto.randomInt(10 ** 9)}`;
    assert.equal(await notify({ outTradeNo, tradeNo: '2026000000000001' }), 'fail');
    assert.deepEqual(await lastEntry(outTradeNo), {
      outcome: 'REJECTED_UNKNOWN_ORDER',
      verified: true,
      detail: null,
    });
  });
});

describe("recharge limits at the school's boundaries", () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ schoolSettings: { rechargeMinFen: 500, rechargeMaxFen: 20_000 } });
  });
  after(() => stack.stop());

  it('accepts exactly the minimum and exactly the maximum, and refuses one fen under and one fen over', async () => {
    const { api, bindingId } = await userWithCard(stack);
    const answers: Array<[number, number]> = [];
    for (const amountFen of [499, 500, 20_000, 20_001]) {
      const res = await api.post('/api/v1/recharges', { bindingId, amountFen });
      answers.push([amountFen, res.status]);
    }
    assert.deepEqual(answers, [
      [499, 422],
      [500, 201],
      [20_000, 201],
      [20_001, 422],
    ]);
  });
});

describe('the sweep asking Alipay about an unpaid recharge (trade.query), for every trade state', () => {
  let stack: Stack;
  const clock = new OffsetClock();
  before(async () => {
    // The sweep job itself stays out of the way: each test asks about its order directly.
    stack = await startStack({
      clock,
      env: { RECHARGE_SWEEP_EVERY_MS: '3600000', RECHARGE_TIMEOUT_MINUTES: '15' },
    });
  });
  after(() => stack.stop());

  async function openOrder() {
    const ctx = await userWithCard(stack, { cardBalanceFen: 0 });
    const created = await ctx.api.post('/api/v1/recharges', {
      bindingId: ctx.bindingId,
      amountFen: AMOUNT_FEN,
    });
    assert.equal(created.status, 201, created.text);
    return { ...ctx, order: created.body as { id: string; outTradeNo: string; tradeNo: string } };
  }

  async function sweepLooksAt(orderId: string) {
    const row = await findRecharge(stack.app.deps.db, orderId);
    await reconcileUnpaidRecharge(stack.app.deps, row!);
    return findRecharge(stack.app.deps.db, orderId);
  }

  async function alipayStatus(outTradeNo: string) {
    return (await stack.alipay.control.ledger({ outTradeNo })).trades[0]?.status;
  }

  it('leaves an unexpired WAIT_BUYER_PAY order open at both ends', async () => {
    const { order } = await openOrder();
    assert.equal((await sweepLooksAt(order.id))!.status, 'CREATED');
    assert.equal(await alipayStatus(order.outTradeNo), 'WAIT_BUYER_PAY');
  });

  it('closes an expired WAIT_BUYER_PAY order at Alipay first, then here', async () => {
    const { order } = await openOrder();
    clock.advance(16 * 60_000);
    const row = await sweepLooksAt(order.id);
    assert.deepEqual([row!.status, row!.lastError], ['CLOSED', 'EXPIRED']);
    assert.equal(await alipayStatus(order.outTradeNo), 'TRADE_CLOSED');
  });

  it('credits a TRADE_SUCCESS order whose notification was lost', async () => {
    const { user, api, card, order } = await openOrder();
    await stack.alipay.control.injectNotifyFault({
      notifyType: 'trade_status_sync',
      action: 'drop',
      times: 1,
    });
    await stack.alipay.control.payTrade({ tradeNO: order.tradeNo, userId: user.userId });
    assert.notEqual((await sweepLooksAt(order.id))!.status, 'CREATED');
    await waitForRecharge(api, order.id, 'CREDITED');
    assert.equal((await vendorCreditsFor(stack, card.cardNo, order.outTradeNo)).length, 1);
  });

  it('closes an order whose trade Alipay already closed, even before it expires', async () => {
    const { order } = await openOrder();
    await stack.app.deps.alipay!.closeTrade({
      outTradeNo: order.outTradeNo,
      appAuthToken: stack.app.deps.schools.appAuthToken(stack.school),
    });
    const row = await sweepLooksAt(order.id);
    assert.deepEqual([row!.status, row!.lastError], ['CLOSED', 'TRADE_CLOSED']);
  });

  it('keeps asking while the query fails, and decides nothing', async () => {
    const { order } = await openOrder();
    clock.advance(16 * 60_000);
    await stack.alipay.control.injectApiFault({
      method: 'alipay.trade.query',
      times: 1,
      error: { subCode: 'ACQ.SYSTEM_ERROR' },
    });
    await assert.rejects(() => sweepLooksAt(order.id));
    assert.equal((await findRecharge(stack.app.deps.db, order.id))!.status, 'CREATED');
    assert.equal(await alipayStatus(order.outTradeNo), 'WAIT_BUYER_PAY');
    await eventually(async () => (await sweepLooksAt(order.id))!.status === 'CLOSED');
  });
});
