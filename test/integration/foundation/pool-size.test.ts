import assert from 'node:assert/strict';
import pg from 'pg';
import { isDomainError } from '../../../server/src/domain/errors.js';
import { beijingDate, reconcileDay } from '../../../server/src/domain/reconciliation/reconcile-day.js';
import { importRosterFile, rosterImport } from '../../../server/src/domain/roster/roster-import.js';
import { ROSTER_BATCH_SIZE } from '../../../server/src/domain/roster/roster-entries.js';
import { startTestApp } from '../../support/app.js';
import { request } from '../../support/http.js';
import { startStack, type Stack } from '../../support/stack.js';
import { userWithCard, waitForRecharge } from '../student/helpers.js';

/**
 * Every DATABASE_POOL_SIZE that config accepts works, whatever JOBS_MAX_CONCURRENCY is: nothing holds a
 * pooled connection for good (the LISTEN clients and a reconciliation's lock have connections of their own)
 * and nothing that holds one waits for a second (seen in session 11: with DATABASE_POOL_SIZE=6 a ROLE=all
 * process's six LISTEN clients took the whole pool and it never became ready). Each test hangs on the code
 * before its fix; the timeouts are generous, as a small pool is slow on a loaded machine, not stuck.
 */
describe('a ROLE=all process on the smallest database pool (DATABASE_POOL_SIZE=1)', function () {
  this.timeout(240_000);
  let stack: Stack;

  before(async () => {
    stack = await startStack({
      env: { ROLE: 'all', DATABASE_POOL_SIZE: '1', JOBS_MAX_CONCURRENCY: '50' },
    });
  });
  after(() => stack?.stop());

  it('becomes ready and credits a paid recharge through its jobs', async () => {
    const ready = await request('GET', `${stack.app.url}/readyz`);
    assert.deepEqual([ready.status, ready.body.database], [200, 'up']);
    const payer = await userWithCard(stack, { cardBalanceFen: 0 });
    const created = await payer.api.post('/api/v1/recharges', {
      bindingId: payer.bindingId,
      amountFen: 1_500,
    });
    assert.equal(created.status, 201, created.text);
    const paid = await stack.alipay.control.payTrade({
      tradeNO: created.body.tradeNo,
      userId: payer.user.userId,
    });
    assert.equal(paid.resultCode, '9000');
    // The notification, the crediting drainer woken by its LISTEN, the card system: all on one connection.
    await waitForRecharge(payer.api, created.body.id, 'CREDITED', 120_000);
  });

  it('imports a roster in the request while its progress is written beside the transaction', async () => {
    const lines = Array.from(
      { length: ROSTER_BATCH_SIZE + 5 },
      (_, i) => `学生${i},P${i},${880_000_000 + i},,,,是`,
    );
    const csv = ['姓名,学号,卡号,身份证号,手机号,监护人手机,是否学生', ...lines].join('\n');
    const done = await importRosterFile(
      stack.app.deps,
      { kind: 'OPERATOR', name: 'pool-size-test' },
      stack.school.id,
      { fileName: 'roster.csv', bytes: Buffer.from(csv), markMissingAsLeft: false },
      { inline: true },
    );
    assert.deepEqual(
      [done.status, done.inserted, done.rejected],
      ['DONE', ROSTER_BATCH_SIZE + 5, 0],
      'two batches in one transaction',
    );
    const stored = await rosterImport(stack.app.deps, stack.school.id, done.id);
    assert.deepEqual(
      [stored.totalRows, stored.processedRows],
      [ROSTER_BATCH_SIZE + 5, ROSTER_BATCH_SIZE + 5],
    );
  });

  it('reconciles two school-days at once, before and after their bills exist', async () => {
    const billDate = beijingDate(new Date());
    const other = await stack.addSchool({ name: '连接池大学' });
    const both = () =>
      Promise.all([
        reconcileDay(stack.app.deps, stack.school, billDate),
        reconcileDay(stack.app.deps, other, billDate),
      ]);
    assert.deepEqual(
      (await both()).map((day) => day.status),
      ['WAITING_FOR_BILL', 'WAITING_FOR_BILL'],
    );
    // 34 hours on at Alipay: the day's bills exist (from 09:00 the next day).
    await stack.alipay.control.advanceClock({ days: 1, hours: 10 });
    const matched = await both();
    assert.deepEqual(
      matched.map((day) => [day.status, day.balanced]),
      [
        ['MATCHED', true],
        ['MATCHED', true],
      ],
    );
  });

  it('refuses a second run of a school-day while its lock is held, and gives the lock back after a run', async () => {
    const school = await stack.addSchool({ name: '锁大学' });
    const billDate = beijingDate(new Date());
    const key = `reconcile:${school.id}:${billDate}`;
    const holder = new pg.Client({ connectionString: stack.app.databaseUrl });
    await holder.connect();
    try {
      await holder.query('select pg_advisory_lock(hashtext($1))', [key]);
      await assert.rejects(reconcileDay(stack.app.deps, school, billDate), (error: Error) => {
        assert.ok(isDomainError(error, 'RECONCILIATION_RUNNING'), String(error));
        return true;
      });
      await holder.query('select pg_advisory_unlock(hashtext($1))', [key]);
      assert.ok((await reconcileDay(stack.app.deps, school, billDate)).status);
      const { rows } = await holder.query('select pg_try_advisory_lock(hashtext($1)) as locked', [key]);
      assert.equal(rows[0].locked, true, 'the finished run ended its lock');
    } finally {
      await holder.end();
    }
  });
});

/**
 * `npm start` embeds its own PostgreSQL: it must admit the process it serves at the largest pool config accepts,
 * with the connections a ROLE=all process opens beside its pool. Up to session 12 the cluster allowed 200, and a
 * DATABASE_POOL_SIZE=200 process did not start: it opens its whole pool at start, and Agenda's or a LISTEN
 * connection was refused "too many clients already" (the start fails at once; before jobs/runner.ts handled a
 * refused first connection, it could hang instead).
 */
describe("npm start's embedded PostgreSQL at the largest pool (DATABASE_POOL_SIZE=200)", function () {
  this.timeout(180_000);

  it('lets a ROLE=all process fill its whole pool beside its jobs and LISTEN connections', async () => {
    const server = await startTestApp({
      database: 'embedded',
      env: { ROLE: 'all', DATABASE_POOL_SIZE: '200' },
    });
    const held: pg.PoolClient[] = [];
    try {
      const connecting = await Promise.allSettled(
        Array.from({ length: 200 }, () => server.deps.pool.connect()),
      );
      for (const result of connecting) if (result.status === 'fulfilled') held.push(result.value);
      const refused = connecting.find((result) => result.status === 'rejected');
      assert.equal(
        refused,
        undefined,
        `refused: ${String((refused as PromiseRejectedResult | undefined)?.reason)}`,
      );
      const { rows } = await held[0].query<{ beside: number }>(
        `select count(*)::int as beside from pg_stat_activity
          where application_name like 'campus-card-%' and application_name <> 'campus-card'`,
      );
      assert.ok(rows[0].beside >= 6, `the jobs' own and LISTEN connections are open too (${rows[0].beside})`);
    } finally {
      for (const client of held) client.release();
      await server.stop();
    }
  });
});
