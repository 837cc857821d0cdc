import assert from 'node:assert/strict';
import { findRecharge } from '../../../server/src/db/repos/recharge/recharges.js';
import { reconcileUnpaidRecharge } from '../../../server/src/domain/recharge/recharge.js';
import { ManualClock } from '../../../server/src/lib/clock.js';
import { startStack, type Stack } from '../../support/stack.js';
import { userWithCard, vendorCreditsFor, waitForRecharge } from './helpers.js';

/**
 * Recharges at the edges of their rules, on a frozen injected clock: opening an order (the open-orders cap
 * and its retry time, refusals that name their field), and the sweep's look at an unpaid order (trade.query):
 * expiry to the millisecond, a trade.create whose answer was lost (no trade at Alipay), a paid trade whose
 * total is not the order's. The sweep job itself stays out of the way: each test asks directly.
 */
describe('recharges at the edges of their rules', () => {
  let stack: Stack;
  const clock = new ManualClock();
  before(async () => {
    stack = await startStack({
      clock,
      schoolSettings: { rechargeMinFen: 100, rechargeMaxFen: 50_000 },
      env: { RECHARGE_SWEEP_EVERY_MS: '3600000', RECHARGE_TIMEOUT_MINUTES: '15' },
      // A paid trade finishes (TRADE_FINISHED) two days after payment here, not a year.
      alipaySettings: { refundWindowMs: 2 * 86_400_000 },
    });
  });
  afterEach(() => stack.alipay.control.clearFaults());
  after(() => stack.stop());

  it("refuses a sixth unpaid order with 429 until the first one's expiry, to the second", async () => {
    const { api, bindingId } = await userWithCard(stack);
    for (let i = 0; i < 5; i += 1) {
      const res = await api.post('/api/v1/recharges', { bindingId, amountFen: 1_000 + i });
      assert.equal(res.status, 201, res.text);
      if (i === 0) clock.advance(100_500);
    }
    const sixth = await api.post('/api/v1/recharges', { bindingId, amountFen: 1_000 });
    assert.equal(sixth.status, 429, sixth.text);
    // The first order expires 15 min after it was made; 100.5 s have gone by: 799.5 s, rounded up.
    assert.deepEqual(
      [sixth.body.error.code, sixth.body.error.message, sixth.body.error.details],
      [
        'RATE_LIMITED',
        'Too many unfinished payments; finish one or try again in 800 s',
        { limit: 'open-recharges', retryAfterSeconds: 800 },
      ],
    );
  });

  it('refuses a card that is not active and an amount outside the limits, naming the field and the limits', async () => {
    const { api, bindingId } = await userWithCard(stack);
    const over = await api.post('/api/v1/recharges', { bindingId, amountFen: 50_001 });
    assert.deepEqual(
      [over.status, over.body.error.code, over.body.error.message, over.body.error.field],
      [422, 'AMOUNT_OUT_OF_RANGE', 'amountFen must be between 100 and 50000', 'body.amountFen'],
    );
    await api.post(`/api/v1/bindings/${bindingId}/loss`);
    const lost = await api.post('/api/v1/recharges', { bindingId, amountFen: 1_000 });
    assert.deepEqual(
      [lost.status, lost.body.error.code, lost.body.error.message, lost.body.error.field],
      [409, 'BINDING_NOT_ACTIVE', 'Only an active card can be recharged', 'body.bindingId'],
    );
  });

  async function sweepLooksAt(orderId: string) {
    await reconcileUnpaidRecharge(stack.app.deps, (await findRecharge(stack.app.deps.db, orderId))!);
    return (await findRecharge(stack.app.deps.db, orderId))!;
  }

  async function alipayTrades(outTradeNo: string) {
    return (await stack.alipay.control.ledger({ outTradeNo })).trades;
  }

  /** A recharge its payer paid at Alipay whose notification never came: still CREATED here. */
  async function paidUnheard(payer: Awaited<ReturnType<typeof userWithCard>>, amountFen: number) {
    const created = await payer.api.post('/api/v1/recharges', { bindingId: payer.bindingId, amountFen });
    assert.equal(created.status, 201, created.text);
    await stack.alipay.control.injectNotifyFault({
      notifyType: 'trade_status_sync',
      action: 'drop',
      times: 1,
    });
    await stack.alipay.control.payTrade({ tradeNO: created.body.tradeNo, userId: payer.user.userId });
    return created.body as { id: string; outTradeNo: string };
  }

  it('expires an order exactly at its timeout: open one millisecond before, closed at Alipay and here at it', async () => {
    const { api, bindingId } = await userWithCard(stack);
    const created = await api.post('/api/v1/recharges', { bindingId, amountFen: 2_100 });
    assert.equal(created.status, 201, created.text);
    const order = (await findRecharge(stack.app.deps.db, created.body.id))!;
    assert.equal(order.expiresAt.getTime() - order.createdAt.getTime(), 15 * 60_000);

    clock.set(new Date(order.expiresAt.getTime() - 1));
    assert.equal((await sweepLooksAt(order.id)).status, 'CREATED');
    assert.equal((await alipayTrades(order.outTradeNo))[0].status, 'WAIT_BUYER_PAY');

    clock.set(order.expiresAt);
    const closed = await sweepLooksAt(order.id);
    assert.deepEqual([closed.status, closed.lastError], ['CLOSED', 'EXPIRED']);
    assert.equal((await alipayTrades(order.outTradeNo))[0].status, 'TRADE_CLOSED');
  });

  it('keeps an order whose trade.create got no answer open, and closes it as never paid once it has expired', async () => {
    const { api, bindingId } = await userWithCard(stack);
    await stack.alipay.control.injectApiFault({
      method: 'alipay.trade.create',
      times: 1,
      error: { subCode: 'ACQ.SYSTEM_ERROR' },
    });
    const res = await api.post('/api/v1/recharges', { bindingId, amountFen: 2_200 });
    assert.equal(res.status, 503, res.text);
    assert.equal(res.body.error.code, 'ALIPAY_UNAVAILABLE');
    const { rows } = await stack.app.deps.pool.query(
      'select id, status, last_error from recharge_orders where binding_id = $1',
      [bindingId],
    );
    assert.deepEqual(
      rows.map((r) => [r.status, r.last_error]),
      [['CREATED', null]],
      'the outcome is unknown: the order stays for the sweep to ask about',
    );
    const orderId = String(rows[0].id);
    const order = (await findRecharge(stack.app.deps.db, orderId))!;
    assert.deepEqual(await alipayTrades(order.outTradeNo), []);

    assert.equal((await sweepLooksAt(orderId)).status, 'CREATED', 'not expired yet: nothing is decided');
    clock.set(order.expiresAt);
    const closed = await sweepLooksAt(orderId);
    assert.deepEqual([closed.status, closed.lastError], ['CLOSED', 'NEVER_PAID']);
  });

  it("credits what the query finds paid only when Alipay's total is the order's amount, and records the buyer", async () => {
    const differs = await userWithCard(stack, { cardBalanceFen: 0 });
    const same = await userWithCard(stack, { cardBalanceFen: 0 });
    const orders = [await paidUnheard(differs, 2_300), await paidUnheard(same, 2_300)];
    // Our record says one fen more than the buyer paid for the first order.
    await stack.app.deps.pool.query('update recharge_orders set amount_fen = 2301 where id = $1', [
      orders[0].id,
    ]);

    const mismatched = await sweepLooksAt(orders[0].id);
    assert.deepEqual([mismatched.status, mismatched.paidAt, mismatched.buyerId], ['CREATED', null, null]);
    assert.equal((await vendorCreditsFor(stack, differs.card.cardNo, orders[0].outTradeNo)).length, 0);

    const paid = await sweepLooksAt(orders[1].id);
    assert.notEqual(paid.status, 'CREATED');
    assert.ok(
      paid.buyerId !== null && [same.user.openId, same.user.userId].includes(paid.buyerId),
      `buyer ${paid.buyerId}`,
    );
    await waitForRecharge(same.api, orders[1].id, 'CREDITED');
    assert.equal((await vendorCreditsFor(stack, same.card.cardNo, orders[1].outTradeNo)).length, 1);
  });
  // Last in the file: it moves the Alipay sandbox's clock three days on (trades made after it are unaffected).
  it('credits what the query finds TRADE_FINISHED: paid, its refund window over, the notification lost', async () => {
    const payer = await userWithCard(stack, { cardBalanceFen: 0 });
    const order = await paidUnheard(payer, 1_900);
    await stack.alipay.control.advanceClock({ days: 3 });
    assert.equal((await alipayTrades(order.outTradeNo))[0].status, 'TRADE_FINISHED');

    assert.notEqual((await sweepLooksAt(order.id)).status, 'CREATED');
    await waitForRecharge(payer.api, order.id, 'CREDITED');
    assert.equal((await vendorCreditsFor(stack, payer.card.cardNo, order.outTradeNo)).length, 1);
  });
});
