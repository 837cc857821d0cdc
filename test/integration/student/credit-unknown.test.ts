import assert from 'node:assert/strict';
import { eventually } from '../../support/http.js';
import { startStack, type Stack } from '../../support/stack.js';
import { rechargeStatus, userWithCard, vendorCreditsFor, waitForRecharge } from './helpers.js';

/**
 * The card system credited the card but its answer came after our timeout: the outcome is unknown. It is
 * resolved like an unknown charge at Alipay: ask the vendor's records (GetPersonDetails, our order number
 * is the record's RefNo) before anything else, and never call the order CREDIT_FAILED without having
 * asked. Time is shrunk: SOAP calls give up after 500 ms, credits are retried after 50 ms twice.
 */
describe('a recharge credit whose answer was lost', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ env: { CARDSYS_TIMEOUT_MS: '500', RECHARGE_CREDIT_RETRY_MS: '50,50' } });
  });
  afterEach(() => stack.cardsys.control.clearFaults());
  after(() => stack.stop());

  async function paidRecharge(amountFen: number) {
    const payer = await userWithCard(stack, { cardBalanceFen: 0 });
    const created = await payer.api.post('/api/v1/recharges', { bindingId: payer.bindingId, amountFen });
    assert.equal(created.status, 201, created.text);
    return { ...payer, order: created.body as { id: string; tradeNo: string; outTradeNo: string } };
  }

  it('finds the credit in the vendor records when the retries meet the vendor refusing, and says CREDITED', async () => {
    const { user, api, card, order } = await paidRecharge(1_800);
    const school = stack.school.code;
    // The first Recharge is carried out but answered too late; every later one meets a dead vendor.
    await stack.cardsys.control.injectFault({
      schoolCode: school,
      operation: 'Recharge',
      kind: 'LATENCY',
      latencyMs: 1_500,
      times: 1,
    });
    await stack.cardsys.control.injectFault({ schoolCode: school, operation: 'Recharge', kind: 'HTTP_503' });
    await stack.alipay.control.payTrade({ tradeNO: order.tradeNo, userId: user.userId });
    await waitForRecharge(api, order.id, 'CREDITED', 15_000);
    assert.equal((await vendorCreditsFor(stack, card.cardNo, order.outTradeNo)).length, 1);
    assert.equal((await stack.cardsys.control.getCard(school, card.cardNo)).balanceFen, 1_800);
  });

  it('keeps asking while the vendor cannot be asked at all, and credits once when it answers again', async () => {
    const { user, api, card, order } = await paidRecharge(900);
    const school = stack.school.code;
    await stack.cardsys.control.injectFault({
      schoolCode: school,
      operation: 'Recharge',
      kind: 'LATENCY',
      latencyMs: 1_500,
      times: 1,
    });
    await stack.cardsys.control.injectFault({ schoolCode: school, kind: 'HTTP_503' });
    await stack.alipay.control.payTrade({ tradeNO: order.tradeNo, userId: user.userId });
    // Well past the two retries of the schedule: still PAID (being credited), never CREDIT_FAILED.
    await eventually(
      async () => {
        const { rows } = await stack.app.deps.pool.query(
          'select credit_attempts from recharge_orders where id = $1',
          [order.id],
        );
        return rows[0].credit_attempts >= 4;
      },
      { timeoutMs: 15_000, message: 'crediting kept trying' },
    );
    assert.equal(await rechargeStatus(api, order.id), 'PAID');
    await stack.cardsys.control.clearFaults();
    await waitForRecharge(api, order.id, 'CREDITED', 15_000);
    assert.equal((await vendorCreditsFor(stack, card.cardNo, order.outTradeNo)).length, 1);
  });
});
