import assert from 'node:assert/strict';
import type { AlipaySdk } from 'alipay-sdk';
import {
  newAppKeys,
  sdkFor,
  startNotifyReceiver,
  startTestSandbox,
  waitFor,
  type AppKeys,
  type NotifyReceiver,
  type TestSandbox,
} from './support.js';

/**
 * What the sandbox adds for school onboarding (issue 10, ALIPAY-M2.md §4): the authorization page, the
 * token's life on the sandbox clock (.query, expiry, refresh), a new authorization replacing the old one,
 * the cancellation inside Alipay with its message, and open_app_auth_notify to the app gateway.
 */
describe('Alipay sandbox ISV authorization: page, .query, expiry, cancellation, app gateway', () => {
  let t: TestSandbox;
  let isv: AppKeys;
  let sdk: AlipaySdk;
  let gateway: NotifyReceiver;
  const CALLBACK = 'https://isv.example.com/isv/alipay/callback';

  before(async () => {
    isv = newAppKeys();
    gateway = await startNotifyReceiver();
    t = await startTestSandbox({
      apps: [
        {
          appId: isv.appId,
          publicKey: isv.publicKey,
          idMode: 'open_id',
          appGatewayUrl: gateway.url,
          messageTopics: ['alipay.open.auth.appauth.cancelled'],
          authRedirectUri: CALLBACK,
        },
      ],
    });
    sdk = sdkFor(t.sandbox, isv);
  });
  after(async () => {
    await gateway.close();
    await t.close();
  });

  const link = (state = 'abc123', redirect = CALLBACK) =>
    `${t.sandbox.url}/oauth2/appToAppAuth.htm?app_id=${isv.appId}&application_type=TINYAPP&redirect_uri=${encodeURIComponent(redirect)}&state=${state}`;

  async function exchange(code: string) {
    const res = await sdk.exec('alipay.open.auth.token.app', {
      bizContent: { grantType: 'authorization_code', code },
    });
    return res.tokens[0] as {
      appAuthToken: string;
      appRefreshToken: string;
      authAppId: string;
      userId: string;
    };
  }

  const query = (appAuthToken: string) =>
    sdk.exec('alipay.open.auth.token.app.query', { bizContent: { appAuthToken } });

  it('shows the authorization page and redirects to the callback with a fresh code and the state', async () => {
    const page = await fetch(link());
    assert.equal(page.status, 200);
    assert.match(await page.text(), /确认授权/);
    const { redirectUrl, appAuthCode } = await t.control.authorizeLink(link('s-1'), {
      merchantName: '页面大学',
    });
    const redirect = new URL(redirectUrl);
    assert.equal(`${redirect.origin}${redirect.pathname}`, CALLBACK);
    assert.deepEqual(
      [
        redirect.searchParams.get('app_id'),
        redirect.searchParams.get('state'),
        redirect.searchParams.get('source'),
      ],
      [isv.appId, 's-1', 'alipay_app_auth'],
    );
    const token = await exchange(appAuthCode);
    assert.ok(token.appAuthToken);
  });

  it('refuses a redirect_uri other than the app’s configured callback, and an unknown app', async () => {
    assert.equal((await fetch(link('x', 'https://evil.example.com/cb'))).status, 400);
    const unknown = await fetch(
      `${t.sandbox.url}/oauth2/appToAppAuth.htm?app_id=2021999999999999&redirect_uri=${encodeURIComponent(CALLBACK)}`,
    );
    assert.equal(unknown.status, 400);
  });

  it('answers .query valid, then invalid once the token expired on the sandbox clock; the refresh token still works', async () => {
    const { appAuthCode } = await t.control.authorizeLink(link());
    const token = await exchange(appAuthCode);
    const fresh = await query(token.appAuthToken);
    assert.deepEqual([fresh.code, fresh.status, fresh.authAppId], ['10000', 'valid', token.authAppId]);
    assert.ok(fresh.authMethods.includes('alipay.trade.create'));
    await t.control.advanceClock({ days: 366 });
    assert.equal((await query(token.appAuthToken)).status, 'invalid');
    const expired = await sdk.exec('alipay.trade.query', {
      appAuthToken: token.appAuthToken,
      bizContent: { outTradeNo: 'x' },
    });
    assert.deepEqual([expired.code, expired.subCode], ['20001', 'aop.app-auth-token-time-out']);
    const refreshed = await sdk.exec('alipay.open.auth.token.app', {
      bizContent: { grantType: 'refresh_token', refreshToken: token.appRefreshToken },
    });
    assert.equal((await query(refreshed.tokens[0].appAuthToken)).status, 'valid');
    assert.equal((await query('202601BBunknown')).subCode, 'AUTH_TOKEN_NOT_FOUND');
  });

  it('invalidates a school’s older token when it authorizes again as the same app', async () => {
    const first = await t.control.authorizeLink(link(), { merchantName: '再授权大学' });
    const old = await exchange(first.appAuthCode);
    const again = await t.control.authorizeLink(link(), { merchantAppId: old.authAppId });
    const renewed = await exchange(again.appAuthCode);
    assert.equal(renewed.authAppId, old.authAppId);
    assert.equal((await query(old.appAuthToken)).status, 'invalid');
    assert.equal((await query(renewed.appAuthToken)).status, 'valid');
  });

  it('sends open_app_auth_notify with the tokens to the app gateway when a code is exchanged', async () => {
    const { appAuthCode } = await t.control.authorizeLink(link());
    const token = await exchange(appAuthCode);
    const notice = await waitFor(
      () =>
        gateway.received.find(
          (n) => n.fields.notify_type === 'open_app_auth_notify' && n.fields.auth_app_id === token.authAppId,
        ),
      'open_app_auth_notify',
    );
    assert.ok(sdk.checkNotifySignV2(notice.fields), 'signed by the sandbox');
    const biz = JSON.parse(notice.fields.biz_content);
    assert.equal(biz.status, 'execute_auth');
    assert.deepEqual(
      [biz.detail.app_auth_token, biz.detail.app_auth_code, biz.detail.user_id],
      [token.appAuthToken, appAuthCode, token.userId],
    );
  });

  it('cancels inside Alipay: the token stops working and the subscribed app gets the message', async () => {
    const { appAuthCode } = await t.control.authorizeLink(link());
    const token = await exchange(appAuthCode);
    const cancelled = await t.control.cancelMerchantAuthorization({
      isvAppId: isv.appId,
      authAppId: token.authAppId,
    });
    assert.deepEqual(cancelled, { revokedTokens: 1, notified: true });
    const refused = await sdk.exec('alipay.trade.query', {
      appAuthToken: token.appAuthToken,
      bizContent: { outTradeNo: 'x' },
    });
    assert.deepEqual([refused.code, refused.subCode], ['20001', 'aop.invalid-app-auth-token']);
    assert.equal((await query(token.appAuthToken)).status, 'invalid');
    const message = await waitFor(
      () => gateway.received.find((n) => n.fields.msg_method === 'alipay.open.auth.appauth.cancelled'),
      'the cancellation message',
    );
    assert.equal(message.fields.notify_type, undefined, 'a message, not a classic notification');
    assert.ok(message.fields.utc_timestamp && message.fields.notify_id);
    assert.ok(sdk.checkNotifySignV2(message.fields));
    assert.equal(JSON.parse(message.fields.biz_content).auth_app_id, token.authAppId);

    // Without the subscription Alipay says nothing.
    await t.control.configureApp(isv.appId, { messageTopics: [] });
    const second = await exchange((await t.control.authorizeLink(link())).appAuthCode);
    const silent = await t.control.cancelMerchantAuthorization({
      isvAppId: isv.appId,
      authAppId: second.authAppId,
    });
    assert.equal(silent.notified, false);
    await t.control.configureApp(isv.appId, { messageTopics: ['alipay.open.auth.appauth.cancelled'] });
  });
});
