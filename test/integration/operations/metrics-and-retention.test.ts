import assert from 'node:assert/strict';
import { retentionJob } from '../../../server/src/jobs/retention.js';
import { startTestApp, type TestApp } from '../../support/app.js';
import { request } from '../../support/http.js';

describe('operations: /metrics and retention', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp({ env: { METRICS_TOKEN: 'a-metrics-token-0123456789' } });
  });
  after(() => app.stop());

  it('serves Prometheus metrics to a scraper with the token, and nothing without it', async () => {
    assert.equal((await request('GET', `${app.url}/metrics`)).status, 401);
    const res = await request('GET', `${app.url}/metrics`, { token: 'a-metrics-token-0123456789' });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
    for (const name of [
      'campus_http_request_seconds',
      'campus_drainer_backlog{drainer="deduction.collect"}',
      'campus_drainer_oldest_due_seconds{drainer="recharge.credit"}',
      'campus_process_cpu_user_seconds_total',
    ])
      assert.ok(res.text.includes(name), `${name} in /metrics`);
  });

  it('deletes notify_log, nonces, rate-limit counters and job history past their time, and nothing else', async () => {
    const { pool } = app.deps;
    const old = new Date(Date.now() - 400 * 86_400_000);
    const week = new Date(Date.now() - 8 * 86_400_000);
    await pool.query(
      `insert into notify_log (received_at, is_verified, outcome, body) values
         ($1, true, 'APPLIED', '{}'), ($2, true, 'APPLIED', '{}'), ($2, false, 'REJECTED_SIGNATURE', '{}'),
         (now(), false, 'REJECTED_SIGNATURE', '{}')`,
      [old, week],
    );
    await pool.query(
      `insert into gateway_nonces (client_id, nonce, expires_at) values ('gw_x', 'old-nonce', $1), ('gw_x', 'new-nonce', now() + interval '1 hour')`,
      [week],
    );
    await pool.query(
      `insert into rate_limits (key, points, expire) values ('session-ip:old', 1, $1), ('session-ip:new', 1, $2)`,
      [Date.now() - 7_200_000, Date.now() + 60_000],
    );
    await retentionJob(app.deps).run({}, app.deps);
    const log = await pool.query<{ is_verified: boolean; received_at: Date }>(
      'select is_verified, received_at from notify_log order by received_at',
    );
    assert.deepEqual(
      log.rows.map((r) => [r.is_verified, r.received_at.getTime() === week.getTime() ? 'week' : 'now']),
      [
        [true, 'week'],
        [false, 'now'],
      ],
    );
    const nonces = await pool.query('select nonce from gateway_nonces');
    assert.deepEqual(nonces.rows, [{ nonce: 'new-nonce' }]);
    const limits = await pool.query('select key from rate_limits');
    assert.deepEqual(limits.rows, [{ key: 'session-ip:new' }]);
  });

  it('deletes finished subscription messages past their time, and keeps pending ones whatever their age', async () => {
    const { pool } = app.deps;
    const { rows: schools } = await pool.query<{ id: string }>(
      `insert into schools (code, name, status, alipay_app_auth_token_enc, cardsys_endpoint, cardsys_username,
                            cardsys_password_enc)
       values ('0990000001', '留存大学', 'ACTIVE', 'x', 'http://127.0.0.1:1/none', 'x', 'x') returning id`,
    );
    const { rows: users } = await pool.query<{ id: string }>(
      `insert into users (alipay_open_id) values ('retention-messages') returning id`,
    );
    const old = new Date(Date.now() - 181 * 86_400_000);
    const recent = new Date(Date.now() - 179 * 86_400_000);
    const messages: Array<[string, string, Date]> = [
      ['old-sent', 'SENT', old],
      ['old-skipped', 'SKIPPED', old],
      ['old-failed', 'FAILED', old],
      ['old-unconfirmed', 'UNCONFIRMED', old],
      ['old-pending', 'PENDING', old],
      ['recent-sent', 'SENT', recent],
      ['recent-pending', 'PENDING', recent],
    ];
    for (const [key, status, at] of messages) {
      await pool.query(
        `insert into user_messages (user_id, school_id, kind, dedup_key, page, "values", status, created_at, updated_at)
         values ($1, $2, 'RECHARGE_CREDITED', $3, 'pages/index/index', '[]', $4, $5, $5)`,
        [users[0].id, schools[0].id, key, status, at],
      );
    }

    await retentionJob(app.deps).run({}, app.deps);

    const { rows } = await pool.query<{ dedup_key: string }>(
      'select dedup_key from user_messages where user_id = $1 order by dedup_key',
      [users[0].id],
    );
    assert.deepEqual(
      rows.map((r) => r.dedup_key),
      ['old-pending', 'recent-pending', 'recent-sent'],
    );
  });

  it('deletes every expired nonce in one run, however many the swipes left', async function () {
    // 120,000 rows in and out: about 3 s on a quiet machine, much more on a busy one.
    this.timeout(120_000);
    const { pool } = app.deps;
    // More than the 100,000 a run used to delete at most (20 batches of 5,000).
    await pool.query(
      `insert into gateway_nonces (client_id, nonce, expires_at)
       select 'gw_many', 'n' || g, now() - interval '1 minute' from generate_series(1, 120000) g`,
    );

    await retentionJob(app.deps).run({}, app.deps);

    const { rows } = await pool.query(
      `select count(*)::int as n from gateway_nonces where client_id = 'gw_many'`,
    );
    assert.equal(rows[0].n, 0);
  });
});
