import assert from 'node:assert/strict';
import { startStack, type Stack } from '../../support/stack.js';
import { userWithCard } from '../student/helpers.js';
import { chargesOf, gatewayFor, sale, signedPayer, waitForDeduction, type Gateway } from './helpers.js';

/** The card-system sandbox plays the POS gateway and calls our real deduct route (seed 000 §2.7). */
describe('card-system swipes through the real deduct route', () => {
  let stack: Stack;
  let gateway: Gateway;
  before(async () => {
    stack = await startStack();
    gateway = await gatewayFor(stack);
    await stack.cardsys.control.configurePlatform(stack.school.code, {
      baseUrl: stack.app.url,
      clientId: gateway.clientId,
      secret: gateway.secret,
      readTimeoutMs: 5_000,
      reversalRetryMs: 50,
      reversalRetryMaxMs: 200,
    });
  });
  after(() => stack.stop());

  it('approves a swipe at once and collects it from Alipay afterwards: one trade, card balance untouched', async () => {
    const payer = await signedPayer(stack, { balanceFen: 10_000, cardBalanceFen: 3_000 });
    const swipe = await stack.cardsys.control.swipe({
      schoolCode: stack.school.code,
      cardNo: payer.card.cardNo,
      amountFen: 1_250,
      terminalId: 'T09',
    });
    assert.equal(swipe.path, 'ALIPAY');
    assert.equal(swipe.platform.decision, 'APPROVED');
    assert.match(swipe.platform.deductionId ?? '', /^D\d{30}$/);
    const collected = await waitForDeduction(gateway, swipe.txnNo, 'COLLECTED');
    assert.equal(collected.amountFen, 1_250);
    const { trades, paid } = await chargesOf(stack, collected.deductionId);
    assert.equal(trades.length, 1);
    assert.equal(paid[0].totalFen, 1_250);
    assert.equal(paid[0].buyerUserId, payer.user.userId);
    assert.equal(paid[0].productCode, 'GENERAL_WITHHOLDING');
    assert.equal(paid[0].sellerId, stack.school.alipaySellerId);
    assert.equal((await stack.alipay.control.getUser(payer.user.userId)).balanceFen, 10_000 - 1_250);
    assert.equal(
      (await stack.cardsys.control.getCard(stack.school.code, payer.card.cardNo)).balanceFen,
      3_000,
    );
  });

  it('leaves a card that is not signed to the card balance (the old logic)', async () => {
    const { card } = await userWithCard(stack, { cardBalanceFen: 1_000 });
    const swipe = await stack.cardsys.control.swipe({
      schoolCode: stack.school.code,
      cardNo: card.cardNo,
      amountFen: 300,
      terminalId: 'T01',
    });
    assert.deepEqual(
      [swipe.path, swipe.platform.outcome, swipe.balanceAfterFen],
      ['CARD_BALANCE', 'NOT_CALLED', 700],
    );
  });

  it('declines an over-limit swipe, and the card system pays it from the card balance', async () => {
    const payer = await signedPayer(stack, { cardBalanceFen: 9_000 });
    const swipe = await stack.cardsys.control.swipe({
      schoolCode: stack.school.code,
      cardNo: payer.card.cardNo,
      amountFen: stack.school.txnLimitFen + 1,
      terminalId: 'T01',
    });
    assert.deepEqual(
      [swipe.path, swipe.platform.decision, swipe.platform.reason, swipe.balanceAfterFen],
      ['CARD_BALANCE', 'DECLINED', 'OVER_TXN_LIMIT', 9_000 - stack.school.txnLimitFen - 1],
    );
    assert.equal((await chargesOf(stack, swipe.platform.deductionId!)).trades.length, 0);
  });

  it('on a connect failure pays from the card balance, and the reversal sent once the platform is back voids the txnNo', async () => {
    const payer = await signedPayer(stack, { cardBalanceFen: 2_000 });
    await stack.cardsys.control.configurePlatform(stack.school.code, {
      baseUrl: 'http://127.0.0.1:9',
      clientId: gateway.clientId,
      secret: gateway.secret,
      reversalRetryMs: 50,
      reversalRetryMaxMs: 200,
    });
    const swipe = await stack.cardsys.control.swipe({
      schoolCode: stack.school.code,
      cardNo: payer.card.cardNo,
      amountFen: 400,
      terminalId: 'T02',
    });
    assert.deepEqual(
      [swipe.path, swipe.platform.outcome, swipe.balanceAfterFen, swipe.reversal.state],
      ['CARD_BALANCE', 'CONNECT_FAILED', 1_600, 'PENDING'],
    );
    // The platform comes back: reconfiguring sends the pending reversal at once.
    await stack.cardsys.control.configurePlatform(stack.school.code, {
      baseUrl: stack.app.url,
      clientId: gateway.clientId,
      secret: gateway.secret,
      readTimeoutMs: 5_000,
      reversalRetryMs: 50,
      reversalRetryMaxMs: 200,
    });
    await stack.cardsys.control.waitForSwipe(swipe.txnNo, (s) => s.reversal.state === 'ACKNOWLEDGED');
    const late = await gateway.deduct(sale(payer.card.cardNo, 400, { txnNo: swipe.txnNo }));
    assert.equal(late.status, 200);
    assert.deepEqual([late.body.decision, late.body.reason], ['DECLINED', 'REVERSED']);
    assert.equal((await chargesOf(stack, late.body.deductionId)).trades.length, 0);
  });
});
