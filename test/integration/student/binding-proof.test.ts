import assert from 'node:assert/strict';
import { saveRosterEntries } from '../../../server/src/domain/roster/roster-entries.js';
import { idNumberTail } from '../../../shared/id-number.js';
import { testIdNumber, testMobile } from '../../support/identity.js';
import { startStack, type Stack } from '../../support/stack.js';

describe('binding proves who you are', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(() => stack.stop());

  async function login() {
    return (await stack.createUser()).login();
  }

  /** A card of a school that loaded its roster, with the roster's ID number and phones for it. */
  async function rosterCard(school = stack.school) {
    const card = await stack.createCard({ schoolCode: school.code });
    const roster = { idNumber: testIdNumber('20000101'), phone: testMobile(), guardianPhone: testMobile() };
    await saveRosterEntries(stack.app.deps, school.id, [
      { cardNo: card.cardNo, name: card.holderName, studentNo: card.studentNo, ...roster },
    ]);
    return { ...card, ...roster };
  }

  function bind(
    api: Awaited<ReturnType<typeof login>>,
    body: Record<string, unknown>,
    school = stack.school,
  ) {
    return api.post('/api/v1/bindings', { schoolId: school.id, relation: 'SELF', ...body });
  }

  it('refuses a stranger who knows only the card number and the holder name', async () => {
    const card = await stack.createCard();
    const holder = await login();
    assert.equal(
      (await bind(holder, { cardNo: card.cardNo, name: card.holderName, studentNo: card.studentNo })).status,
      201,
    );
    const stranger = await login();
    const bare = await bind(stranger, { cardNo: card.cardNo, name: card.holderName, relation: 'PARENT' });
    assert.equal(bare.status, 400);
    assert.equal(bare.body.error.field, 'body.idNumber');
    const guessed = await bind(stranger, {
      cardNo: card.cardNo,
      name: card.holderName,
      relation: 'PARENT',
      studentNo: 'S0000001',
    });
    assert.equal(guessed.status, 422);
    assert.equal(guessed.body.error.code, 'IDENTITY_NOT_VERIFIED');
    assert.deepEqual((await stranger.get('/api/v1/bindings')).body.items, []);
  });

  it('binds with the student number the card system reports when the school has no roster for the card', async () => {
    const card = await stack.createCard({ studentNo: 'S2026-0042' });
    const api = await login();
    const res = await bind(api, { cardNo: card.cardNo, name: card.holderName, studentNo: 's2026-0042' });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.proof, 'STUDENT_NO');
  });

  it('refuses a card without a student number when the school has no roster for it', async () => {
    const card = await stack.createCard({ identity: 'STAFF', studentNo: null });
    const res = await bind(await login(), { cardNo: card.cardNo, name: card.holderName, studentNo: 'x1' });
    assert.equal(res.body.error.code, 'IDENTITY_NOT_VERIFIED');
  });

  it("binds with the roster's whole ID number or its last 6 characters, not with the student number", async () => {
    const card = await rosterCard();
    const typed = { cardNo: card.cardNo, name: card.holderName };
    const byStudentNo = await bind(await login(), { ...typed, studentNo: card.studentNo });
    assert.equal(byStudentNo.body.error.code, 'IDENTITY_NOT_VERIFIED');
    const wrongTail = await bind(await login(), { ...typed, idNumber: '00000X' });
    assert.equal(wrongTail.body.error.code, 'IDENTITY_NOT_VERIFIED');
    assert.equal(wrongTail.body.error.field, 'body.idNumber');

    const byTail = await bind(await login(), {
      ...typed,
      relation: 'PARENT',
      idNumber: idNumberTail(card.idNumber).toLowerCase(),
    });
    assert.equal(byTail.status, 201, byTail.text);
    assert.equal(byTail.body.proof, 'ID_NUMBER');
    const byWhole = await bind(await login(), { ...typed, idNumber: card.idNumber });
    assert.equal(byWhole.status, 201, byWhole.text);
    assert.equal(byWhole.body.relation, 'SELF');
  });

  it("binds with the student's phone, and with the guardian's phone only as a parent", async () => {
    const card = await rosterCard();
    const typed = { cardNo: card.cardNo, name: card.holderName };
    const guardianAsSelf = await bind(await login(), { ...typed, phone: card.guardianPhone });
    assert.equal(guardianAsSelf.status, 400);
    assert.equal(guardianAsSelf.body.error.field, 'body.relation');
    const guardian = await bind(await login(), {
      ...typed,
      relation: 'PARENT',
      phone: `+86 ${card.guardianPhone}`,
    });
    assert.equal(guardian.status, 201, guardian.text);
    assert.equal(guardian.body.proof, 'GUARDIAN_PHONE');
    const student = await bind(await login(), { ...typed, phone: card.phone });
    assert.equal(student.status, 201, student.text);
    assert.equal(student.body.proof, 'PHONE');
    const someone = await bind(await login(), { ...typed, relation: 'PARENT', phone: testMobile() });
    assert.equal(someone.body.error.code, 'IDENTITY_NOT_VERIFIED');
  });

  it('gives a card one holder: a second "my own card" binding is refused', async () => {
    const card = await stack.createCard();
    const typed = { cardNo: card.cardNo, name: card.holderName, studentNo: card.studentNo };
    assert.equal((await bind(await login(), typed)).status, 201);
    const second = await bind(await login(), typed);
    assert.equal(second.status, 409);
    assert.equal(second.body.error.code, 'HOLDER_EXISTS');
    assert.equal((await bind(await login(), { ...typed, relation: 'PARENT' })).status, 201);
  });

  it('tells the bind form which proof a school asks for', async () => {
    const [without, withRoster] = [await stack.addSchool(), await stack.addSchool()];
    await rosterCard(withRoster);
    const api = await login();
    const codes = [without.code, withRoster.code];
    const found = await Promise.all(codes.map((code) => api.get(`/api/v1/schools?q=${code}`)));
    assert.deepEqual(
      found.map((res) => res.body.items[0].bindProof),
      ['STUDENT_NO', 'ROSTER'],
    );
  });
});

describe('binding attempts are rate limited', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({
      env: { RATE_LIMIT_SCALE: '1', RATE_LIMITS: 'binding-user=3/60,binding-school=5/60' },
    });
  });
  after(() => stack.stop());

  it('stops one user guessing, then everyone guessing at one school, with a retry time', async () => {
    const card = await stack.createCard();
    const guess = (api: Awaited<ReturnType<Awaited<ReturnType<Stack['createUser']>>['login']>>, n: number) =>
      api.post('/api/v1/bindings', {
        schoolId: stack.school.id,
        cardNo: card.cardNo,
        name: card.holderName,
        relation: 'PARENT',
        studentNo: `S${n}`,
      });
    const guesser = await (await stack.createUser()).login();
    for (let n = 0; n < 3; n += 1) assert.equal((await guess(guesser, n)).status, 422);
    const stopped = await guess(guesser, 3);
    assert.equal(stopped.status, 429);
    assert.equal(stopped.body.error.details.limit, 'binding-user');
    assert.ok(Number(stopped.headers.get('retry-after')) >= 1);

    const helper = await (await stack.createUser()).login();
    assert.equal((await guess(helper, 10)).status, 422);
    assert.equal((await guess(helper, 11)).status, 422);
    const school = await guess(helper, 12);
    assert.equal(school.status, 429, 'the school has had its 5 attempts');
    assert.equal(school.body.error.details.limit, 'binding-school');
    const lookup = await helper.post('/api/v1/bindings/lookup', {
      schoolId: stack.school.id,
      name: card.holderName,
      idNumber: '11010519491231002X',
    });
    assert.equal(lookup.status, 429, 'lookups spend the same budgets');

    const elsewhere = await stack.addSchool();
    const other = await stack.createCard({ schoolCode: elsewhere.code });
    const fresh = await (await stack.createUser()).login();
    const res = await fresh.post('/api/v1/bindings', {
      schoolId: elsewhere.id,
      cardNo: other.cardNo,
      name: other.holderName,
      relation: 'SELF',
      studentNo: other.studentNo,
    });
    assert.equal(res.status, 201, 'another school has its own budget');
  });
});
