import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { applyMigrations } from '../../server/src/db/client.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../server/src/db/embedded-postgres.js';
import { createLogger } from '../../server/src/lib/logger.js';

/**
 * One real PostgreSQL for the whole test run (started on first use, stopped by the root hook), and a
 * clean database per suite, cloned from a template that has every migration applied.
 */

let cluster: Promise<{ embedded: EmbeddedPostgres; baseDir: string; adminUrl: string }> | undefined;
let counter = 0;
const TEMPLATE = 'campus_template';

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

async function startCluster() {
  const baseDir = fs.mkdtempSync(path.join(os.tmpdir(), 'campus-test-pg-'));
  const embedded = await startEmbeddedPostgres({
    baseDir,
    database: TEMPLATE,
    // Tests trade durability for speed; benchmarks ask for the real thing (TEST_PG_DURABILITY=full).
    durability: process.env.TEST_PG_DURABILITY === 'full' ? 'full' : 'none',
    maxConnections: 400,
    logger: createLogger({ level: 'error' }),
  });
  await applyMigrations(embedded.url);
  // scripts/mutation/sql-mutants.ts: SQL run on the template after the migrations (one hand-made mutant).
  const extraSql = process.env.TEST_EXTRA_SQL;
  if (extraSql) {
    try {
      await runSql(embedded.url, fs.readFileSync(extraSql, 'utf8'));
    } catch (error) {
      await embedded.stop();
      throw error;
    }
  }
  if (process.env.TEST_KEEP_CLUSTER) stopAtExit(baseDir);
  return { embedded, baseDir, adminUrl: withDatabase(embedded.url, 'postgres') };
}

/**
 * TEST_KEEP_CLUSTER (set by scripts/mutation/stryker.ts): the cluster outlives each mocha run of the
 * process (Stryker runs mocha once per mutant in one process), so it is stopped when the process ends.
 */
function stopAtExit(baseDir: string): void {
  const stop = () => {
    try {
      const [pid] = fs.readFileSync(path.join(baseDir, 'pg', 'postmaster.pid'), 'utf8').split('\n');
      process.kill(Number(pid), 'SIGQUIT');
    } catch {
      // Already gone.
    }
    fs.rmSync(baseDir, { recursive: true, force: true });
  };
  process.once('exit', stop);
  for (const signal of ['SIGTERM', 'SIGINT'] as const)
    process.once(signal, () => {
      stop();
      process.exit(1);
    });
}

async function runSql(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export function testCluster() {
  return (cluster ??= startCluster());
}

/** A new, migrated, empty database; its URL. */
export async function freshDatabase(): Promise<string> {
  const { adminUrl } = await testCluster();
  const name = `test_${process.pid}_${++counter}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name} template ${TEMPLATE}`);
  } finally {
    await admin.end();
  }
  return withDatabase(adminUrl, name);
}

/**
 * The test cluster is throwaway (no durability, a temporary directory): it is killed rather than shut down
 * (a shutdown checkpoint after fifty suites took minutes on a loaded machine), and its directory is removed
 * by a detached `rm` that outlives mocha's exit, so a slow disk never fails the run's root hook.
 */
export async function stopTestCluster(): Promise<void> {
  if (!cluster) return;
  const { embedded, baseDir } = await cluster;
  cluster = undefined;
  await embedded.kill();
  spawn('rm', ['-rf', baseDir], { detached: true, stdio: 'ignore' }).unref();
}
