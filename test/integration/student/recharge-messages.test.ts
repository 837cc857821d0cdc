import assert from 'node:assert/strict';
import { eventually } from '../../support/http.js';
import { startStack, type Stack } from '../../support/stack.js';
import { userWithCard, vendorCreditsFor, waitForRecharge } from './helpers.js';

/**
 * The payer's "recharge credited" message (issue 12's messages; issue 20, mutation testing of `recharge`):
 * queued with the credit, naming the card by its holder, however the credit was found — the card system's
 * answer, or, after an answer that was lost, the vendor's records — and sent at once: the credit wakes the
 * sender, whose own round comes only every hour here. Without a template for the message none is queued.
 */
const TEMPLATE = 'TPL_RECHARGE_M';

describe('the payer told of a credited recharge', function () {
  this.timeout(120_000);
  let stack: Stack;

  before(async function () {
    this.timeout(180_000);
    stack = await startStack({
      env: {
        ALIPAY_MESSAGE_TEMPLATES: JSON.stringify({ RECHARGE_CREDITED: TEMPLATE }),
        MESSAGE_SEND_EVERY_MS: '3600000',
        CARDSYS_TIMEOUT_MS: '500',
        RECHARGE_CREDIT_RETRY_MS: '50,50',
      },
    });
    await stack.alipay.control.registerMessageTemplate({ templateId: TEMPLATE, keywords: 3 });
  });
  afterEach(() => stack.cardsys.control.clearFaults());
  after(() => stack?.stop());

  /** A payer who allowed the message once, and a paid recharge of `amountFen`. */
  async function paidRecharge(amountFen: number, faults: () => Promise<unknown> = async () => undefined) {
    const payer = await userWithCard(stack, { cardBalanceFen: 0 });
    await stack.alipay.control.subscribeMessages({ userId: payer.user.userId, templateIds: [TEMPLATE] });
    const subscribed = await payer.api.post('/api/v1/message-subscriptions', { accepted: [TEMPLATE] });
    assert.equal(subscribed.status, 200, subscribed.text);
    const created = await payer.api.post('/api/v1/recharges', { bindingId: payer.bindingId, amountFen });
    assert.equal(created.status, 201, created.text);
    await faults();
    await stack.alipay.control.payTrade({ tradeNO: created.body.tradeNo, userId: payer.user.userId });
    return { ...payer, order: created.body as { id: string; outTradeNo: string } };
  }

  /** The message Alipay delivered to the payer, well before the sender's own hourly round. */
  async function deliveredTo(userId: string) {
    const [message] = await eventually(
      async () => {
        const messages = (await stack.alipay.control.messages(userId)).filter(
          (m) => m.templateId === TEMPLATE,
        );
        return messages.length > 0 ? messages : undefined;
      },
      { timeoutMs: 15_000, message: 'the credited message was sent at once' },
    );
    return message;
  }

  it('tells the payer at once, naming the card by its holder, when the card system credits it', async () => {
    const payer = await paidRecharge(3_100);
    await waitForRecharge(payer.api, payer.order.id, 'CREDITED');
    const message = await deliveredTo(payer.user.userId);
    assert.deepEqual(
      [message.data.keyword1, message.data.keyword2],
      ['¥31.00', `${payer.card.holderName}（尾号${payer.card.cardNo.slice(-4)}）`],
    );
  });

  it('tells the payer the same when the credit is found in the vendor records after a lost answer', async () => {
    const payer = await paidRecharge(1_700, () =>
      // The first Recharge is carried out but answered after our timeout.
      stack.cardsys.control.injectFault({
        schoolCode: stack.school.code,
        operation: 'Recharge',
        kind: 'LATENCY',
        latencyMs: 1_500,
        times: 1,
      }),
    );
    await waitForRecharge(payer.api, payer.order.id, 'CREDITED', 20_000);
    const { rows } = await stack.app.deps.pool.query(
      'select credit_attempts, credit_unknown_since from recharge_orders where id = $1',
      [payer.order.id],
    );
    assert.ok(rows[0].credit_unknown_since, 'the first answer was lost');
    assert.equal((await vendorCreditsFor(stack, payer.card.cardNo, payer.order.outTradeNo)).length, 1);
    const message = await deliveredTo(payer.user.userId);
    assert.deepEqual(
      [message.data.keyword1, message.data.keyword2],
      ['¥17.00', `${payer.card.holderName}（尾号${payer.card.cardNo.slice(-4)}）`],
    );
  });
});
