import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { startTestApp, type TestApp } from '../../support/app.js';
import { request } from '../../support/http.js';

async function login(app: TestApp, headers: Record<string, string> = {}) {
  // No Alipay settings on this app: a login that gets past the limit answers 503 ALIPAY_UNAVAILABLE.
  return request('POST', `${app.url}/api/v1/session`, { body: { authCode: 'code-1234' }, headers });
}

describe('rate limits', () => {
  describe('per address, with no proxy configured', () => {
    let app: TestApp;
    before(async () => {
      app = await startTestApp({
        env: { RATE_LIMIT_SCALE: '1', RATE_LIMITS: 'session-ip=3/60,api-user=2/60,crm-ip=2/60' },
      });
    });
    after(() => app.stop());

    it('answers 429 with a retry time once an address has used its logins, whatever X-Forwarded-For says', async () => {
      for (let i = 0; i < 3; i += 1) {
        const res = await login(app, { 'x-forwarded-for': `198.51.100.${i}` });
        assert.equal(res.status, 503, res.text);
      }
      const limited = await login(app, { 'x-forwarded-for': '198.51.100.99' });
      assert.equal(limited.status, 429, limited.text);
      assert.equal(limited.body.error.code, 'RATE_LIMITED');
      assert.equal(limited.body.error.details.limit, 'session-ip');
      const retryAfter = Number(limited.headers.get('retry-after'));
      assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
      assert.equal(limited.body.error.details.retryAfterSeconds, retryAfter);
    });

    it('counts a signed-in user on their own budget, shared by every process on the database', async () => {
      const userId = crypto.randomUUID();
      const { token } = app.deps.sessions.issue(userId);
      const other = app.deps.sessions.issue(crypto.randomUUID()).token;
      assert.equal((await request('GET', `${app.url}/api/v1/me`, { token })).status, 200);
      assert.equal((await request('GET', `${app.url}/api/v1/debts`, { token })).status, 200);
      const third = await request('GET', `${app.url}/api/v1/me`, { token });
      assert.equal(third.status, 429);
      assert.equal(third.body.error.details.limit, 'api-user');
      assert.equal((await request('GET', `${app.url}/api/v1/me`, { token: other })).status, 200);
      const rows = await app.deps.pool.query(`select points from rate_limits where key = $1`, [
        `api-user:${userId}`,
      ]);
      assert.equal(rows.rows[0].points, 3);
    });
    it('counts card management’s CRM calls per address, wrong tokens too, and answers in its shape', async () => {
      const openCard = () =>
        request('POST', `${app.url}/crm/card/openCardInfo`, {
          body: { alipayUserId: '2088000000000001' },
          headers: { token: 'not-a-token-of-any-school' },
        });
      assert.deepEqual([(await openCard()).status, (await openCard()).status], [401, 401]);
      const limited = await openCard();
      assert.equal(limited.status, 429, limited.text);
      assert.deepEqual(
        [limited.body.status, limited.body.error.code, limited.body.error.details.limit],
        ['FAIL', 'RATE_LIMITED', 'crm-ip'],
      );
      assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    });
  });

  describe('behind a trusted proxy', () => {
    let app: TestApp;
    before(async () => {
      app = await startTestApp({
        env: {
          RATE_LIMIT_SCALE: '1',
          RATE_LIMITS: 'session-ip=2/60',
          TRUSTED_PROXIES: '127.0.0.1,10.0.0.0/8',
        },
      });
    });
    after(() => app.stop());

    it('counts the client the proxy saw: the right-most address that is not one of our proxies', async () => {
      const client = { 'x-forwarded-for': '203.0.113.5, 10.1.2.3' };
      assert.equal((await login(app, client)).status, 503);
      assert.equal((await login(app, client)).status, 503);
      assert.equal((await login(app, client)).status, 429);
      // A spoofed left-most entry does not buy a new budget: the proxy's own append is what counts.
      assert.equal((await login(app, { 'x-forwarded-for': '1.2.3.4, 203.0.113.5, 10.1.2.3' })).status, 429);
      assert.equal((await login(app, { 'x-forwarded-for': '203.0.113.6' })).status, 503);
    });
  });

  it('refuses a RATE_LIMITS override that names no limit', async () => {
    await assert.rejects(
      startTestApp({ env: { RATE_LIMITS: 'sesion-ip=2/60' } }),
      /RATE_LIMITS: unknown limit sesion-ip/,
    );
  });
});
