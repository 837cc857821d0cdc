import assert from 'node:assert/strict';
import type { AlipaySdk } from 'alipay-sdk';
import {
  newAppKeys,
  sdkFor,
  startNotifyReceiver,
  startTestSandbox,
  uniqueNo,
  type AppKeys,
  type NotifyReceiver,
  type TestSandbox,
} from './support.js';

describe('Alipay sandbox ISV calls: app_auth_code → alipay.open.auth.token.app → app_auth_token', () => {
  let t: TestSandbox;
  let isv: AppKeys;
  let otherIsv: AppKeys;
  let sdk: AlipaySdk;
  let inbox: NotifyReceiver;

  before(async () => {
    [isv, otherIsv] = [newAppKeys(), newAppKeys()];
    t = await startTestSandbox({
      apps: [
        { appId: isv.appId, publicKey: isv.publicKey, idMode: 'open_id' },
        { appId: otherIsv.appId, publicKey: otherIsv.publicKey, idMode: 'open_id' },
      ],
    });
    sdk = sdkFor(t.sandbox, isv);
    inbox = await startNotifyReceiver();
  });
  after(async () => {
    await inbox.close();
    await t.close();
  });

  async function authorizedSchool() {
    const authorization = await t.control.authorizeMerchant({
      isvAppId: isv.appId,
      merchantName: '示范学校',
    });
    const exchanged = await sdk.exec(
      'alipay.open.auth.token.app',
      { bizContent: { grantType: 'authorization_code', code: authorization.appAuthCode } },
      { validateSign: true },
    );
    return { authorization, exchanged, token: exchanged.tokens[0] as Record<string, string | number> };
  }

  it('exchanges the app_auth_code for tokens[] with the school app id and PID; the code works once', async () => {
    const { authorization, exchanged, token } = await authorizedSchool();
    assert.equal(exchanged.code, '10000');
    assert.equal(token.authAppId, authorization.authAppId);
    assert.equal(token.userId, authorization.sellerId);
    assert.equal(token.expiresIn, 31536000);
    assert.ok(token.appAuthToken && token.appRefreshToken);
    const again = await sdk.exec('alipay.open.auth.token.app', {
      bizContent: { grantType: 'authorization_code', code: authorization.appAuthCode },
    });
    assert.equal(again.subCode, 'AUTH_CODE_NOT_VALID');
  });

  it('refuses a code issued to another ISV app, and refreshes with app_refresh_token', async () => {
    const authorization = await t.control.authorizeMerchant({ isvAppId: isv.appId });
    const stolen = await sdkFor(t.sandbox, otherIsv).exec('alipay.open.auth.token.app', {
      bizContent: { grantType: 'authorization_code', code: authorization.appAuthCode },
    });
    assert.equal(stolen.subCode, 'APP_ID_NOT_CONSISTENT');
    const { token } = await authorizedSchool();
    const refreshed = await sdk.exec('alipay.open.auth.token.app', {
      bizContent: { grantType: 'refresh_token', refreshToken: token.appRefreshToken },
    });
    assert.equal(refreshed.tokens[0].authAppId, token.authAppId);
    assert.notEqual(refreshed.tokens[0].appAuthToken, token.appAuthToken);
  });

  it("acts for the school with app_auth_token: the school's seller_id, auth_app_id in notifications, trades scoped to it", async () => {
    const { authorization, token } = await authorizedSchool();
    const user = await t.control.createUser({ balanceFen: 1000 });
    const outTradeNo = uniqueNo('ISV');
    const created = await sdk.exec(
      'alipay.trade.create',
      {
        appAuthToken: token.appAuthToken,
        notifyUrl: inbox.url,
        bizContent: {
          outTradeNo,
          totalAmount: '5.00',
          subject: '充值',
          buyerOpenId: user.openIds[isv.appId],
        },
      },
      { validateSign: true },
    );
    assert.equal(created.code, '10000');
    await t.control.payTrade({ tradeNO: created.tradeNo, userId: user.userId });
    const [notification] = await t.control.waitForNotifications({ outTradeNo });
    assert.equal(notification.fields.app_id, isv.appId);
    assert.equal(notification.fields.auth_app_id, authorization.authAppId);
    assert.equal(notification.fields.seller_id, authorization.sellerId);

    const withToken = await sdk.exec('alipay.trade.query', {
      appAuthToken: token.appAuthToken,
      bizContent: { outTradeNo },
    });
    assert.equal(withToken.tradeStatus, 'TRADE_SUCCESS');
    const withoutToken = await sdk.exec('alipay.trade.query', { bizContent: { outTradeNo } });
    assert.equal(withoutToken.subCode, 'ACQ.TRADE_NOT_EXIST');
    const ledger = await t.control.ledger({ outTradeNo });
    assert.equal(ledger.merchants.find((m) => m.sellerId === authorization.sellerId)?.balanceFen, 500);
  });

  it('answers an unknown app_auth_token, or one used by another ISV app, with 20001 aop.invalid-app-auth-token', async () => {
    const { token } = await authorizedSchool();
    const unknown = await sdk.exec('alipay.trade.query', {
      appAuthToken: '202601BBdeadbeef',
      bizContent: { outTradeNo: 'x' },
    });
    assert.deepEqual([unknown.code, unknown.subCode], ['20001', 'aop.invalid-app-auth-token']);
    const borrowed = await sdkFor(t.sandbox, otherIsv).exec('alipay.trade.query', {
      appAuthToken: token.appAuthToken,
      bizContent: { outTradeNo: 'x' },
    });
    assert.equal(borrowed.subCode, 'aop.invalid-app-auth-token');
  });

  it('binds withholding agreements signed with an app_auth_token to that school', async () => {
    const { token } = await authorizedSchool();
    const user = await t.control.createUser({ balanceFen: 1000 });
    const signStr = encodeURIComponent(
      sdk.sdkExecute('alipay.user.agreement.page.sign', {
        appAuthToken: token.appAuthToken,
        bizContent: { personalProductCode: 'GENERAL_WITHHOLDING_P', signScene: 'INDUSTRY|CAMPUS_CARD' },
      }),
    );
    const { agreementNo, resultStatus } = await t.control.signAgreement({ signStr, userId: user.userId });
    assert.equal(resultStatus, '7000');
    const pay = (appAuthToken?: string) =>
      sdk.exec('alipay.trade.pay', {
        ...(appAuthToken ? { appAuthToken } : {}),
        bizContent: {
          outTradeNo: uniqueNo('WH'),
          totalAmount: '1.00',
          subject: '食堂',
          productCode: 'GENERAL_WITHHOLDING',
          agreementParams: { agreementNo },
        },
      });
    assert.equal((await pay()).subCode, 'ACQ.AGREEMENT_NOT_EXIST');
    assert.equal((await pay(String(token.appAuthToken))).code, '10000');
  });
});
