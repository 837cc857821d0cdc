import assert from 'node:assert/strict';
import { membershipCards } from '../../../server/src/db/schema.js';
import { eq } from 'drizzle-orm';
import { startStack, type Stack } from '../../support/stack.js';
import { userWithCard } from '../student/helpers.js';
import { addRosterEntry, alipayUserId, crm, identifiers, membercardOf } from './helpers.js';

/** The CRM routes AntBuilder card management calls (seed 003, DESIGN §6.4), called here as it calls them. */
describe('CRM routes for the membership card', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ membercard: {} });
  });
  after(() => stack.stop());

  const templates = () => membercardOf(stack).templates;
  const cardsOf = (cardNo: string) =>
    stack.app.deps.db.select().from(membershipCards).where(eq(membershipCards.cardNo, cardNo));

  describe('openCardInfo: register', () => {
    it('opens the card of a user who bound it, found by the id card management sends', async () => {
      const { user, card } = await userWithCard(stack, { cardBalanceFen: 1_234 });
      // Card management under an app in open_id mode names the user by that app's open_id.
      const res = await crm(stack, 'openCardInfo', {
        alipayUserId: user.openId,
        templateId: templates().student,
      });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.body, {
        bizCardNo: card.cardNo,
        cardNo: card.cardNo,
        point: 0,
        level: 'student',
        balance: '12.34',
      });
      const [row] = await cardsOf(card.cardNo);
      assert.deepEqual([row.status, row.alipayUserId], ['OPENED', user.openId]);
    });

    it('finds a student without a binding by the ID number of the open-card form (roster, keyed hash)', async () => {
      const card = await stack.createCard({ name: '陈晨', balanceFen: 500 });
      const { idNumber } = identifiers();
      await addRosterEntry(stack, { name: '陈晨', cardNo: card.cardNo, idNumber });
      const res = await crm(stack, 'openCardInfo', {
        alipayUserId: alipayUserId(),
        templateId: templates().student,
        name: '陈晨',
        certNo: idNumber,
      });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual([res.body.bizCardNo, res.body.balance], [card.cardNo, '5.00']);
    });

    it('finds a staff member by mobile and answers the staff template when the link was the student one', async () => {
      const card = await stack.createCard({ name: '刘洋', identity: 'STAFF' });
      const { mobile } = identifiers();
      await addRosterEntry(stack, { name: '刘洋', cardNo: card.cardNo, mobile, isStudent: false });
      const res = await crm(stack, 'openCardInfo', {
        alipayUserId: alipayUserId(),
        templateId: templates().student,
        mobile,
      });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual([res.body.level, res.body.templateId], ['staff', templates().staff]);
    });

    it('refuses a stranger, and a roster match whose name is not the form’s', async () => {
      const stranger = await crm(stack, 'openCardInfo', {
        alipayUserId: alipayUserId(),
        templateId: templates().student,
        name: '路人甲',
        certNo: identifiers().idNumber,
      });
      assert.equal(stranger.status, 404);
      assert.equal(stranger.body.status, 'FAIL');
      assert.equal(stranger.body.error.code, 'MEMBER_NOT_FOUND');
      assert.match(stranger.body.errmsg, /students and staff/);

      const card = await stack.createCard({ name: '杨帆' });
      const { idNumber } = identifiers();
      await addRosterEntry(stack, { name: '杨帆', cardNo: card.cardNo, idNumber });
      const wrongName = await crm(stack, 'openCardInfo', {
        alipayUserId: alipayUserId(),
        name: '黄磊',
        certNo: idNumber,
      });
      assert.equal(wrongName.body.error?.code, 'MEMBER_NOT_FOUND');
      assert.equal((await cardsOf(card.cardNo)).length, 0);
    });

    it('answers a second register of the same user with the same card, and refuses the card to anyone else', async () => {
      const card = await stack.createCard({ name: '黄磊' });
      const { idNumber } = identifiers();
      await addRosterEntry(stack, { name: '黄磊', cardNo: card.cardNo, idNumber });
      const holder = alipayUserId();
      const ask = (user: string) => crm(stack, 'openCardInfo', { alipayUserId: user, certNo: idNumber });
      const [first, again] = [await ask(holder), await ask(holder)];
      assert.deepEqual([first.status, again.status, again.body.bizCardNo], [200, 200, card.cardNo]);
      const other = await ask(alipayUserId());
      assert.deepEqual([other.status, other.body.error.code], [409, 'MEMBERSHIP_CARD_TAKEN']);
      assert.equal((await cardsOf(card.cardNo)).length, 1);
    });
  });

  describe('openCardInfo: query', () => {
    it('answers the holder with points and the live balance, and refuses someone else’s bizCardNo', async () => {
      const { user, card } = await userWithCard(stack, { cardBalanceFen: 800 });
      await crm(stack, 'openCardInfo', { alipayUserId: user.openId });
      await stack.cardsys.control.setBalance(stack.school.code, card.cardNo, 650);
      const mine = await crm(stack, 'openCardInfo', { alipayUserId: user.openId, bizCardNo: card.cardNo });
      assert.deepEqual(mine.body, {
        bizCardNo: card.cardNo,
        cardNo: card.cardNo,
        point: 0,
        level: 'student',
        balance: '6.50',
      });
      const theirs = await crm(stack, 'openCardInfo', {
        alipayUserId: alipayUserId(),
        bizCardNo: card.cardNo,
      });
      assert.deepEqual([theirs.status, theirs.body.error.code], [404, 'MEMBERSHIP_CARD_NOT_FOUND']);
      assert.equal(theirs.body.balance, undefined);
    });
  });

  describe('the token', () => {
    it('refuses a wrong or missing token with 401 and changes nothing', async () => {
      const { user, card } = await userWithCard(stack);
      for (const token of ['not-the-token-of-any-school-at-all', null]) {
        const res = await crm(stack, 'openCardInfo', { alipayUserId: user.openId }, token);
        assert.equal(res.status, 401);
        assert.deepEqual([res.body.status, res.body.error.code], ['FAIL', 'CRM_AUTH_FAILED']);
      }
      const change = await crm(
        stack,
        'cardChange',
        {
          type: 'DEL',
          templateId: 'T1',
          alipayUserId: user.openId,
          bizCardNo: card.cardNo,
          alipayCardNo: 'A1',
        },
        'wrong-token-wrong-token-wrong',
      );
      assert.equal(change.status, 401);
      assert.equal((await cardsOf(card.cardNo)).length, 0);
    });
  });

  describe('cardChange', () => {
    it('records ADD and DEL idempotently; a DEL of an unknown card is fine; an ADD of one never opened is not', async () => {
      const { user, card } = await userWithCard(stack);
      await crm(stack, 'openCardInfo', { alipayUserId: user.openId });
      const change = (type: 'ADD' | 'DEL', bizCardNo = card.cardNo) =>
        crm(stack, 'cardChange', {
          type,
          templateId: templates().student,
          alipayUserId: user.openId,
          bizCardNo,
          alipayCardNo: '20260000000000001',
        });
      for (const res of [await change('ADD'), await change('ADD')])
        assert.deepEqual([res.status, res.body], [200, true]);
      const [added] = await cardsOf(card.cardNo);
      assert.deepEqual([added.status, added.alipayCardNo], ['IN_WALLET', '20260000000000001']);

      for (const res of [await change('DEL'), await change('DEL')])
        assert.deepEqual([res.status, res.body], [200, true]);
      assert.equal((await cardsOf(card.cardNo))[0].status, 'REMOVED');
      assert.deepEqual((await change('DEL', '99999999')).body, true);
      const never = await change('ADD', '99999999');
      assert.deepEqual([never.status, never.body.error.code], [404, 'MEMBERSHIP_CARD_NOT_FOUND']);
    });

    it('names the field of bad input', async () => {
      const res = await crm(stack, 'cardChange', {
        type: 'MOVE',
        templateId: templates().student,
        alipayUserId: alipayUserId(),
        bizCardNo: '20260001',
        alipayCardNo: '1',
      });
      assert.deepEqual([res.status, res.body.error.field], [400, 'body.type']);
    });
  });

  describe('mdCodeChange', () => {
    it('answers an 18-digit code that expires in the configured seconds (120 by default), Beijing time', async () => {
      const { user } = await userWithCard(stack);
      await crm(stack, 'openCardInfo', { alipayUserId: user.openId });
      const ask = (extra: Record<string, unknown> = {}) =>
        crm(stack, 'mdCodeChange', {
          appId: membercardOf(stack).appId,
          templateId: templates().student,
          alipayUserId: user.openId,
          ...extra,
        });
      const beijing = (text: string) => Date.parse(`${text.replace(' ', 'T')}+08:00`);
      const before = Date.now();
      const first = await ask();
      assert.equal(first.status, 200, first.text);
      assert.match(first.body.codeValue, /^9\d{17}$/);
      assert.match(first.body.codeExpire, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
      assert.ok(Math.abs(beijing(first.body.codeExpire) - (before + 120_000)) < 3_000);
      const second = await ask({ expireTime: '30' });
      assert.notEqual(second.body.codeValue, first.body.codeValue);
      assert.ok(Math.abs(beijing(second.body.codeExpire) - (before + 30_000)) < 3_000);
      assert.equal(second.body.alipayUserId, user.openId);
    });

    it('has no code for a user without a card', async () => {
      const res = await crm(stack, 'mdCodeChange', {
        appId: membercardOf(stack).appId,
        templateId: templates().student,
        alipayUserId: alipayUserId(),
      });
      assert.deepEqual([res.status, res.body.error.code], [404, 'MEMBERSHIP_CARD_NOT_FOUND']);
    });
  });
});
