import assert from 'node:assert/strict';
import type { AlipaySdk } from 'alipay-sdk';
import {
  newAppKeys,
  sdkFor,
  startNotifyReceiver,
  startTestSandbox,
  uniqueNo,
  waitFor,
  type AppKeys,
  type NotifyReceiver,
  type TestSandbox,
} from './support.js';

describe('Alipay sandbox withholding: signStr → my.paySignCenter → agreement → GENERAL_WITHHOLDING pay → unsign', () => {
  let t: TestSandbox;
  let app: AppKeys;
  let otherApp: AppKeys;
  let receiver: NotifyReceiver;
  let sdk: AlipaySdk;

  before(async () => {
    [app, otherApp] = [newAppKeys(), newAppKeys()];
    t = await startTestSandbox({
      apps: [
        { appId: app.appId, publicKey: app.publicKey, idMode: 'open_id' },
        { appId: otherApp.appId, publicKey: otherApp.publicKey, idMode: 'open_id' },
      ],
    });
    receiver = await startNotifyReceiver();
    sdk = sdkFor(t.sandbox, app);
  });
  after(async () => {
    await receiver.close();
    await t.close();
  });

  function signStrFor(client: AlipaySdk, externalAgreementNo = uniqueNo('EA').replaceAll('_', '')): string {
    return encodeURIComponent(
      client.sdkExecute('alipay.user.agreement.page.sign', {
        notifyUrl: receiver.url,
        bizContent: {
          personalProductCode: 'GENERAL_WITHHOLDING_P',
          productCode: 'GENERAL_WITHHOLDING',
          signScene: 'INDUSTRY|CAMPUS_CARD',
          externalAgreementNo,
          accessParams: { channel: 'ALIPAYAPP' },
        },
      }),
    );
  }

  const withhold = (agreementNo: string, totalAmount = '8.50', client = sdk) =>
    client.exec(
      'alipay.trade.pay',
      {
        bizContent: {
          outTradeNo: uniqueNo('D'),
          totalAmount,
          subject: '食堂消费',
          productCode: 'GENERAL_WITHHOLDING',
          agreementParams: { agreementNo },
        },
      },
      { validateSign: true },
    );

  it('signs from a signStr: 7000 with a signed result, a 20-digit agreement_no and a verified dut_user_sign notification', async () => {
    const user = await t.control.createUser({ balanceFen: 5000 });
    const signed = await t.control.signAgreement({
      signStr: signStrFor(sdk, 'CAMPUS0001'),
      userId: user.userId,
    });
    assert.equal(signed.resultStatus, '7000');
    assert.match(signed.agreementNo!, /^\d{20}$/);
    const result = JSON.parse(signed.result) as Record<string, Record<string, string> | string>;
    const inner = result.alipay_user_agreement_page_sign_response as Record<string, string>;
    assert.equal(inner.status, 'NORMAL');
    assert.equal(inner.external_agreement_no, 'CAMPUS0001');
    const innerText = /"alipay_user_agreement_page_sign_response":(\{[^}]*\})/.exec(signed.result)![1];
    assert.ok(sdk.rsaCheck(innerText, result.sign as string, 'RSA2'));

    const notice = await waitFor(
      () => receiver.received.find((n) => n.fields.agreement_no === signed.agreementNo),
      'dut_user_sign',
    );
    assert.equal(notice.fields.notify_type, 'dut_user_sign');
    assert.equal(notice.fields.status, 'NORMAL');
    assert.equal(notice.fields.alipay_open_id, user.openIds[app.appId]);
    assert.equal(notice.fields.personal_product_code, 'GENERAL_WITHHOLDING_P');
    assert.equal(notice.fields.sign_scene, 'INDUSTRY|CAMPUS_CARD');
    assert.equal(notice.fields.invalid_time, '2115-02-01 00:00:00');
    assert.ok(sdk.checkNotifySignV2(notice.fields));
  });

  it('answers agreement.query with NORMAL by agreement_no and by external number + product + scene + user', async () => {
    const user = await t.control.createUser();
    const { agreementNo } = await t.control.signAgreement({
      signStr: signStrFor(sdk, 'CAMPUS0002'),
      userId: user.userId,
    });
    const byNo = await sdk.exec(
      'alipay.user.agreement.query',
      { bizContent: { agreementNo } },
      { validateSign: true },
    );
    assert.equal(byNo.status, 'NORMAL');
    assert.equal(byNo.principalOpenId, user.openIds[app.appId]);
    const byExternal = await sdk.exec('alipay.user.agreement.query', {
      bizContent: {
        personalProductCode: 'GENERAL_WITHHOLDING_P',
        signScene: 'INDUSTRY|CAMPUS_CARD',
        externalAgreementNo: 'CAMPUS0002',
        alipayOpenId: user.openIds[app.appId],
      },
    });
    assert.equal(byExternal.agreementNo, agreementNo);
  });

  it('withholds from the agreement owner, and refuses when the balance is short', async () => {
    const user = await t.control.createUser({ balanceFen: 1000 });
    const { agreementNo } = await t.control.signAgreement({ signStr: signStrFor(sdk), userId: user.userId });
    const paid = await withhold(agreementNo!, '8.50');
    assert.equal(paid.code, '10000');
    assert.equal(paid.buyerOpenId, user.openIds[app.appId]);
    assert.equal((await t.control.getUser(user.userId)).balanceFen, 150);
    assert.equal((await withhold(agreementNo!, '2.00')).subCode, 'ACQ.BUYER_BALANCE_NOT_ENOUGH');
  });

  it('after the user unsigns: dut_user_unsign is sent, query says USER_AGREEMENT_NOT_EXIST, pay says ACQ.AGREEMENT_INVALID', async () => {
    const user = await t.control.createUser({ balanceFen: 1000 });
    const { agreementNo } = await t.control.signAgreement({ signStr: signStrFor(sdk), userId: user.userId });
    await t.control.unsignAgreement(agreementNo!);
    const [unsign] = await t.control.waitForNotifications({ agreementNo, notifyType: 'dut_user_unsign' });
    assert.equal(unsign.fields.status, 'UNSIGN');
    assert.ok(unsign.fields.unsign_time);
    const query = await sdk.exec('alipay.user.agreement.query', { bizContent: { agreementNo } });
    assert.equal(query.subCode, 'USER_AGREEMENT_NOT_EXIST');
    assert.equal((await withhold(agreementNo!)).subCode, 'ACQ.AGREEMENT_INVALID');
    assert.equal((await t.control.getUser(user.userId)).balanceFen, 1000);
  });

  it('refuses an unknown agreement_no and an agreement signed for another app (ACQ.AGREEMENT_NOT_EXIST)', async () => {
    const user = await t.control.createUser({ balanceFen: 1000 });
    assert.equal((await withhold('20260000000000000000')).subCode, 'ACQ.AGREEMENT_NOT_EXIST');
    const other = sdkFor(t.sandbox, otherApp);
    const { agreementNo } = await t.control.signAgreement({
      signStr: signStrFor(other),
      userId: user.userId,
    });
    assert.equal((await withhold(agreementNo!)).subCode, 'ACQ.AGREEMENT_NOT_EXIST');
    assert.equal((await withhold(agreementNo!, '1.00', other)).code, '10000');
  });

  it('lets the merchant unsign through alipay.user.agreement.unsign; a second unsign is refused', async () => {
    const user = await t.control.createUser();
    const { agreementNo } = await t.control.signAgreement({ signStr: signStrFor(sdk), userId: user.userId });
    const done = await sdk.exec(
      'alipay.user.agreement.unsign',
      { notifyUrl: receiver.url, bizContent: { agreementNo } },
      { validateSign: true },
    );
    assert.equal(done.code, '10000');
    await t.control.waitForNotifications({ agreementNo, notifyType: 'dut_user_unsign' });
    const again = await sdk.exec('alipay.user.agreement.unsign', { bizContent: { agreementNo } });
    assert.equal(again.subCode, 'USER_AGREEMENT_STATUS_NOT_NORMAL');
  });

  it('answers 6001 when the user leaves and 7002 when signing fails, creating no agreement', async () => {
    const user = await t.control.createUser();
    const cancelled = await t.control.signAgreement({
      signStr: signStrFor(sdk),
      userId: user.userId,
      action: 'cancel',
    });
    assert.deepEqual(cancelled, { resultStatus: '6001', result: '' });
    const denied = await t.control.signAgreement({
      signStr: signStrFor(sdk),
      userId: user.userId,
      action: 'deny',
    });
    assert.equal(denied.resultStatus, '7002');
    assert.equal((await t.control.ledger({ userId: user.userId })).agreements.length, 0);
  });

  it('verifies the signStr: a changed biz_content or a string that was not URL-encoded once more is refused (7002)', async () => {
    const user = await t.control.createUser();
    const orderStr = sdk.sdkExecute('alipay.user.agreement.page.sign', {
      notifyUrl: receiver.url,
      bizContent: { personalProductCode: 'GENERAL_WITHHOLDING_P', signScene: 'INDUSTRY|CAMPUS_CARD' },
    });
    const tampered = encodeURIComponent(orderStr.replace('GENERAL_WITHHOLDING_P', 'CYCLE_PAY_AUTH_P'));
    const refused = await t.control.signAgreement({ signStr: tampered, userId: user.userId });
    assert.equal(refused.resultStatus, '7002');
    assert.match(refused.memo!, /invalid signature/);
    const raw = await t.control.signAgreement({ signStr: orderStr, userId: user.userId });
    assert.equal(raw.resultStatus, '7002');
    assert.match(raw.memo!, /encodeURIComponent/);
    const good = await t.control.signAgreement({
      signStr: encodeURIComponent(orderStr),
      userId: user.userId,
    });
    assert.equal(good.resultStatus, '7000');
  });
});
