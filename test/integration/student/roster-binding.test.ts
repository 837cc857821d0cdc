import assert from 'node:assert/strict';
import { saveRosterEntries } from '../../../server/src/domain/roster/roster-entries.js';
import { testIdNumber, testMobile } from '../../support/identity.js';
import { startStack, type Stack, type StackUser } from '../../support/stack.js';

describe('roster-based binding (one tap)', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(() => stack.stop());

  /** A card in the school's roster with its student's ID number and phone and a guardian's phone. */
  async function rosterCard(guardianPhone = testMobile()) {
    const card = await stack.createCard();
    const entry = { idNumber: testIdNumber('20010203'), phone: testMobile(), guardianPhone };
    await saveRosterEntries(stack.app.deps, stack.school.id, [
      { cardNo: card.cardNo, name: card.holderName, ...entry },
    ]);
    return { ...card, ...entry };
  }

  /** my.getAuthCode({ scopes: 'auth_user' }) for the user, after they granted what is listed. */
  async function authUserCode(user: StackUser, shares: { certNo?: boolean; mobile?: boolean }) {
    await stack.alipay.control.shareInfo(user.userId, shares);
    const { authCode } = await stack.alipay.control.issueAuthCode({
      userId: user.userId,
      appId: stack.alipay.appId,
      scopes: 'auth_user',
    });
    return authCode;
  }

  it("finds the student's own card by the ID number Alipay certifies and binds it with one tap", async () => {
    const card = await rosterCard();
    const student = await stack.createUser(100_000, { certNo: card.idNumber });
    const api = await student.login();
    const found = await api.post('/api/v1/bindings/lookup', {
      schoolId: stack.school.id,
      authCode: await authUserCode(student, { certNo: true }),
    });
    assert.equal(found.status, 200, found.text);
    assert.deepEqual(found.body.shared, { certNo: true, mobile: false });
    assert.equal(found.body.matches.length, 1);
    const [match] = found.body.matches;
    assert.match(match.cardNoMasked, new RegExp(`^\\*+${card.cardNo.slice(-4)}$`));
    assert.equal(match.holderNameMasked.length, card.holderName.length);
    assert.ok(!found.text.includes(card.cardNo), 'the card number is masked');
    assert.deepEqual([match.relation, match.proof], ['SELF', 'ALIPAY_CERT']);

    const vendorCalls = async () =>
      (await stack.cardsys.control.getSchool(stack.school.code)).stats.calls.GetPersonInfo ?? 0;
    const before = await vendorCalls();
    const bound = await api.post('/api/v1/bindings', {
      schoolId: stack.school.id,
      matchToken: match.matchToken,
    });
    assert.equal(bound.status, 201, bound.text);
    assert.deepEqual(
      [bound.body.cardNo, bound.body.relation, bound.body.proof],
      [card.cardNo, 'SELF', 'ALIPAY_CERT'],
    );
    assert.equal(await vendorCalls(), before + 1, 'still checked with GetPersonInfo');

    const again = await api.post('/api/v1/bindings/lookup', {
      schoolId: stack.school.id,
      authCode: await authUserCode(student, {}),
    });
    assert.deepEqual(
      again.body.matches.map((m: any) => [m.isBound, m.matchToken]),
      [[true, null]],
    );
  });

  it("finds a parent's children by the guardian phone and the student's card by their own phone", async () => {
    const parentPhone = testMobile();
    const first = await rosterCard(parentPhone);
    const second = await rosterCard(parentPhone);
    const parent = await stack.createUser(100_000, { mobile: parentPhone });
    const api = await parent.login();
    const found = await api.post('/api/v1/bindings/lookup', {
      schoolId: stack.school.id,
      authCode: await authUserCode(parent, { mobile: true }),
    });
    assert.deepEqual(
      found.body.matches.map((m: any) => [m.cardNoMasked.slice(-4), m.relation, m.proof]).sort(),
      [first, second].map((c) => [c.cardNo.slice(-4), 'PARENT', 'ALIPAY_GUARDIAN_MOBILE']).sort(),
    );
    for (const match of found.body.matches) {
      const res = await api.post('/api/v1/bindings', {
        schoolId: stack.school.id,
        matchToken: match.matchToken,
      });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.body.relation, 'PARENT');
    }
    const student = await stack.createUser(100_000, { mobile: first.phone });
    const own = await (
      await student.login()
    ).post('/api/v1/bindings/lookup', {
      schoolId: stack.school.id,
      authCode: await authUserCode(student, { mobile: true }),
    });
    assert.deepEqual(
      own.body.matches.map((m: any) => [m.relation, m.proof]),
      [['SELF', 'ALIPAY_MOBILE']],
    );
  });

  it('finds nothing when the user shares neither ID number nor mobile', async () => {
    const card = await rosterCard();
    const user = await stack.createUser(100_000, { certNo: card.idNumber, mobile: card.phone });
    const res = await (
      await user.login()
    ).post('/api/v1/bindings/lookup', {
      schoolId: stack.school.id,
      authCode: await authUserCode(user, { certNo: false, mobile: false }),
    });
    assert.deepEqual(res.body, { matches: [], shared: { certNo: false, mobile: false } });
  });

  it("refuses someone else's auth code", async () => {
    const card = await rosterCard();
    const owner = await stack.createUser(100_000, { certNo: card.idNumber });
    const other = await (await stack.createUser()).login();
    const res = await other.post('/api/v1/bindings/lookup', {
      schoolId: stack.school.id,
      authCode: await authUserCode(owner, { certNo: true }),
    });
    assert.equal(res.status, 403);
  });

  it('finds a card by a typed name and whole ID number', async () => {
    const card = await rosterCard();
    const api = await (await stack.createUser()).login();
    const bad = await api.post('/api/v1/bindings/lookup', {
      schoolId: stack.school.id,
      name: card.holderName,
      idNumber: card.idNumber.slice(0, 17) + (card.idNumber[17] === '0' ? '1' : '0'),
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.field, 'body.idNumber');
    const wrongName = await api.post('/api/v1/bindings/lookup', {
      schoolId: stack.school.id,
      name: '路人甲',
      idNumber: card.idNumber,
    });
    assert.deepEqual(wrongName.body.matches, []);
    const found = await api.post('/api/v1/bindings/lookup', {
      schoolId: stack.school.id,
      name: card.holderName,
      idNumber: card.idNumber.toLowerCase(),
      relation: 'PARENT',
    });
    assert.equal(found.body.matches.length, 1);
    const bound = await api.post('/api/v1/bindings', {
      schoolId: stack.school.id,
      matchToken: found.body.matches[0].matchToken,
    });
    assert.deepEqual([bound.status, bound.body.relation, bound.body.proof], [201, 'PARENT', 'ID_NUMBER']);
  });

  it("does not accept another user's, another school's or a forged match", async () => {
    const card = await rosterCard();
    const api = await (await stack.createUser()).login();
    const found = await api.post('/api/v1/bindings/lookup', {
      schoolId: stack.school.id,
      name: card.holderName,
      idNumber: card.idNumber,
    });
    const token: string = found.body.matches[0].matchToken;
    const other = await (await stack.createUser()).login();
    const elsewhere = await stack.addSchool();
    const [body, mac] = token.split('.');
    for (const [who, schoolId, matchToken] of [
      [other, stack.school.id, token],
      [api, elsewhere.id, token],
      [api, stack.school.id, `${body}x.${mac}`],
    ] as const) {
      const res = await who.post('/api/v1/bindings', { schoolId, matchToken });
      assert.equal(res.status, 410, res.text);
      assert.equal(res.body.error.code, 'BINDING_MATCH_EXPIRED');
    }
  });

  it('refuses a match whose card the card system knows under another name', async () => {
    const card = await stack.createCard({ name: '周一' });
    const idNumber = testIdNumber('20010203');
    await saveRosterEntries(stack.app.deps, stack.school.id, [
      { cardNo: card.cardNo, name: '周二', idNumber },
    ]);
    const api = await (await stack.createUser()).login();
    const found = await api.post('/api/v1/bindings/lookup', {
      schoolId: stack.school.id,
      name: '周二',
      idNumber,
    });
    const res = await api.post('/api/v1/bindings', {
      schoolId: stack.school.id,
      matchToken: found.body.matches[0].matchToken,
    });
    assert.equal(res.status, 422);
    assert.equal(res.body.error.code, 'IDENTITY_NOT_VERIFIED');
  });
});
