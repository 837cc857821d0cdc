import assert from 'node:assert/strict';
import { startStack, type Stack } from '../../support/stack.js';
import { eventually } from '../../support/http.js';
import { userWithCard } from '../student/helpers.js';
import { gatewayFor, sale, signedPayer, type Gateway } from './helpers.js';

describe('signing and ending password-free withholding', () => {
  let stack: Stack;
  let gateway: Gateway;
  before(async () => {
    stack = await startStack({
      env: {
        AGREEMENT_QUERY_AFTER_MS: '0',
        WITHHOLDING_CARD_BIND_RETRY_MS: '100,100,100,100,100,100,100,100',
      },
    });
    gateway = await gatewayFor(stack);
  });
  afterEach(async () => {
    await stack.alipay.control.clearFaults();
    await stack.cardsys.control.clearFaults();
  });
  after(() => stack.stop());

  it('makes the agreement ACTIVE from the sign notification and binds the card at the card system', async () => {
    const payer = await signedPayer(stack);
    const { items } = (await payer.api.get('/api/v1/withholding')).body;
    assert.equal(items.length, 1);
    assert.equal(items[0].status, 'ACTIVE');
    assert.equal(items[0].schoolId, stack.school.id);
    assert.deepEqual(items[0].cards, [
      {
        bindingId: payer.bindingId,
        cardNo: payer.card.cardNo,
        holderName: payer.card.holderName,
        isBoundAtCardSystem: true,
        txnLimitFen: stack.school.txnLimitFen,
        dailyLimitFen: stack.school.dailyLimitFen,
        hasOwnLimits: false,
      },
    ]);
    assert.deepEqual(items[0].limits, {
      txnLimitFen: stack.school.txnLimitFen,
      dailyLimitFen: stack.school.dailyLimitFen,
    });
    const card = await stack.cardsys.control.getCard(stack.school.code, payer.card.cardNo);
    assert.equal(card.alipayBind?.alipayUserId, payer.user.openId, 'the open_id stands in for the user id');
    const agreement = await stack.alipay.control.getAgreement(payer.agreementNo);
    assert.equal(agreement.status, 'NORMAL');
    assert.equal(agreement.signScene, 'INDUSTRY|CAMPUS');
    const me = (await payer.api.get('/api/v1/me')).body;
    assert.equal(me.withholding[0].status, 'ACTIVE');
    assert.equal(me.bindings[0].isWithholdingPayer, true);
    assert.equal((await gateway.deduct(sale(payer.card.cardNo, 100))).body.decision, 'APPROVED');
  });

  it('finds a signed agreement with agreement.query when the notification is lost', async () => {
    const payer = await userWithCard(stack);
    await stack.alipay.control.injectNotifyFault({ notifyType: 'dut_user_sign', action: 'drop' });
    const sign = await payer.api.post('/api/v1/withholding/sign', { bindingId: payer.bindingId });
    await stack.alipay.control.signAgreement({ signStr: sign.body.signStr, userId: payer.user.userId });
    const view = await eventually(async () => {
      const [item] = (await payer.api.get('/api/v1/withholding')).body.items;
      return item?.cards[0]?.isBoundAtCardSystem ? item : undefined;
    });
    assert.equal(view.status, 'ACTIVE');
    assert.notEqual(
      (await stack.cardsys.control.getCard(stack.school.code, payer.card.cardNo)).alipayBind,
      null,
    );
  });

  it('keeps retrying the card-system bind while it fails, and binds once it answers', async () => {
    const payer = await userWithCard(stack);
    const bindCalls = async () =>
      (await stack.cardsys.control.getSchool(stack.school.code)).stats.calls.ZFB_BindDoc ?? 0;
    const callsBefore = await bindCalls();
    await stack.cardsys.control.injectFault({
      schoolCode: stack.school.code,
      operation: 'ZFB_BindDoc',
      kind: 'SOAP_FAULT',
      times: 2,
    });
    const sign = await payer.api.post('/api/v1/withholding/sign', { bindingId: payer.bindingId });
    await stack.alipay.control.signAgreement({ signStr: sign.body.signStr, userId: payer.user.userId });
    await eventually(
      async () => (await payer.api.get('/api/v1/withholding')).body.items[0].cards[0]?.isBoundAtCardSystem,
    );
    // Both injected refusals were met, and the bind that finally went through was a third call.
    assert.equal(
      (await stack.cardsys.control.listFaults()).filter((f) => f.operation === 'ZFB_BindDoc').length,
      0,
    );
    assert.equal((await bindCalls()) - callsBefore, 3);
  });

  it('ends withholding from the mini-program: unsigned at Alipay, bind doc removed, swipes no longer approved', async () => {
    const payer = await signedPayer(stack);
    const res = await payer.api.delete(`/api/v1/withholding?schoolId=${stack.school.id}`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.status, 'UNSIGNED');
    assert.equal(res.body.cards[0].isBoundAtCardSystem, false);
    assert.equal((await stack.alipay.control.getAgreement(payer.agreementNo)).status, 'UNSIGN');
    assert.equal(
      (await stack.cardsys.control.getCard(stack.school.code, payer.card.cardNo)).alipayBind,
      null,
    );
    const swipe = await gateway.deduct(sale(payer.card.cardNo, 100));
    assert.deepEqual([swipe.body.decision, swipe.body.reason], ['DECLINED', 'NOT_BOUND']);
    assert.equal((await payer.api.delete('/api/v1/withholding')).status, 404);
  });

  it('stops approvals at once when the user unsigns inside Alipay, before the card system has caught up', async () => {
    const payer = await signedPayer(stack);
    await stack.cardsys.control.injectFault({
      schoolCode: stack.school.code,
      operation: 'ZFB_UnBindDoc',
      kind: 'SOAP_FAULT',
      times: 5,
    });
    await stack.alipay.control.unsignAgreement(payer.agreementNo);
    await eventually(
      async () => (await payer.api.get('/api/v1/withholding')).body.items[0].status === 'UNSIGNED',
    );
    const swipe = await gateway.deduct(sale(payer.card.cardNo, 100));
    assert.deepEqual([swipe.body.decision, swipe.body.reason], ['DECLINED', 'NOT_SIGNED']);
    await eventually(
      async () =>
        (await stack.cardsys.control.getCard(stack.school.code, payer.card.cardNo)).alipayBind === null,
      { message: 'bind doc removed once the card system answers' },
    );
  });

  it('refuses to sign for a card another user already pays, twice, without the school switch, or for a stranger', async () => {
    const payer = await signedPayer(stack);
    assert.equal(
      (await payer.api.post('/api/v1/withholding/sign', { bindingId: payer.bindingId })).body.error.code,
      'AGREEMENT_EXISTS',
    );
    const parent = await stack.createUser();
    const parentApi = await parent.login();
    const bound = await parentApi.post('/api/v1/bindings', {
      schoolId: stack.school.id,
      cardNo: payer.card.cardNo,
      name: payer.card.holderName,
      relation: 'PARENT',
      studentNo: payer.card.studentNo,
    });
    const other = await parentApi.post('/api/v1/withholding/sign', { bindingId: bound.body.id });
    assert.equal(other.status, 409);
    assert.equal(other.body.error.code, 'CARD_PAID_BY_OTHER', 'says that someone else pays this card');
    assert.equal(
      (await parentApi.post('/api/v1/withholding/sign', { bindingId: payer.bindingId })).status,
      404,
      "someone else's binding",
    );
    assert.equal(
      (await parentApi.post('/api/v1/withholding/sign', { bindingId: 'nope' })).body.error.field,
      'body.bindingId',
    );

    const school = await stack.addSchool({ settings: { withholdingEnabled: false } });
    const card = await stack.createCard({ schoolCode: school.code });
    const closed = await parentApi.post('/api/v1/bindings', {
      schoolId: school.id,
      cardNo: card.cardNo,
      name: card.holderName,
      relation: 'PARENT',
      studentNo: card.studentNo,
    });
    const refused = await parentApi.post('/api/v1/withholding/sign', { bindingId: closed.body.id });
    assert.equal(refused.status, 409);
    assert.equal(refused.body.error.code, 'WITHHOLDING_DISABLED');
  });
});
