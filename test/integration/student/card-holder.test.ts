import assert from 'node:assert/strict';
import type { SchoolRow } from '../../../server/src/db/repos/schools/schools.js';
import { saveRosterEntries } from '../../../server/src/domain/roster/roster-entries.js';
import { onboardSchool, updateSchoolSettings } from '../../../server/src/domain/schools/schools.js';
import { TEST_OPERATOR } from '../../support/admins.js';
import { testIdNumber } from '../../support/identity.js';
import { startStack, type Stack } from '../../support/stack.js';

describe('the card holder, parents and loss', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(() => stack.stop());

  type Api = Awaited<ReturnType<Awaited<ReturnType<Stack['createUser']>>['login']>>;

  async function bound(
    card: { cardNo: string; holderName: string; studentNo: string | null; idNumber?: string },
    relation: 'SELF' | 'PARENT',
    school: SchoolRow = stack.school,
  ): Promise<{ api: Api; id: string; body: any }> {
    const api = await (await stack.createUser()).login();
    const res = await api.post('/api/v1/bindings', {
      schoolId: school.id,
      cardNo: card.cardNo,
      name: card.holderName,
      relation,
      ...(card.idNumber ? { idNumber: card.idNumber } : { studentNo: card.studentNo }),
    });
    assert.equal(res.status, 201, res.text);
    return { api, id: res.body.id, body: res.body };
  }

  /** A school with the given parent-approval rule, and a card whose roster entry says how old its holder is. */
  async function schoolWith(parentApproval: 'ADULTS' | 'ALWAYS' | 'NEVER') {
    const school = await stack.addSchool({ settings: { parentApproval } });
    return {
      school,
      async card(birth?: string) {
        const card = await stack.createCard({ schoolCode: school.code });
        if (!birth) return card;
        const idNumber = testIdNumber(birth);
        await saveRosterEntries(stack.app.deps, school.id, [
          { cardNo: card.cardNo, name: card.holderName, idNumber },
        ]);
        return { ...card, idNumber };
      },
    };
  }

  it('shows the holder every other binding of the card and lets them remove one', async () => {
    const card = await stack.createCard();
    const holder = await bound(card, 'SELF');
    const parent = await bound(card, 'PARENT');
    const others = await holder.api.get(`/api/v1/bindings/${holder.id}/others`);
    assert.equal(others.status, 200);
    assert.deepEqual(
      others.body.items.map((o: any) => [o.id, o.relation, o.proof, o.approval]),
      [[parent.id, 'PARENT', 'STUDENT_NO', 'NOT_REQUIRED']],
    );
    const removed = await holder.api.delete(`/api/v1/bindings/${holder.id}/others/${parent.id}`);
    assert.equal(removed.status, 204);
    assert.equal((await parent.api.get(`/api/v1/bindings/${parent.id}`)).status, 404);
    assert.deepEqual((await holder.api.get(`/api/v1/bindings/${holder.id}/others`)).body.items, []);
  });

  it('keeps the list of other bindings and their removal for the holder alone', async () => {
    const card = await stack.createCard();
    const holder = await bound(card, 'SELF');
    const parent = await bound(card, 'PARENT');
    const asParent = await parent.api.get(`/api/v1/bindings/${parent.id}/others`);
    assert.equal(asParent.status, 403);
    assert.equal(asParent.body.error.code, 'NOT_CARD_HOLDER');
    assert.equal((await parent.api.delete(`/api/v1/bindings/${parent.id}/others/${holder.id}`)).status, 403);
    const elsewhere = await bound(await stack.createCard(), 'SELF');
    const foreign = await elsewhere.api.delete(`/api/v1/bindings/${elsewhere.id}/others/${parent.id}`);
    assert.equal(foreign.status, 404, 'a binding of another card is not the holder’s to remove');
    assert.equal((await parent.api.get(`/api/v1/bindings/${parent.id}`)).status, 200);
  });

  it("makes an adult holder's parent wait for approval, and lets the holder approve", async () => {
    const { school, card } = await schoolWith('ADULTS');
    const adultCard = await card('20000101');
    const holder = await bound(adultCard, 'SELF', school);
    const parent = await bound(adultCard, 'PARENT', school);
    assert.equal(parent.body.approval, 'PENDING');

    const detail = await parent.api.get(`/api/v1/bindings/${parent.id}`);
    assert.equal(detail.status, 200);
    assert.equal(detail.body.balanceFen, null, 'no balance before approval');
    for (const res of [
      await parent.api.get(`/api/v1/bindings/${parent.id}/statement`),
      await parent.api.post(`/api/v1/bindings/${parent.id}/loss`),
      await parent.api.post('/api/v1/recharges', { bindingId: parent.id, amountFen: 1000 }),
      await parent.api.post('/api/v1/withholding/sign', { bindingId: parent.id }),
    ]) {
      assert.equal(res.status, 403, res.text);
      assert.equal(res.body.error.code, 'BINDING_PENDING_APPROVAL');
    }

    const approved = await holder.api.post(`/api/v1/bindings/${holder.id}/others/${parent.id}/approve`);
    assert.equal(approved.status, 200, approved.text);
    assert.equal(approved.body.approval, 'APPROVED');
    assert.equal((await parent.api.get(`/api/v1/bindings/${parent.id}`)).body.balanceFen, 10_000);
    assert.equal((await parent.api.get(`/api/v1/bindings/${parent.id}/statement`)).status, 200);
  });

  it("lets a minor's parents act at once, and follows the school's ALWAYS and NEVER", async () => {
    const adults = await schoolWith('ADULTS');
    const child = await bound(await adults.card('20150601'), 'PARENT', adults.school);
    assert.equal(child.body.approval, 'NOT_REQUIRED');
    const unknownAge = await bound(await adults.card(), 'PARENT', adults.school);
    assert.equal(unknownAge.body.approval, 'PENDING', 'an unknown age counts as of age');

    const always = await schoolWith('ALWAYS');
    assert.equal(
      (await bound(await always.card('20150601'), 'PARENT', always.school)).body.approval,
      'PENDING',
    );
    const never = await schoolWith('NEVER');
    assert.equal(
      (await bound(await never.card('20000101'), 'PARENT', never.school)).body.approval,
      'NOT_REQUIRED',
    );
  });

  it('cancels a loss where the card system offers it, for the holder and an approved parent', async () => {
    const card = await stack.createCard();
    const holder = await bound(card, 'SELF');
    const parent = await bound(card, 'PARENT');
    assert.equal((await parent.api.post(`/api/v1/bindings/${parent.id}/loss`)).body.status, 'LOST');
    const lost = await holder.api.get(`/api/v1/bindings/${holder.id}`);
    assert.equal(lost.body.status, 'LOST');
    assert.equal(lost.body.cardStatus, 'LOST');
    assert.equal(lost.body.canCancelLoss, true);

    const found = await holder.api.delete(`/api/v1/bindings/${holder.id}/loss`);
    assert.equal(found.status, 200, found.text);
    assert.equal(found.body.status, 'ACTIVE');
    assert.equal((await stack.cardsys.control.getCard(stack.school.code, card.cardNo)).status, 'NORMAL');
    const parentView = await parent.api.get(`/api/v1/bindings/${parent.id}`);
    assert.equal(parentView.body.status, 'ACTIVE');
    assert.equal(parentView.body.canCancelLoss, false);
  });

  it('says where to go when the card system cannot cancel a loss online', async () => {
    const code = '4100' + String(Date.now()).slice(-6);
    const vendorSchool = await stack.cardsys.control.createSchool({
      code,
      name: '无解挂大学',
      supportsUnLoss: false,
    });
    const authorization = await stack.alipay.control.authorizeMerchant({ isvAppId: stack.alipay.appId });
    const school = await onboardSchool(stack.app.deps, {
      code,
      name: '无解挂大学',
      cardsys: {
        endpoint: vendorSchool.endpoint,
        username: vendorSchool.username,
        password: vendorSchool.password,
      },
      alipayAppAuthCode: authorization.appAuthCode,
    });
    const card = await stack.createCard({ schoolCode: code });
    const holder = await bound(card, 'SELF', school);
    await holder.api.post(`/api/v1/bindings/${holder.id}/loss`);
    assert.equal((await holder.api.get(`/api/v1/bindings/${holder.id}`)).body.canCancelLoss, false);
    const refused = await holder.api.delete(`/api/v1/bindings/${holder.id}/loss`);
    assert.equal(refused.status, 409);
    assert.equal(refused.body.error.code, 'UNLOSS_NOT_SUPPORTED');
    assert.equal((await stack.cardsys.control.getCard(code, card.cardNo)).status, 'LOST');
  });

  it('shows a card frozen at the card system as frozen', async () => {
    const card = await stack.createCard();
    const holder = await bound(card, 'SELF');
    await stack.cardsys.control.setStatus(stack.school.code, card.cardNo, 'FROZEN');
    const detail = await holder.api.get(`/api/v1/bindings/${holder.id}`);
    assert.equal(detail.body.cardStatus, 'FROZEN');
  });

  it('keeps a school setting change in force for new bindings only', async () => {
    const { school, card } = await schoolWith('NEVER');
    const first = await bound(await card('20000101'), 'PARENT', school);
    await updateSchoolSettings(stack.app.deps, TEST_OPERATOR, school.id, { parentApproval: 'ALWAYS' });
    const second = await bound(await card('20000101'), 'PARENT', school);
    assert.deepEqual([first.body.approval, second.body.approval], ['NOT_REQUIRED', 'PENDING']);
  });
});
