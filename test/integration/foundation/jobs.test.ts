import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import pg from 'pg';
import type { Deps } from '../../../server/src/deps.js';
import { createJobRunner, type JobDefinition } from '../../../server/src/jobs/runner.js';
import { createLogger } from '../../../server/src/lib/logger.js';
import { freshDatabase } from '../../support/db.js';
import { eventually } from '../../support/http.js';

const logger = createLogger({ level: 'error' });

describe('background jobs (Agenda on PostgreSQL)', () => {
  it('runs a job as soon as it is enqueued, without waiting for the poll interval', async () => {
    const runner = createJobRunner({
      databaseUrl: await freshDatabase(),
      logger,
      processEveryMs: 60_000,
      maxConcurrency: 5,
    });
    const seen: Array<{ value: unknown; at: number }> = [];
    const echo: JobDefinition<{ value: number }> = {
      name: 'test.echo',
      async run(data) {
        seen.push({ value: data.value, at: Date.now() });
      },
    };
    try {
      await runner.start({} as Deps, [echo as JobDefinition<never>], { process: true });
      const enqueuedAt = Date.now();
      await runner.queue.now('test.echo', { value: 42 });
      const first = await eventually(() => seen[0], { timeoutMs: 5_000, message: 'job did not run' });
      assert.equal(first.value, 42);
      assert.ok(first.at - enqueuedAt < 5_000);
    } finally {
      await runner.close();
    }
  });

  it('lets a running job finish when draining for shutdown', async () => {
    const runner = createJobRunner({
      databaseUrl: await freshDatabase(),
      logger,
      processEveryMs: 60_000,
      maxConcurrency: 5,
    });
    let started = false;
    let finished = false;
    const slow: JobDefinition = {
      name: 'test.slow',
      async run() {
        started = true;
        await new Promise((r) => setTimeout(r, 500));
        finished = true;
      },
    };
    await runner.start({} as Deps, [slow as JobDefinition<never>], { process: true });
    await runner.queue.now('test.slow');
    await eventually(() => started, { timeoutMs: 5_000 });
    const { running } = await runner.drain(5_000);
    assert.equal(running, 0);
    assert.equal(finished, true);
    await runner.close();
  });

  it('fails its start, not the process, when the database refuses its first connection', async () => {
    // A role allowed one connection, already taken: the runner's first connection is refused "too many
    // connections", as a full server refuses "too many clients". Before, Agenda's constructor left that
    // rejection unhandled (mocha: an uncaught error) and start() waited for ever.
    const url = await freshDatabase();
    const role = `jobs_full_${crypto.randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`create role ${role} login password 'full' connection limit 1`);
    const limited = new URL(url);
    limited.username = role;
    limited.password = 'full';
    const holder = new pg.Client({ connectionString: limited.toString() });
    await holder.connect();
    const runner = createJobRunner({
      databaseUrl: limited.toString(),
      logger,
      processEveryMs: 60_000,
      maxConcurrency: 5,
    });
    try {
      await assert.rejects(
        runner.start({} as Deps, [], { process: true }),
        (error: Error & { code?: string }) => error.code === '53300',
      );
      await assert.rejects(
        runner.queue.now('test.none'),
        (error: Error & { code?: string }) => error.code === '53300',
      );
    } finally {
      await runner.close();
      await holder.end();
      await admin.query(`drop role ${role}`);
      await admin.end();
    }
  });

  it('runs jobs scheduled for later at their time', async () => {
    const runner = createJobRunner({
      databaseUrl: await freshDatabase(),
      logger,
      processEveryMs: 200,
      maxConcurrency: 5,
    });
    const ranAt: number[] = [];
    const later: JobDefinition = { name: 'test.later', run: async () => void ranAt.push(Date.now()) };
    try {
      await runner.start({} as Deps, [later as JobDefinition<never>], { process: true });
      const due = Date.now() + 600;
      await runner.queue.at(new Date(due), 'test.later');
      await eventually(() => ranAt[0], { timeoutMs: 5_000 });
      assert.ok(ranAt[0] >= due - 50, `ran ${due - ranAt[0]} ms early`);
    } finally {
      await runner.close();
    }
  });
});
