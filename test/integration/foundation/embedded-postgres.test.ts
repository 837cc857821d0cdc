import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../../server/src/db/embedded-postgres.js';
import { createLogger } from '../../../server/src/lib/logger.js';

const logger = createLogger({ level: 'error' });

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

  it('comes back with its data after its owner was killed with kill -9', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/embedded-owner.ts', baseDir], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve());
      child.on('exit', (code) => reject(new Error(`owner exited early (${code})`)));
    });
    const orphan = Number(fs.readFileSync(path.join(baseDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    assert.doesNotThrow(() => process.kill(orphan, 0), 'the orphaned postmaster is still running');

    const restarted = await startEmbeddedPostgres({ baseDir, database: 'campus', logger });
    try {
      assert.equal(await count(restarted.url), 1);
      assert.throws(() => process.kill(orphan, 0), 'the orphan was stopped');
    } finally {
      await restarted.stop();
    }
  });

  it('recovers from a stale postmaster.pid whose process is gone', async () => {
    fs.writeFileSync(path.join(baseDir, 'pg', 'postmaster.pid'), '999999\n/nowhere\n0\n5432\n');
    const restarted = await startEmbeddedPostgres({ baseDir, database: 'campus', logger });
    try {
      assert.equal(await count(restarted.url), 1);
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
