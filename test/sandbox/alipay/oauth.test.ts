import assert from 'node:assert/strict';
import { newAppKeys, sdkFor, startTestSandbox, type AppKeys, type TestSandbox } from './support.js';

describe('Alipay sandbox user authorisation: alipay.system.oauth.token and alipay.user.info.share', () => {
  let t: TestSandbox;
  let openIdApp: AppKeys;
  let userIdApp: AppKeys;
  let bothApp: AppKeys;

  before(async () => {
    [openIdApp, userIdApp, bothApp] = [newAppKeys(), newAppKeys(), newAppKeys()];
    t = await startTestSandbox({
      apps: [
        { appId: openIdApp.appId, publicKey: openIdApp.publicKey, idMode: 'open_id' },
        { appId: userIdApp.appId, publicKey: userIdApp.publicKey, idMode: 'user_id' },
      ],
    });
    await t.control.registerApp({ appId: bothApp.appId, publicKey: bothApp.publicKey, idMode: 'both' });
  });
  after(() => t.close());

  const exchange = async (app: AppKeys, code: string) =>
    sdkFor(t.sandbox, app).exec('alipay.system.oauth.token', { grantType: 'authorization_code', code });

  it('gives an openid app only the app-scoped open_id, with numeric expires_in and no code/msg', async () => {
    const user = await t.control.createUser();
    const { authCode } = await t.control.issueAuthCode({ userId: user.userId, appId: openIdApp.appId });
    const token = await sdkFor(t.sandbox, openIdApp).exec(
      'alipay.system.oauth.token',
      { grantType: 'authorization_code', code: authCode },
      { validateSign: true },
    );
    assert.equal(token.code, undefined);
    assert.equal(token.msg, undefined);
    assert.equal(token.openId, user.openIds[openIdApp.appId]);
    assert.equal(token.userId, undefined);
    assert.equal(token.expiresIn, 1296000);
    assert.equal(token.reExpiresIn, 2592000);
    assert.match(token.accessToken, /^authusrB[0-9a-f]{32}X01$/);
    assert.notEqual(user.openIds[openIdApp.appId], user.openIds[userIdApp.appId]);
  });

  it('gives a user_id app the 2088 user_id, and an app in migration both ids', async () => {
    const user = await t.control.createUser();
    const first = await t.control.issueAuthCode({ userId: user.userId, appId: userIdApp.appId });
    const legacy = await exchange(userIdApp, first.authCode);
    assert.equal(legacy.userId, user.userId);
    assert.match(legacy.userId, /^2088\d{12}$/);
    assert.equal(legacy.openId, undefined);

    const second = await t.control.issueAuthCode({ userId: user.userId, appId: bothApp.appId });
    const both = await exchange(bothApp, second.authCode);
    assert.equal(both.userId, user.userId);
    assert.equal(both.openId, user.openIds[bothApp.appId]);
  });

  it('accepts a code once only, answering a reuse with a signed error_response isv.code-invalid', async () => {
    const user = await t.control.createUser();
    const { authCode } = await t.control.issueAuthCode({ userId: user.userId, appId: openIdApp.appId });
    await exchange(openIdApp, authCode);
    const again = await exchange(openIdApp, authCode);
    assert.equal(again.code, '40002');
    assert.equal(again.subCode, 'isv.code-invalid');
  });

  it('refuses a code issued for another app, and an expired one', async () => {
    const user = await t.control.createUser();
    const forOther = await t.control.issueAuthCode({ userId: user.userId, appId: userIdApp.appId });
    assert.equal((await exchange(openIdApp, forOther.authCode)).subCode, 'isv.code-invalid');

    const shortLived = await t.control.issueAuthCode({
      userId: user.userId,
      appId: openIdApp.appId,
      ttlSeconds: 60,
    });
    await t.control.advanceClock({ seconds: 61 });
    assert.equal((await exchange(openIdApp, shortLived.authCode)).subCode, 'isv.code-invalid');
  });

  it('refreshes with refresh_token once, and rejects unknown grant types', async () => {
    const user = await t.control.createUser();
    const { authCode } = await t.control.issueAuthCode({ userId: user.userId, appId: openIdApp.appId });
    const token = await exchange(openIdApp, authCode);
    const sdk = sdkFor(t.sandbox, openIdApp);
    const refreshed = await sdk.exec('alipay.system.oauth.token', {
      grantType: 'refresh_token',
      refreshToken: token.refreshToken,
    });
    assert.equal(refreshed.openId, token.openId);
    assert.notEqual(refreshed.accessToken, token.accessToken);
    const reused = await sdk.exec('alipay.system.oauth.token', {
      grantType: 'refresh_token',
      refreshToken: token.refreshToken,
    });
    assert.equal(reused.subCode, 'isv.refreshed-token-invalid');
    const wrong = await sdk.exec('alipay.system.oauth.token', { grantType: 'password', code: 'x' });
    assert.equal(wrong.subCode, 'isv.grant-type-invalid');
  });

  it('shares the profile for an auth_user token, and refuses auth_base tokens and unknown tokens', async () => {
    const user = await t.control.createUser({
      nickName: '小明',
      avatar: 'https://example.test/a/b.png',
      gender: 'M',
    });
    const sdk = sdkFor(t.sandbox, openIdApp);
    const consent = await t.control.issueAuthCode({
      userId: user.userId,
      appId: openIdApp.appId,
      scopes: 'auth_user',
    });
    const token = await exchange(openIdApp, consent.authCode);
    const profile = await sdk.exec(
      'alipay.user.info.share',
      { authToken: token.accessToken },
      { validateSign: true },
    );
    assert.equal(profile.code, '10000');
    assert.equal(profile.nickName, '小明');
    assert.equal(profile.avatar, 'https://example.test/a/b.png');
    assert.equal(profile.openId, user.openIds[openIdApp.appId]);

    const silent = await t.control.issueAuthCode({ userId: user.userId, appId: openIdApp.appId });
    const baseToken = await exchange(openIdApp, silent.authCode);
    const refused = await sdk.exec('alipay.user.info.share', { authToken: baseToken.accessToken });
    assert.equal(refused.code, '40006');
    assert.equal(refused.subCode, 'isv.insufficient-user-permissions');

    const unknown = await sdk.exec('alipay.user.info.share', { authToken: 'authusrBdeadbeefX01' });
    assert.equal(unknown.code, '20001');
    assert.equal(unknown.subCode, 'aop.invalid-auth-token');
  });
});
