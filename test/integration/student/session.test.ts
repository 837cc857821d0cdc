import assert from 'node:assert/strict';
import { ManualClock } from '../../../server/src/lib/clock.js';
import { client } from '../../support/http.js';
import { startStack, type Stack } from '../../support/stack.js';

describe('silent login and sessions', () => {
  let stack: Stack;
  const clock = new ManualClock();
  before(async () => {
    stack = await startStack({ clock, env: { SESSION_TTL_SECONDS: '3600' } });
  });
  after(() => stack.stop());

  it('turns an auth_base code into a session for the Alipay user', async () => {
    const user = await stack.createUser();
    const { authCode } = await stack.alipay.control.issueAuthCode({
      userId: user.userId,
      appId: stack.alipay.appId,
    });
    const res = await stack.app.http.post('/api/v1/session', { authCode });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.expiresIn, 3600);
    assert.match(res.body.user.id, /^[0-9a-f-]{36}$/);
    const me = await client(stack.app.url, res.body.token).get('/api/v1/me');
    assert.equal(me.status, 200);
    assert.deepEqual(me.body, {
      user: res.body.user,
      bindings: [],
      withholding: [],
      debts: { totalFen: 0, count: 0 },
    });
  });

  it('recognises the same Alipay user on the next login', async () => {
    const user = await stack.createUser();
    const first = await user.login();
    const second = await user.login();
    assert.equal((await first.get('/api/v1/me')).body.user.id, (await second.get('/api/v1/me')).body.user.id);
  });

  it('refuses an auth code that was already used', async () => {
    const user = await stack.createUser();
    const { authCode } = await stack.alipay.control.issueAuthCode({
      userId: user.userId,
      appId: stack.alipay.appId,
    });
    assert.equal((await stack.app.http.post('/api/v1/session', { authCode })).status, 200);
    const again = await stack.app.http.post('/api/v1/session', { authCode });
    assert.equal(again.status, 401);
    assert.equal(again.body.error.code, 'ALIPAY_AUTH_FAILED');
  });

  it('names the missing field when there is no auth code', async () => {
    const res = await stack.app.http.post('/api/v1/session', {});
    assert.equal(res.status, 400);
    assert.equal(res.body.error.code, 'VALIDATION_FAILED');
    assert.equal(res.body.error.field, 'body.authCode');
  });

  it('answers 503 when Alipay does not answer, so the client can retry', async () => {
    const user = await stack.createUser();
    const { authCode } = await stack.alipay.control.issueAuthCode({
      userId: user.userId,
      appId: stack.alipay.appId,
    });
    await stack.alipay.control.injectApiFault({
      method: 'alipay.system.oauth.token',
      times: 1,
      error: { subCode: 'isp.unknow-error' },
    });
    const res = await stack.app.http.post('/api/v1/session', { authCode });
    assert.equal(res.status, 503);
    assert.equal(res.body.error.code, 'ALIPAY_UNAVAILABLE');
  });

  it('refuses requests without a session, with a forged one, and with an expired one', async () => {
    const noToken = await stack.app.http.get('/api/v1/me');
    assert.equal(noToken.status, 401);
    assert.equal(noToken.body.error.code, 'UNAUTHENTICATED');

    const user = await stack.createUser();
    const api = await user.login();
    const [v, id, exp, mac] = api.token.split('.');
    const forged = await client(
      stack.app.url,
      [v, '00000000-0000-4000-8000-000000000000', exp, mac].join('.'),
    ).get('/api/v1/me');
    assert.equal(forged.status, 401);
    assert.equal(forged.body.error.code, 'UNAUTHENTICATED');
    assert.ok(id);

    clock.advance(3601_000);
    const expired = await api.get('/api/v1/me');
    assert.equal(expired.status, 401);
    assert.equal(expired.body.error.code, 'SESSION_EXPIRED');
  });

  it('answers unknown mini-program paths with 404, not 401', async () => {
    const res = await stack.app.http.get('/api/v1/nothing-here');
    assert.equal(res.status, 404);
  });
});
