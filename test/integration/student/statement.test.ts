import assert from 'node:assert/strict';
import { startStack, type Stack } from '../../support/stack.js';
import { eventually } from '../../support/http.js';
import { userWithCard, waitForRecharge } from './helpers.js';

describe('card statement', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(() => stack.stop());

  it('merges canteen spending with our recharges, newest first, in pages of 20', async () => {
    const { user, api, card, bindingId } = await userWithCard(stack, { cardBalanceFen: 10_000 });
    for (let i = 1; i <= 24; i += 1) {
      const swipe = await stack.cardsys.control.swipe({
        schoolCode: stack.school.code,
        cardNo: card.cardNo,
        amountFen: 100 + i,
        terminalId: `POS-${i}`,
        place: '第一食堂',
      });
      assert.equal(swipe.path, 'CARD_BALANCE');
    }
    const created = await api.post('/api/v1/recharges', { bindingId, amountFen: 5_000 });
    await stack.alipay.control.payTrade({ tradeNO: created.body.tradeNo, userId: user.userId });
    await waitForRecharge(api, created.body.id, 'CREDITED');

    const first = await api.get(`/api/v1/bindings/${bindingId}/statement`);
    assert.equal(first.status, 200, first.text);
    assert.equal(first.body.entries.length, 20);
    assert.equal(first.body.hasMore, true);
    const [newest] = first.body.entries;
    assert.equal(newest.kind, 'RECHARGE');
    assert.equal(newest.amountFen, 5_000);
    assert.equal(newest.status, 'CREDITED');
    assert.equal(newest.id, `recharge:${created.body.id}`);
    assert.equal(newest.orderNo, created.body.outTradeNo);
    assert.equal(newest.balanceAfterFen, 10_000 - (101 + 124) * 12 + 5_000);

    const second = await api.get(`/api/v1/bindings/${bindingId}/statement?page=2`);
    assert.equal(second.body.entries.length, 5);
    assert.equal(second.body.hasMore, false);
    const all = [...first.body.entries, ...second.body.entries];
    assert.equal(new Set(all.map((e: { id: string }) => e.id)).size, 25, 'the recharge appears once');
    const times = all.map((e: { occurredAt: string }) => e.occurredAt);
    assert.deepEqual([...times].sort().reverse(), times);
    const oldest = all[all.length - 1];
    assert.deepEqual(
      { kind: oldest.kind, amountFen: oldest.amountFen, place: oldest.place },
      { kind: 'CONSUMPTION', amountFen: -101, place: '第一食堂' },
    );
  });

  it('shows a paid recharge that is not on the card yet', async () => {
    const { user, api, bindingId } = await userWithCard(stack);
    const created = await api.post('/api/v1/recharges', { bindingId, amountFen: 2_000 });
    // The card system refuses this one Recharge (statements keep working): the order stays PAID until the
    // next crediting attempt, seconds later.
    const fault = await stack.cardsys.control.injectFault({
      schoolCode: stack.school.code,
      operation: 'Recharge',
      kind: 'SOAP_FAULT',
      times: 1,
    });
    try {
      await stack.alipay.control.payTrade({ tradeNO: created.body.tradeNo, userId: user.userId });
      // A used-up fault leaves the list: the crediting attempt has been refused.
      await eventually(async () =>
        (await stack.cardsys.control.listFaults()).every((f) => f.id !== fault.id),
      );
      const res = await api.get(`/api/v1/bindings/${bindingId}/statement`);
      const entry = res.body.entries.find((e: { id: string }) => e.id === `recharge:${created.body.id}`);
      assert.deepEqual(
        {
          kind: entry?.kind,
          amountFen: entry?.amountFen,
          balanceAfterFen: entry?.balanceAfterFen,
          status: entry?.status,
        },
        { kind: 'RECHARGE', amountFen: 2_000, balanceAfterFen: null, status: 'PAID' },
      );
    } finally {
      await stack.cardsys.control.clearFaults();
    }
  });

  it('is empty for a new card and refuses windows that are reversed or too long', async () => {
    const { api, bindingId } = await userWithCard(stack);
    const empty = await api.get(`/api/v1/bindings/${bindingId}/statement`);
    assert.deepEqual(empty.body.entries, []);
    assert.equal(empty.body.hasMore, false);
    const reversed = await api.get(
      `/api/v1/bindings/${bindingId}/statement?from=2026-11-20T00:00:00Z&to=2026-11-01T00:00:00Z`,
    );
    assert.equal(reversed.status, 400);
    assert.equal(reversed.body.error.field, 'query.from');
    const tooLong = await api.get(
      `/api/v1/bindings/${bindingId}/statement?from=2025-01-01T00:00:00Z&to=2026-11-01T00:00:00Z`,
    );
    assert.equal(tooLong.status, 400);
    assert.equal(tooLong.body.error.details.maxDays, 366, 'the card system allows a year');
    const year = await api.get(
      `/api/v1/bindings/${bindingId}/statement?from=2025-11-02T00:00:00Z&to=2026-11-01T00:00:00Z`,
    );
    assert.equal(year.status, 200, 'any window the card system allows');
    const badPage = await api.get(`/api/v1/bindings/${bindingId}/statement?page=0`);
    assert.equal(badPage.body.error.field, 'query.page');
  });
});
