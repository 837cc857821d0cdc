import assert from 'node:assert/strict';
import { createGatewayClient } from '../../../server/src/domain/schools/gateway-clients.js';
import { eventually } from '../../support/http.js';
import { startStack, type Stack } from '../../support/stack.js';
import { gatewayFor, signedPayer, waitForDeduction } from '../withholding/helpers.js';
import { waitForRecharge } from './helpers.js';

/**
 * The statement merges the card system's records with every kind of ours, one row per money movement, each
 * opening a receipt; any window the card system allows.
 */
describe('statement: every record kind, receipts and date ranges', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({
      schoolSettings: { retryScheduleSeconds: [1] },
      env: { DEDUCTION_RETRY_SCALE: '0.01' },
    });
    const pos = await createGatewayClient(stack.app.deps, {
      schoolId: stack.school.id,
      name: '第二食堂网关',
    });
    await stack.cardsys.control.configurePlatform(stack.school.code, { baseUrl: stack.app.url, ...pos });
  });
  after(() => stack.stop());

  async function swipe(cardNo: string, amountFen: number) {
    return stack.cardsys.control.swipe({
      schoolCode: stack.school.code,
      cardNo,
      amountFen,
      terminalId: 'POS-07',
      place: '第二食堂',
    });
  }

  it('shows swipes with their collection state, a repayment, a refund, a recharge and card-balance spending, each with a receipt', async () => {
    const payer = await signedPayer(stack, { cardBalanceFen: 10_000 });
    const { api, bindingId, card, user } = payer;
    const gateway = await gatewayFor(stack);

    const collected = await swipe(card.cardNo, 1_200);
    assert.equal(collected.platform.decision, 'APPROVED');
    await waitForDeduction(gateway, collected.txnNo, 'COLLECTED');

    await stack.alipay.control.setBalance(user.userId, 0);
    const owed = await swipe(card.cardNo, 700);
    await waitForDeduction(gateway, owed.txnNo, 'ARREARS');
    await stack.alipay.control.setBalance(user.userId, 100_000);
    const repay = await api.post('/api/v1/debts/repay', {});
    assert.equal(repay.status, 201, repay.text);
    await stack.alipay.control.payTrade({ tradeNO: repay.body.tradeNo, userId: user.userId });
    await waitForDeduction(gateway, owed.txnNo, 'SETTLED');

    const reversed = await swipe(card.cardNo, 500);
    await waitForDeduction(gateway, reversed.txnNo, 'COLLECTED');
    assert.equal((await gateway.reverse(reversed.txnNo)).status, 200);
    await waitForDeduction(gateway, reversed.txnNo, 'REVERSED');

    const fromCard = await swipe(card.cardNo, 6_000); // over the school's per-swipe limit: the card pays
    assert.equal(fromCard.path, 'CARD_BALANCE');

    const recharge = await api.post('/api/v1/recharges', { bindingId, amountFen: 3_000 });
    await stack.alipay.control.payTrade({ tradeNO: recharge.body.tradeNo, userId: user.userId });
    await waitForRecharge(api, recharge.body.id, 'CREDITED');

    const statement = await eventually(async () => {
      const res = await api.get(`/api/v1/bindings/${bindingId}/statement`);
      return res.body.entries.some((e: any) => e.kind === 'REFUND' && e.status === 'SUCCEEDED')
        ? res
        : undefined;
    });
    const rows = statement.body.entries.map((e: any) => [e.kind, e.amountFen, e.status]);
    // The card system records whole seconds, so rows of one second may come in either order.
    const byText = (a: unknown[], b: unknown[]) => JSON.stringify(a).localeCompare(JSON.stringify(b));
    assert.deepEqual(
      [...rows].sort(byText),
      [
        ['RECHARGE', 3_000, 'CREDITED'],
        ['CONSUMPTION', -6_000, null],
        ['REFUND', 500, 'SUCCEEDED'],
        ['WITHHOLDING', -500, 'REVERSED'],
        ['REPAYMENT', 700, 'PAID'],
        ['WITHHOLDING', -700, 'SETTLED'],
        ['WITHHOLDING', -1_200, 'COLLECTED'],
      ].sort(byText),
    );
    const times = statement.body.entries.map((e: any) => e.occurredAt);
    assert.deepEqual([...times].sort().reverse(), times, 'newest first');
    const byKind = (kind: string, amountFen: number) =>
      statement.body.entries.find((e: any) => e.kind === kind && e.amountFen === amountFen);
    const swipeRow = byKind('WITHHOLDING', -1_200);
    assert.equal(swipeRow.place, '第二食堂', "the card system's place name, not a terminal id");
    assert.equal(
      byKind('RECHARGE', 3_000).balanceAfterFen,
      10_000 - 6_000 + 3_000,
      'merged with the card system',
    );

    const receipt = async (entry: { id: string }) =>
      (await api.get(`/api/v1/bindings/${bindingId}/statement/${encodeURIComponent(entry.id)}`)).body;
    const swipeReceipt = await receipt(swipeRow);
    assert.equal(swipeReceipt.reference, collected.txnNo);
    assert.match(swipeReceipt.orderNo, /^D/);
    assert.match(swipeReceipt.alipayTradeNo, /^\d{28}$/);
    assert.equal(swipeReceipt.holderName, card.holderName);
    assert.deepEqual(
      swipeReceipt.timeline.map((s: any) => s.event),
      ['APPROVED', 'ATTEMPT', 'COLLECTED'],
    );
    const owedReceipt = await receipt(byKind('WITHHOLDING', -700));
    assert.deepEqual(
      owedReceipt.timeline.map((s: any) => [s.event, s.detail]),
      [
        ['APPROVED', null],
        ['ATTEMPT', 'ACQ.BUYER_BALANCE_NOT_ENOUGH'],
        ['ATTEMPT', 'ACQ.BUYER_BALANCE_NOT_ENOUGH'],
        ['ARREARS', 'ACQ.BUYER_BALANCE_NOT_ENOUGH'],
        ['SETTLED', null],
      ],
    );
    const repaymentReceipt = await receipt(byKind('REPAYMENT', 700));
    assert.match(repaymentReceipt.orderNo, /^P/);
    assert.equal(repaymentReceipt.alipayTradeNo, repay.body.tradeNo);
    assert.deepEqual(
      repaymentReceipt.timeline.map((s: any) => s.event),
      ['CREATED', 'PAID'],
    );
    const refundReceipt = await receipt(byKind('REFUND', 500));
    assert.deepEqual(
      refundReceipt.timeline.map((s: any) => s.event),
      ['REFUND_REQUESTED', 'REFUNDED'],
    );
    const rechargeReceipt = await receipt(byKind('RECHARGE', 3_000));
    assert.equal(rechargeReceipt.orderNo, recharge.body.outTradeNo);
    assert.equal(rechargeReceipt.alipayTradeNo, recharge.body.tradeNo);
    assert.deepEqual(
      rechargeReceipt.timeline.map((s: any) => s.event),
      ['CREATED', 'PAID', 'CREDITED'],
    );
    const vendorReceipt = await receipt(byKind('CONSUMPTION', -6_000));
    assert.equal(vendorReceipt.reference, fromCard.txnNo);
    assert.equal(vendorReceipt.vendorSerial, fromCard.recordSerial);
    assert.equal(vendorReceipt.place, '第二食堂');
  });

  it('lists only what lies in the chosen window', async () => {
    const payer = await signedPayer(stack);
    const first = await swipe(payer.card.cardNo, 300);
    const gateway = await gatewayFor(stack);
    await waitForDeduction(gateway, first.txnNo, 'COLLECTED');
    const between = new Date();
    await new Promise((resolve) => setTimeout(resolve, 1_100)); // the card system records whole seconds
    const second = await swipe(payer.card.cardNo, 400);
    await waitForDeduction(gateway, second.txnNo, 'COLLECTED');
    const window = (from: Date, to: Date) =>
      payer.api.get(
        `/api/v1/bindings/${payer.bindingId}/statement?from=${from.toISOString()}&to=${to.toISOString()}`,
      );
    const early = await window(new Date(between.getTime() - 3_600_000), between);
    assert.deepEqual(
      early.body.entries.map((e: any) => e.amountFen),
      [-300],
    );
    const late = await window(new Date(between.getTime() + 1_000), new Date(Date.now() + 60_000));
    assert.deepEqual(
      late.body.entries.map((e: any) => e.amountFen),
      [-400],
    );
  });

  it("keeps receipts to the card's own records", async () => {
    const owner = await signedPayer(stack);
    const other = await signedPayer(stack);
    const mine = await swipe(owner.card.cardNo, 200);
    const gateway = await gatewayFor(stack);
    await waitForDeduction(gateway, mine.txnNo, 'COLLECTED');
    const [entry] = (await owner.api.get(`/api/v1/bindings/${owner.bindingId}/statement`)).body.entries;
    const foreign = await other.api.get(
      `/api/v1/bindings/${other.bindingId}/statement/${encodeURIComponent(entry.id)}`,
    );
    assert.equal(foreign.status, 404);
    for (const bad of ['deduction:not-a-uuid', 'nothing:abc', 'card:x@1']) {
      const res = await owner.api.get(
        `/api/v1/bindings/${owner.bindingId}/statement/${encodeURIComponent(bad)}`,
      );
      assert.equal(res.status, 404, bad);
    }
  });
});
