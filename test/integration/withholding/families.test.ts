import assert from 'node:assert/strict';
import { eventually } from '../../support/http.js';
import { startStack, type Stack } from '../../support/stack.js';
import { chargesOf, gatewayFor, sale, waitForDeduction, type Gateway } from './helpers.js';

describe('families: one payer, several cards', () => {
  let stack: Stack;
  let gateway: Gateway;
  before(async () => {
    stack = await startStack({ env: { DEDUCTION_RETRY_SCALE: '0.001' } });
    gateway = await gatewayFor(stack);
  });
  after(() => stack.stop());

  type Api = Awaited<ReturnType<Awaited<ReturnType<Stack['createUser']>>['login']>>;

  /** A parent with an Alipay account and a binding for each child's card. */
  async function parentOf(children: number, balanceFen = 100_000) {
    const user = await stack.createUser(balanceFen);
    const api = await user.login();
    const cards = [];
    for (let i = 0; i < children; i += 1) {
      const card = await stack.createCard();
      const res = await api.post('/api/v1/bindings', {
        schoolId: stack.school.id,
        cardNo: card.cardNo,
        name: card.holderName,
        relation: 'PARENT',
        studentNo: card.studentNo,
      });
      assert.equal(res.status, 201, res.text);
      cards.push({ ...card, bindingId: res.body.id as string });
    }
    return { user, api, cards };
  }

  async function sign(parent: { user: { userId: string }; api: Api }, cards: unknown[]) {
    const sign = await parent.api.post('/api/v1/withholding/sign', { cards });
    assert.equal(sign.status, 201, sign.text);
    const signed = await stack.alipay.control.signAgreement({
      signStr: sign.body.signStr,
      userId: parent.user.userId,
    });
    assert.equal(signed.resultStatus, '7000');
    // The sign notification reaches the platform on its own schedule; until it does the agreement is PENDING
    // and pays for nothing, so every rule below starts from the ACTIVE agreement.
    await eventually(
      async () => {
        const items = (await parent.api.get('/api/v1/withholding')).body.items as any[];
        return items.some((item) => item.agreementId === sign.body.agreementId && item.status === 'ACTIVE');
      },
      { message: 'the agreement ACTIVE' },
    );
    return signed.agreementNo!;
  }

  async function boundAtCardSystem(cardNo: string) {
    return (await stack.cardsys.control.getCard(stack.school.code, cardNo)).alipayBind !== null;
  }

  it('signs once for two children and charges each swipe to that one agreement', async () => {
    const parent = await parentOf(2);
    const agreementNo = await sign(
      parent,
      parent.cards.map((c) => ({ bindingId: c.bindingId })),
    );
    await eventually(
      async () =>
        (await boundAtCardSystem(parent.cards[0].cardNo)) && boundAtCardSystem(parent.cards[1].cardNo),
      {
        message: 'both cards bound for withholding',
      },
    );
    const view = (await parent.api.get('/api/v1/withholding')).body.items[0];
    assert.equal(view.status, 'ACTIVE');
    assert.deepEqual(
      view.cards.map((c: any) => [c.bindingId, c.isBoundAtCardSystem]).sort(),
      parent.cards.map((c) => [c.bindingId, true]).sort(),
    );

    const swipes = [sale(parent.cards[0].cardNo, 1200), sale(parent.cards[1].cardNo, 800)];
    for (const swipe of swipes) {
      const res = await gateway.deduct(swipe);
      assert.equal(res.body.decision, 'APPROVED', res.text);
    }
    for (const swipe of swipes) {
      const done = await waitForDeduction(gateway, swipe.txnNo, 'COLLECTED');
      const { paid } = await chargesOf(stack, done.deductionId);
      assert.equal(paid.length, 1);
      assert.equal(paid[0].agreementNo, agreementNo, 'charged under the one agreement');
      assert.equal(paid[0].buyerUserId, parent.user.userId);
    }
  });

  it("charges each child's swipe to the agreement of the parent who pays that card", async () => {
    const mother = await parentOf(1);
    const father = await parentOf(1);
    const motherNo = await sign(mother, [{ bindingId: mother.cards[0].bindingId }]);
    const fatherNo = await sign(father, [{ bindingId: father.cards[0].bindingId }]);
    await eventually(
      async () =>
        (await boundAtCardSystem(mother.cards[0].cardNo)) && boundAtCardSystem(father.cards[0].cardNo),
    );
    const first = sale(mother.cards[0].cardNo, 500);
    const second = sale(father.cards[0].cardNo, 600);
    await gateway.deduct(first);
    await gateway.deduct(second);
    const a = await waitForDeduction(gateway, first.txnNo, 'COLLECTED');
    const b = await waitForDeduction(gateway, second.txnNo, 'COLLECTED');
    const [ta] = (await chargesOf(stack, a.deductionId)).paid;
    const [tb] = (await chargesOf(stack, b.deductionId)).paid;
    assert.deepEqual([ta.agreementNo, tb.agreementNo], [motherNo, fatherNo]);
  });

  it("applies each card's own limits under the school's", async () => {
    const parent = await parentOf(2);
    await sign(parent, [
      { bindingId: parent.cards[0].bindingId, txnLimitFen: 1000, dailyLimitFen: 1500 },
      { bindingId: parent.cards[1].bindingId },
    ]);
    await eventually(
      async () =>
        (await boundAtCardSystem(parent.cards[0].cardNo)) && boundAtCardSystem(parent.cards[1].cardNo),
    );
    const decide = async (cardNo: string, amountFen: number) =>
      (await gateway.deduct(sale(cardNo, amountFen))).body;
    assert.equal((await decide(parent.cards[0].cardNo, 1100)).reason, 'OVER_TXN_LIMIT');
    assert.equal((await decide(parent.cards[0].cardNo, 1000)).decision, 'APPROVED');
    assert.equal((await decide(parent.cards[0].cardNo, 600)).reason, 'OVER_DAILY_LIMIT');
    assert.equal((await decide(parent.cards[1].cardNo, 3000)).decision, 'APPROVED', "the school's 50.00");
    const overSchool = await parent.api.put('/api/v1/withholding/cards', {
      schoolId: stack.school.id,
      cards: [{ bindingId: parent.cards[0].bindingId, txnLimitFen: stack.school.txnLimitFen + 1 }],
    });
    assert.equal(overSchool.status, 400);
    assert.equal(overSchool.body.error.field, 'body.cards.0.txnLimitFen');
  });

  it('adds and removes covered cards without signing again, and the card system follows', async () => {
    const parent = await parentOf(2);
    await sign(parent, [{ bindingId: parent.cards[0].bindingId }]);
    await eventually(() => boundAtCardSystem(parent.cards[0].cardNo));
    assert.equal((await gateway.deduct(sale(parent.cards[1].cardNo, 100))).body.reason, 'NOT_BOUND');

    const both = await parent.api.put('/api/v1/withholding/cards', {
      schoolId: stack.school.id,
      cards: parent.cards.map((c) => ({ bindingId: c.bindingId })),
    });
    assert.equal(both.status, 200, both.text);
    await eventually(() => boundAtCardSystem(parent.cards[1].cardNo), { message: 'the added card bound' });
    assert.equal((await gateway.deduct(sale(parent.cards[1].cardNo, 100))).body.decision, 'APPROVED');

    const onlySecond = await parent.api.put('/api/v1/withholding/cards', {
      schoolId: stack.school.id,
      cards: [{ bindingId: parent.cards[1].bindingId }],
    });
    assert.deepEqual(
      onlySecond.body.cards.map((c: any) => c.bindingId),
      [parent.cards[1].bindingId],
    );
    // Declined at once: no longer covered (NOT_SIGNED) or, once the card system has unbound it — its job may
    // already have run — no longer a withholding card at all (NOT_BOUND).
    const removed = (await gateway.deduct(sale(parent.cards[0].cardNo, 100))).body;
    assert.equal(removed.decision, 'DECLINED');
    assert.ok(['NOT_SIGNED', 'NOT_BOUND'].includes(removed.reason), removed.reason);
    await eventually(async () => !(await boundAtCardSystem(parent.cards[0].cardNo)), {
      message: 'the removed card unbound at the card system',
    });
    // The unbind job records it on our side after the card system answers: until then the swipe is NOT_SIGNED.
    await eventually(
      async () => (await gateway.deduct(sale(parent.cards[0].cardNo, 100))).body.reason === 'NOT_BOUND',
      { message: 'the removed card no longer a withholding card (NOT_BOUND)' },
    );
  });

  it('pays a card added back to the agreement under its new limits, not those it was removed with', async () => {
    const parent = await parentOf(2);
    const [first, second] = parent.cards;
    const cover = (cards: unknown[]) =>
      parent.api.put('/api/v1/withholding/cards', { schoolId: stack.school.id, cards });
    await sign(parent, [
      { bindingId: first.bindingId, txnLimitFen: 500, dailyLimitFen: 500 },
      { bindingId: second.bindingId },
    ]);
    await eventually(() => boundAtCardSystem(first.cardNo), { message: 'the first card bound' });
    assert.equal((await cover([{ bindingId: second.bindingId }])).status, 200);
    await eventually(async () => !(await boundAtCardSystem(first.cardNo)), {
      message: 'the removed card unbound',
    });
    const back = await cover([
      { bindingId: first.bindingId, txnLimitFen: 2000, dailyLimitFen: 2000 },
      { bindingId: second.bindingId },
    ]);
    assert.equal(back.status, 200, back.text);
    await eventually(() => boundAtCardSystem(first.cardNo), { message: 'the card added back bound again' });
    assert.equal((await gateway.deduct(sale(first.cardNo, 1000))).body.decision, 'APPROVED');
    assert.equal((await gateway.deduct(sale(first.cardNo, 1001))).body.reason, 'OVER_DAILY_LIMIT');
  });

  it('says so when another user already pays the card', async () => {
    const first = await parentOf(1);
    await sign(first, [{ bindingId: first.cards[0].bindingId }]);
    const card = first.cards[0];
    const second = await (await stack.createUser()).login();
    const bound = await second.post('/api/v1/bindings', {
      schoolId: stack.school.id,
      cardNo: card.cardNo,
      name: card.holderName,
      relation: 'PARENT',
      studentNo: card.studentNo,
    });
    const refused = await second.post('/api/v1/withholding/sign', { bindingId: bound.body.id });
    assert.equal(refused.status, 409);
    assert.equal(refused.body.error.code, 'CARD_PAID_BY_OTHER');
    assert.equal(refused.body.error.field, 'body.cards.0.bindingId');
  });

  it('stops paying for a card its holder removed the payer from', async () => {
    const holderUser = await stack.createUser();
    const holder = await holderUser.login();
    const parent = await parentOf(1);
    const card = parent.cards[0];
    const own = await holder.post('/api/v1/bindings', {
      schoolId: stack.school.id,
      cardNo: card.cardNo,
      name: card.holderName,
      relation: 'SELF',
      studentNo: card.studentNo,
    });
    await sign(parent, [{ bindingId: card.bindingId }]);
    await eventually(() => boundAtCardSystem(card.cardNo));
    const removed = await holder.delete(`/api/v1/bindings/${own.body.id}/others/${card.bindingId}`);
    assert.equal(removed.status, 204);
    assert.equal(await boundAtCardSystem(card.cardNo), false);
    assert.equal((await gateway.deduct(sale(card.cardNo, 100))).body.reason, 'NOT_BOUND');
    const [item] = (await parent.api.get('/api/v1/withholding')).body.items;
    assert.deepEqual([item.status, item.cards], ['ACTIVE', []], 'the agreement stays, covering nothing');
  });
});

describe("a parent's debts at two schools", () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({
      schoolSettings: { retryScheduleSeconds: [] },
      env: { DEDUCTION_RETRY_SCALE: '0.001' },
    });
  });
  after(() => stack.stop());

  it('names the child and the canteen of each debt, and repays one school at a time', async () => {
    const user = await stack.createUser(100_000);
    const api = await user.login();
    const other = await stack.addSchool({ settings: { retryScheduleSeconds: [] } });
    const owed = [];
    for (const school of [stack.school, other]) {
      const card = await stack.createCard({ schoolCode: school.code });
      const bound = await api.post('/api/v1/bindings', {
        schoolId: school.id,
        cardNo: card.cardNo,
        name: card.holderName,
        relation: 'PARENT',
        studentNo: card.studentNo,
      });
      const sign = await api.post('/api/v1/withholding/sign', { bindingId: bound.body.id });
      await stack.alipay.control.signAgreement({ signStr: sign.body.signStr, userId: user.userId });
      await eventually(
        async () => (await stack.cardsys.control.getCard(school.code, card.cardNo)).alipayBind !== null,
      );
      owed.push({ school, card, gateway: await gatewayFor(stack, school.id) });
    }
    await stack.alipay.control.setBalance(user.userId, 0);
    // Both swipes before either fails (Alipay answers slowly): arrears at one school decline the payer's
    // swipes everywhere.
    await stack.alipay.control.injectApiFault({ method: 'alipay.trade.pay', times: 2, latencyMs: 1_500 });
    const swipes = [];
    for (const { card, gateway } of owed) {
      const swipe = sale(card.cardNo, 900, { terminalId: 'POS-9' });
      assert.equal((await gateway.deduct(swipe)).body.decision, 'APPROVED');
      swipes.push({ gateway, txnNo: swipe.txnNo });
    }
    for (const { gateway, txnNo } of swipes) await waitForDeduction(gateway, txnNo, 'ARREARS');
    const debts = (await api.get('/api/v1/debts')).body;
    assert.deepEqual(
      debts.schools.map((s: any) => [s.schoolName, s.totalFen, s.count]).sort(),
      owed.map(({ school }) => [school.name, 900, 1]).sort(),
    );
    assert.deepEqual(
      debts.items.map((d: any) => [d.school.id, d.holderName, d.place]).sort(),
      owed.map(({ school, card }) => [school.id, card.holderName, 'test POS · POS-9']).sort(),
    );
    const unsaid = await api.post('/api/v1/debts/repay', {});
    assert.equal(unsaid.status, 400);
    assert.equal(unsaid.body.error.field, 'body.schoolId');
    await stack.alipay.control.setBalance(user.userId, 100_000);
    const repay = await api.post('/api/v1/debts/repay', { schoolId: other.id });
    assert.equal(repay.status, 201, repay.text);
    assert.equal(repay.body.amountFen, 900);
  });
});

describe('the swipe time window', () => {
  let stack: Stack;
  let gateway: Gateway;
  before(async () => {
    stack = await startStack({ schoolSettings: { swipeMaxAgeMinutes: 60, swipeMaxAheadMinutes: 2 } });
    gateway = await gatewayFor(stack);
  });
  after(() => stack.stop());

  it("declines a swipe whose occurredAt is outside the school's window, and answers a repeat the same", async () => {
    const card = await stack.createCard();
    const now = Date.now();
    const at = (minutes: number) => new Date(now + minutes * 60_000).toISOString();
    for (const occurredAt of [at(-61), at(3), '2020-01-01T00:00:00.000Z', '2030-01-01T00:00:00.000Z']) {
      const swipe = sale(card.cardNo, 100, { occurredAt });
      const res = await gateway.deduct(swipe);
      assert.equal(res.status, 200, res.text);
      assert.deepEqual([res.body.decision, res.body.reason], ['DECLINED', 'OUTSIDE_TIME_WINDOW'], occurredAt);
      assert.deepEqual((await gateway.deduct(swipe)).body, res.body, 'a repeat gets the first answer');
    }
    const inside = await gateway.deduct(sale(card.cardNo, 100, { occurredAt: at(-30) }));
    assert.equal(inside.body.reason, 'NOT_BOUND', 'inside the window the card rules apply');
  });
});
