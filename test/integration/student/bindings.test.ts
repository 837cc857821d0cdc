import assert from 'node:assert/strict';
import { startStack, type Stack, type StackUser } from '../../support/stack.js';

describe('schools and card binding', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(() => stack.stop());

  async function loggedIn(): Promise<{ user: StackUser; api: Awaited<ReturnType<StackUser['login']>> }> {
    const user = await stack.createUser();
    return { user, api: await user.login() };
  }

  it('finds active schools by name or code', async () => {
    const { api } = await loggedIn();
    const byName = await api.get(`/api/v1/schools?q=${encodeURIComponent(stack.school.name.slice(0, 4))}`);
    assert.equal(byName.status, 200);
    assert.ok(byName.body.items.some((s: { id: string }) => s.id === stack.school.id));
    const byCode = await api.get(`/api/v1/schools?q=${stack.school.code.slice(0, 6)}`);
    assert.deepEqual(
      byCode.body.items.map((s: { code: string }) => s.code),
      [stack.school.code],
    );
    const school = byCode.body.items[0];
    assert.equal(school.rechargeMinFen, stack.school.rechargeMinFen);
    assert.equal(school.withholdingEnabled, true);
    assert.ok(!('cardsysEndpoint' in school), 'no internals leak');
  });

  it('binds a card whose holder name matches and shows the live balance', async () => {
    const { api } = await loggedIn();
    const card = await stack.createCard({ balanceFen: 1234 });
    const res = await api.post('/api/v1/bindings', {
      schoolId: stack.school.id,
      cardNo: card.cardNo,
      name: ` ${card.holderName} `,
      relation: 'SELF',
      studentNo: card.studentNo,
    });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.status, 'ACTIVE');
    assert.equal(res.body.holderName, card.holderName);
    assert.equal(res.body.identity, 'STUDENT');
    const detail = await api.get(`/api/v1/bindings/${res.body.id}`);
    assert.equal(detail.body.balanceFen, 1234);
    assert.equal(detail.body.cardStatus, 'NORMAL');
    assert.equal(detail.body.balanceUnavailable, false);
  });

  it('refuses a card when the holder name does not match', async () => {
    const { api } = await loggedIn();
    const card = await stack.createCard({ name: '王小明' });
    const res = await api.post('/api/v1/bindings', {
      schoolId: stack.school.id,
      cardNo: card.cardNo,
      name: '王小红',
      relation: 'SELF',
      studentNo: card.studentNo,
    });
    assert.equal(res.status, 422);
    assert.equal(res.body.error.code, 'CARD_NAME_MISMATCH');
    assert.equal(res.body.error.field, 'body.name');
    assert.deepEqual((await api.get('/api/v1/bindings')).body.items, []);
  });

  it('refuses a lost or frozen card, and a card the card system does not know', async () => {
    const { api } = await loggedIn();
    for (const status of ['LOST', 'FROZEN'] as const) {
      const card = await stack.createCard({ status });
      const res = await api.post('/api/v1/bindings', {
        schoolId: stack.school.id,
        cardNo: card.cardNo,
        name: card.holderName,
        relation: 'SELF',
        studentNo: card.studentNo,
      });
      assert.equal(res.status, 409, status);
      assert.equal(res.body.error.code, 'CARD_NOT_NORMAL');
    }
    const unknown = await api.post('/api/v1/bindings', {
      schoolId: stack.school.id,
      cardNo: '99999999',
      name: '张三',
      relation: 'SELF',
      studentNo: '99999999',
    });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'CARD_NOT_FOUND');
  });

  it('does not let the same user bind the same card twice', async () => {
    const { api } = await loggedIn();
    const card = await stack.createCard();
    const body = {
      schoolId: stack.school.id,
      cardNo: card.cardNo,
      name: card.holderName,
      relation: 'SELF',
      studentNo: card.studentNo,
    };
    assert.equal((await api.post('/api/v1/bindings', body)).status, 201);
    const again = await api.post('/api/v1/bindings', body);
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, 'BINDING_EXISTS');
  });

  it('lets a parent bind several children, and another user the same card', async () => {
    const { api: parent } = await loggedIn();
    const first = await stack.createCard({ name: '李小一' });
    const second = await stack.createCard({ name: '李小二' });
    for (const card of [first, second]) {
      const res = await parent.post('/api/v1/bindings', {
        schoolId: stack.school.id,
        cardNo: card.cardNo,
        name: card.holderName,
        relation: 'PARENT',
        studentNo: card.studentNo,
      });
      assert.equal(res.status, 201);
      assert.equal(res.body.relation, 'PARENT');
    }
    const list = await parent.get('/api/v1/bindings');
    assert.deepEqual(
      list.body.items.map((b: { cardNo: string }) => b.cardNo),
      [first.cardNo, second.cardNo],
    );
    const { api: child } = await loggedIn();
    const own = await child.post('/api/v1/bindings', {
      schoolId: stack.school.id,
      cardNo: first.cardNo,
      name: first.holderName,
      relation: 'SELF',
      studentNo: first.studentNo,
    });
    assert.equal(own.status, 201);
  });

  it("hides another user's binding", async () => {
    const { api: owner } = await loggedIn();
    const card = await stack.createCard();
    const bound = await owner.post('/api/v1/bindings', {
      schoolId: stack.school.id,
      cardNo: card.cardNo,
      name: card.holderName,
      relation: 'SELF',
      studentNo: card.studentNo,
    });
    const { api: stranger } = await loggedIn();
    for (const res of [
      await stranger.get(`/api/v1/bindings/${bound.body.id}`),
      await stranger.post(`/api/v1/bindings/${bound.body.id}/loss`),
      await stranger.delete(`/api/v1/bindings/${bound.body.id}`),
    ]) {
      assert.equal(res.status, 404);
      assert.equal(res.body.error.code, 'BINDING_NOT_FOUND');
    }
  });

  it('names the field for bad input', async () => {
    const { api } = await loggedIn();
    const valid = {
      schoolId: stack.school.id,
      cardNo: '12345678',
      name: 'a',
      relation: 'SELF',
      studentNo: 'S1',
    };
    const cases: Array<[unknown, string]> = [
      [{ ...valid, schoolId: 'x' }, 'body.schoolId'],
      [{ ...valid, cardNo: '12-34' }, 'body.cardNo'],
      [{ ...valid, name: '' }, 'body.name'],
      [{ ...valid, relation: 'UNCLE' }, 'body.relation'],
      [{ ...valid, extra: 1 }, 'body.extra'],
      [{ ...valid, studentNo: undefined }, 'body.idNumber'],
      [{ ...valid, studentNo: undefined, idNumber: '110101199003071235' }, 'body.idNumber'],
      [{ ...valid, studentNo: undefined, idNumber: '12345' }, 'body.idNumber'],
      [{ ...valid, studentNo: undefined, phone: '2381234567' }, 'body.phone'],
      [{ schoolId: stack.school.id, matchToken: 'x.y', cardNo: '12345678' }, 'body.cardNo'],
    ];
    for (const [body, field] of cases) {
      const res = await api.post('/api/v1/bindings', body);
      assert.equal(res.status, 400, field);
      assert.equal(res.body.error.field, field);
    }
    assert.equal((await api.get('/api/v1/bindings/not-a-uuid')).body.error.field, 'params.id');
  });

  it('still shows the card when the card system is down, without a balance', async () => {
    const { api } = await loggedIn();
    const card = await stack.createCard();
    const bound = await api.post('/api/v1/bindings', {
      schoolId: stack.school.id,
      cardNo: card.cardNo,
      name: card.holderName,
      relation: 'SELF',
      studentNo: card.studentNo,
    });
    await stack.cardsys.control.setDowntime(true);
    try {
      const detail = await api.get(`/api/v1/bindings/${bound.body.id}`);
      assert.equal(detail.status, 200);
      assert.equal(detail.body.balanceFen, null);
      assert.equal(detail.body.balanceUnavailable, true);
      const bind = await api.post('/api/v1/bindings', {
        schoolId: stack.school.id,
        cardNo: (await stack.createCard()).cardNo,
        name: '张三',
        relation: 'SELF',
        studentNo: 'S1',
      });
      assert.equal(bind.status, 503);
      assert.equal(bind.body.error.code, 'CARD_SYSTEM_UNAVAILABLE');
    } finally {
      await stack.cardsys.control.setDowntime(false);
    }
  });

  it('reports a card lost at the card system and marks every binding of it lost', async () => {
    const { api: parent } = await loggedIn();
    const { api: student } = await loggedIn();
    const card = await stack.createCard();
    const body = {
      schoolId: stack.school.id,
      cardNo: card.cardNo,
      name: card.holderName,
      studentNo: card.studentNo,
    };
    const parentBinding = await parent.post('/api/v1/bindings', { ...body, relation: 'PARENT' });
    const studentBinding = await student.post('/api/v1/bindings', { ...body, relation: 'SELF' });
    const lost = await student.post(`/api/v1/bindings/${studentBinding.body.id}/loss`);
    assert.equal(lost.status, 200);
    assert.equal(lost.body.status, 'LOST');
    assert.equal((await stack.cardsys.control.getCard(stack.school.code, card.cardNo)).status, 'LOST');
    assert.equal((await parent.get(`/api/v1/bindings/${parentBinding.body.id}`)).body.status, 'LOST');
    assert.equal(
      (await student.post(`/api/v1/bindings/${studentBinding.body.id}/loss`)).status,
      200,
      'repeating is harmless',
    );
  });

  it('unbinds a card so it no longer shows', async () => {
    const { api } = await loggedIn();
    const card = await stack.createCard();
    const bound = await api.post('/api/v1/bindings', {
      schoolId: stack.school.id,
      cardNo: card.cardNo,
      name: card.holderName,
      relation: 'SELF',
      studentNo: card.studentNo,
    });
    const res = await api.delete(`/api/v1/bindings/${bound.body.id}`);
    assert.equal(res.status, 204);
    assert.deepEqual((await api.get('/api/v1/bindings')).body.items, []);
    assert.equal((await api.get(`/api/v1/bindings/${bound.body.id}`)).status, 404);
    const rebind = await api.post('/api/v1/bindings', {
      schoolId: stack.school.id,
      cardNo: card.cardNo,
      name: card.holderName,
      relation: 'SELF',
      studentNo: card.studentNo,
    });
    assert.equal(rebind.status, 201, 'an unbound card can be bound again');
  });
});
