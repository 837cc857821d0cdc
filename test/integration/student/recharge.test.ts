import assert from 'node:assert/strict';
import { startStack, type Stack } from '../../support/stack.js';
import { eventually } from '../../support/http.js';
import { userWithCard, vendorCreditsFor, waitForRecharge } from './helpers.js';

describe('recharging a campus card with Alipay', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({
      schoolSettings: { rechargeMinFen: 100, rechargeMaxFen: 50_000 },
      env: { RECHARGE_CREDIT_RETRY_MS: '100,100,100,100,100,100,100,100,100,100' },
    });
  });
  after(() => stack.stop());

  it('creates an Alipay trade for the payer, then credits the card once it is paid', async () => {
    const { user, api, card, bindingId } = await userWithCard(stack, { cardBalanceFen: 1_000 });
    const created = await api.post('/api/v1/recharges', { bindingId, amountFen: 5_000 });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.status, 'CREATED');
    assert.match(created.body.outTradeNo, /^R\d{30}$/);
    const [trade] = (await stack.alipay.control.ledger({ outTradeNo: created.body.outTradeNo })).trades;
    assert.equal(trade.totalFen, 5_000);
    assert.equal(trade.buyerUserId, user.userId);
    assert.equal(
      trade.sellerId,
      stack.school.alipaySellerId,
      'collected for the school, through its app_auth_token',
    );

    const paid = await stack.alipay.control.payTrade({ tradeNO: created.body.tradeNo, userId: user.userId });
    assert.equal(paid.resultCode, '9000');
    const credited = await waitForRecharge(api, created.body.id, 'CREDITED');
    assert.ok(credited.paidAt && credited.creditedAt);
    assert.equal((await api.get(`/api/v1/bindings/${bindingId}`)).body.balanceFen, 6_000);
    assert.equal((await vendorCreditsFor(stack, card.cardNo, created.body.outTradeNo)).length, 1);
    // No template is configured for the "credited" message: the sender would skip it, so none is queued.
    const { rows } = await stack.app.deps.pool.query('select 1 from user_messages where dedup_key = $1', [
      `recharge-credited:${created.body.id}`,
    ]);
    assert.equal(rows.length, 0);
  });

  it("refuses amounts outside the school's limits, naming the amount", async () => {
    const { api, bindingId } = await userWithCard(stack);
    for (const amountFen of [99, 50_001]) {
      const res = await api.post('/api/v1/recharges', { bindingId, amountFen });
      assert.equal(res.status, 422);
      assert.equal(res.body.error.code, 'AMOUNT_OUT_OF_RANGE');
      assert.equal(res.body.error.field, 'body.amountFen');
      assert.deepEqual(res.body.error.details, { minFen: 100, maxFen: 50_000 });
    }
  });

  it('refuses fractions of a fen, strings and negative amounts', async () => {
    const { api, bindingId } = await userWithCard(stack);
    const tradesBefore = (await stack.alipay.control.ledger({})).trades.length;
    for (const amountFen of [10.5, '5000', -100, 0]) {
      const res = await api.post('/api/v1/recharges', { bindingId, amountFen });
      assert.equal(res.status, 400, String(amountFen));
      assert.equal(res.body.error.field, 'body.amountFen');
    }
    assert.equal((await stack.alipay.control.ledger({})).trades.length, tradesBefore, 'no trade was created');
  });

  it('recharges only active cards', async () => {
    const { api, bindingId } = await userWithCard(stack);
    await api.post(`/api/v1/bindings/${bindingId}/loss`);
    const res = await api.post('/api/v1/recharges', { bindingId, amountFen: 1_000 });
    assert.equal(res.status, 409);
    assert.equal(res.body.error.code, 'BINDING_NOT_ACTIVE');
  });

  it("does not show another user's recharge", async () => {
    const { api, bindingId } = await userWithCard(stack);
    const created = await api.post('/api/v1/recharges', { bindingId, amountFen: 1_000 });
    const { api: stranger } = await userWithCard(stack);
    const res = await stranger.get(`/api/v1/recharges/${created.body.id}`);
    assert.equal(res.status, 404);
    assert.equal(res.body.error.code, 'RECHARGE_NOT_FOUND');
  });

  it('closes the order when Alipay refuses the trade, and says so', async () => {
    const { api, bindingId } = await userWithCard(stack);
    await stack.alipay.control.injectApiFault({
      method: 'alipay.trade.create',
      times: 1,
      error: { subCode: 'ACQ.BUYER_ENABLE_STATUS_FORBID' },
    });
    const res = await api.post('/api/v1/recharges', { bindingId, amountFen: 1_000 });
    assert.equal(res.status, 502);
    assert.equal(res.body.error.code, 'ALIPAY_REJECTED');
    const { rows } = await stack.app.deps.pool.query(
      'select status, last_error from recharge_orders where binding_id = $1',
      [bindingId],
    );
    assert.deepEqual(rows, [{ status: 'CLOSED', last_error: 'ACQ.BUYER_ENABLE_STATUS_FORBID' }]);
  });

  it('retries crediting while the card system is down and credits exactly once when it is back', async () => {
    const { user, api, card, bindingId } = await userWithCard(stack, { cardBalanceFen: 0 });
    const created = await api.post('/api/v1/recharges', { bindingId, amountFen: 2_000 });
    await stack.cardsys.control.setDowntime(true);
    try {
      await stack.alipay.control.payTrade({ tradeNO: created.body.tradeNo, userId: user.userId });
      await waitForRecharge(api, created.body.id, 'PAID');
      await eventually(async () => {
        const row = await stack.app.deps.pool.query(
          'select credit_attempts from recharge_orders where id = $1',
          [created.body.id],
        );
        return row.rows[0].credit_attempts >= 2;
      });
    } finally {
      await stack.cardsys.control.setDowntime(false);
    }
    await waitForRecharge(api, created.body.id, 'CREDITED');
    assert.equal((await vendorCreditsFor(stack, card.cardNo, created.body.outTradeNo)).length, 1);
    assert.equal((await stack.cardsys.control.getCard(stack.school.code, card.cardNo)).balanceFen, 2_000);
  });
});

describe('recharge crediting that never succeeds', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ env: { RECHARGE_CREDIT_RETRY_MS: '50,50' } });
  });
  after(() => stack.stop());

  it('gives up after the retry schedule and leaves the order CREDIT_FAILED for the admins', async () => {
    const { user, api, bindingId } = await userWithCard(stack);
    const created = await api.post('/api/v1/recharges', { bindingId, amountFen: 1_000 });
    await stack.cardsys.control.setDowntime(true);
    try {
      await stack.alipay.control.payTrade({ tradeNO: created.body.tradeNo, userId: user.userId });
      await waitForRecharge(api, created.body.id, 'CREDIT_FAILED');
    } finally {
      await stack.cardsys.control.setDowntime(false);
    }
    const { rows } = await stack.app.deps.pool.query(
      'select credit_attempts, last_error from recharge_orders where id = $1',
      [created.body.id],
    );
    assert.equal(rows[0].credit_attempts, 3);
    assert.match(rows[0].last_error, /UNREACHABLE/);
  });
});

describe('crediting on the payment commit', () => {
  let stack: Stack;
  before(async () => {
    // The drainer's periodic run is an hour away: only the payment's own wake-up can start the credit.
    stack = await startStack({ env: { RECHARGE_CREDIT_EVERY_MS: '3600000' } });
  });
  after(() => stack.stop());

  it('credits a paid recharge as soon as its payment commits, without waiting for a scheduled run', async () => {
    const { user, api, card, bindingId } = await userWithCard(stack, { cardBalanceFen: 0 });
    // Let the worker's start-up drain finish, so that nothing but the payment can start the next one.
    await eventually(async () => {
      const { rows } = await stack.app.deps.pool.query(
        "select count(*)::int as n from pg_stat_activity where datname = current_database() and query ilike 'listen recharge_paid%'",
      );
      return rows[0].n > 0;
    });
    const created = await api.post('/api/v1/recharges', { bindingId, amountFen: 1_500 });

    await stack.alipay.control.payTrade({ tradeNO: created.body.tradeNo, userId: user.userId });

    await waitForRecharge(api, created.body.id, 'CREDITED');
    assert.equal((await vendorCreditsFor(stack, card.cardNo, created.body.outTradeNo)).length, 1);
    assert.equal((await stack.cardsys.control.getCard(stack.school.code, card.cardNo)).balanceFen, 1_500);
  });
});
