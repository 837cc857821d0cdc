import assert from 'node:assert/strict';
import { ManualClock } from '../../../server/src/lib/clock.js';
import { eventually } from '../../support/http.js';
import { startStack, type Stack } from '../../support/stack.js';
import { userWithCard, vendorCreditsFor, waitForRecharge } from './helpers.js';

describe('recharge sweep: orders Alipay never told us about', () => {
  let stack: Stack;
  const clock = new ManualClock();
  before(async () => {
    // Ten minutes behind the real time on purpose: every time the sweep compares must come from this clock
    // (createRecharge stamps created_at with it), none from the database's now().
    clock.set(new Date(Date.now() - 10 * 60_000));
    stack = await startStack({
      clock,
      env: {
        RECHARGE_SWEEP_EVERY_MS: '300',
        RECHARGE_SWEEP_AFTER_MS: '60000',
        RECHARGE_TIMEOUT_MINUTES: '15',
        RECHARGE_CREDIT_EVERY_MS: '500',
      },
    });
  });
  after(() => stack.stop());

  it('finds a payment whose notification never came and credits the card', async () => {
    const { user, api, card, bindingId } = await userWithCard(stack);
    const created = await api.post('/api/v1/recharges', { bindingId, amountFen: 1_500 });
    await stack.alipay.control.injectNotifyFault({
      notifyType: 'trade_status_sync',
      action: 'drop',
      times: 1,
    });
    await stack.alipay.control.payTrade({ tradeNO: created.body.tradeNo, userId: user.userId });
    clock.advance(2 * 60_000);
    await waitForRecharge(api, created.body.id, 'CREDITED');
    assert.equal((await vendorCreditsFor(stack, card.cardNo, created.body.outTradeNo)).length, 1);
    const [record] = await stack.alipay.control.notifications({ outTradeNo: created.body.outTradeNo });
    assert.equal(record.status, 'dropped');
  });

  it('leaves a young unpaid order alone and closes it at Alipay once it has expired', async () => {
    const { api, bindingId } = await userWithCard(stack);
    const created = await api.post('/api/v1/recharges', { bindingId, amountFen: 1_500 });
    clock.advance(5 * 60_000);
    // Wait for a whole sweep run that started after the clock moved, then look.
    const advancedAt = new Date();
    await eventually(async () => {
      const { rows } = await stack.app.deps.pool.query(
        `select last_run_at, last_finished_at from agenda_jobs where name = 'recharge.sweep' and type = 'single'`,
      );
      return rows[0]?.last_run_at > advancedAt && rows[0].last_finished_at >= rows[0].last_run_at;
    });
    assert.equal(
      (await api.get(`/api/v1/recharges/${created.body.id}`)).body.status,
      'CREATED',
      'still payable',
    );
    clock.advance(11 * 60_000);
    await waitForRecharge(api, created.body.id, 'CLOSED');
    const [trade] = (await stack.alipay.control.ledger({ outTradeNo: created.body.outTradeNo })).trades;
    assert.equal(trade.status, 'TRADE_CLOSED');
  });

  it("credits a paid order whose wake-up was lost in a crash, on the crediting job's own schedule", async () => {
    const { user, api, card, bindingId } = await userWithCard(stack);
    const created = await api.post('/api/v1/recharges', { bindingId, amountFen: 1_500 });
    await stack.alipay.control.injectNotifyFault({
      notifyType: 'trade_status_sync',
      action: 'drop',
      times: 1,
    });
    await stack.alipay.control.payTrade({ tradeNO: created.body.tradeNo, userId: user.userId });
    // As if the payment committed and the worker died before acting on its wake-up: no NOTIFY arrives.
    await stack.app.deps.pool.query(
      `update recharge_orders set status = 'PAID', paid_at = $2, next_credit_at = $2 where id = $1`,
      [created.body.id, clock.now()],
    );
    await waitForRecharge(api, created.body.id, 'CREDITED');
    assert.equal((await vendorCreditsFor(stack, card.cardNo, created.body.outTradeNo)).length, 1);
  });
});
