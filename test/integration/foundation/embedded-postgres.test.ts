import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../../server/src/db/embedded-postgres.js';
import { createLogger } from '../../../server/src/lib/logger.js';
import { isRunning, postmasterOf } from '../../support/dev-start.js';
import { eventually } from '../../support/http.js';

const logger = createLogger({ level: 'error' });

/** The owner that `test/fixtures/embedded-owner.ts` starts, once its cluster is up; its postmaster's pid. */
async function startOwner(baseDir: string): Promise<{ owner: ChildProcess; postmaster: number }> {
  const owner = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/embedded-owner.ts', baseDir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    owner.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve());
    owner.on('exit', (code) => reject(new Error(`owner exited early (${code})`)));
  });
  const postmaster = postmasterOf(baseDir)!;
  return { owner, postmaster };
}

async function killOwner(owner: ChildProcess): Promise<void> {
  const exited = new Promise((r) => owner.once('exit', r));
  owner.kill('SIGKILL');
  await exited;
}

/** The guard process that stops `postmaster` when its owner dies (its command line names both). */
function guardOf(postmaster: number): number {
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let args: string[];
    try {
      args = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
    } catch {
      continue; // gone meanwhile
    }
    if (args.includes('postgres-guard') && args.includes(String(postmaster))) return Number(entry);
  }
  throw new Error(`no guard for postmaster ${postmaster}`);
}

async function count(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query('select count(*)::int as n from survivors');
    return rows[0].n;
  } finally {
    await client.end();
  }
}

describe('embedded PostgreSQL', function () {
  this.timeout(90_000);
  let baseDir: string;
  before(() => {
    baseDir = fs.mkdtempSync(path.join(os.tmpdir(), 'campus-embedded-'));
  });
  after(() => fs.rmSync(baseDir, { recursive: true, force: true }));

  it('stops its postmaster by itself when its owner is killed with kill -9, and comes back with its data', async () => {
    const { owner, postmaster } = await startOwner(baseDir);
    await killOwner(owner);
    await eventually(() => !isRunning(postmaster), {
      timeoutMs: 60_000,
      message: 'the postmaster of a killed owner stopped',
    });
    assert.equal(postmasterOf(baseDir), undefined, 'a clean shutdown: no postmaster.pid');

    const restarted = await startEmbeddedPostgres({ baseDir, database: 'campus', logger });
    try {
      assert.equal(await count(restarted.url), 1);
    } finally {
      await restarted.stop();
    }
  });

  it('takes over a postmaster left running when its owner and the guard were both killed with kill -9', async () => {
    const { owner, postmaster: orphan } = await startOwner(baseDir);
    process.kill(guardOf(orphan), 'SIGKILL');
    await killOwner(owner);
    assert.ok(isRunning(orphan), 'the orphaned postmaster is still running');

    const restarted = await startEmbeddedPostgres({ baseDir, database: 'campus', logger });
    try {
      assert.equal(await count(restarted.url), 2);
      assert.ok(!isRunning(orphan), 'the orphan was stopped');
    } finally {
      await restarted.stop();
    }
  });

  it('recovers from a stale postmaster.pid whose process is gone', async () => {
    fs.writeFileSync(path.join(baseDir, 'pg', 'postmaster.pid'), '999999\n/nowhere\n0\n5432\n');
    const restarted = await startEmbeddedPostgres({ baseDir, database: 'campus', logger });
    try {
      assert.equal(await count(restarted.url), 2);
    } finally {
      await restarted.stop();
    }
  });

  it('refuses to take over a cluster whose owner process is still alive', async () => {
    const first = await startEmbeddedPostgres({ baseDir, database: 'campus', logger });
    try {
      const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
      fs.writeFileSync(path.join(baseDir, 'pg-owner.pid'), String(sleeper.pid));
      await assert.rejects(
        startEmbeddedPostgres({ baseDir, database: 'campus', logger }),
        /in use by another running process/,
      );
      sleeper.kill();
    } finally {
      await first.stop();
    }
  });
});
