/**
 * PostgreSQL's instructions per swipe of `decide_deductions`, counted by callgrind, for variants of the
 * database: a count that does not move with the machine's load (CPU times on the shared machine move by
 * more than the effects one change has; decision-cpu.ts times them). Each variant is a database of its own —
 * every migration, then the variant's SQL file (`-` for none) — with the same bound cards, warmed up with
 * 2,000 swipes and analyzed; then the cluster is stopped and each variant's swipes are decided by PostgreSQL
 * in single-user mode under `valgrind --tool=callgrind`, twice (a few batches, then more): the difference
 * of the two totals over the swipes between them is the count per swipe, without the backend's start.
 *
 *   BENCH_VARIANTS=/tmp/before.sql,- npx tsx scripts/bench/decision-instructions.ts
 *
 * Env: BENCH_VARIANTS (`-`), BENCH_BATCHES (100 measured batches of 20). Needs valgrind; a few minutes per
 * variant. Prints each variant's millions of instructions per swipe; `callgrind_annotate --inclusive=yes`
 * on the kept output files says where they go.
 */
process.env.TZ = 'Asia/Shanghai';

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { applyMigrations } from '../../server/src/db/client.js';
import { startEmbeddedPostgres } from '../../server/src/db/embedded-postgres.js';
import { createLogger } from '../../server/src/lib/logger.js';
import { benchSwipe, insertBoundCards } from './bound-cards.js';

const VARIANTS = (process.env.BENCH_VARIANTS ?? '-').split(',');
const BATCHES = Number(process.env.BENCH_BATCHES ?? 100);
const BATCH = 20;
const CARDS = 10_000;
const SCHOOL_ID = '00000000-0000-4000-8000-00000000000a';

/** One `select` per batch of swipes numbered from `first`, as single-user mode reads them (one a line). */
function batches(first: number, count: number): string {
  const now = new Date().toISOString();
  const lines: string[] = [];
  for (let b = 0; b < count; b++) {
    const swipes = Array.from({ length: BATCH }, (_, i) =>
      benchSwipe(first + b * BATCH + i, SCHOOL_ID, CARDS, now),
    );
    lines.push(
      `select count(*) from decide_deductions('${JSON.stringify(swipes)}'::jsonb) where decision = 'APPROVED';`,
    );
  }
  return lines.join('\n') + '\n';
}

async function prepare(baseDir: string): Promise<{ dataDir: string; postgres: string }> {
  const embedded = await startEmbeddedPostgres({
    baseDir,
    database: 'campus',
    durability: 'full',
    logger: createLogger({ level: 'error' }),
  });
  try {
    await applyMigrations(embedded.url);
    const urlOf = (database: string) => {
      const url = new URL(embedded.url);
      url.pathname = `/${database}`;
      return url.toString();
    };
    const admin = new pg.Client({ connectionString: urlOf('postgres') });
    await admin.connect();
    for (const [i] of VARIANTS.entries()) await admin.query(`create database variant_${i} template campus`);
    await admin.end();
    for (const [i, sqlFile] of VARIANTS.entries()) {
      const pool = new pg.Pool({ connectionString: urlOf(`variant_${i}`), max: 1 });
      if (sqlFile !== '-') await pool.query(fs.readFileSync(sqlFile, 'utf8'));
      await pool.query(
        `insert into schools (id, code, name, status, alipay_app_auth_token_enc, cardsys_endpoint, cardsys_username,
           cardsys_password_enc, txn_limit_fen, daily_limit_fen)
         values ($1, '1000000000', '压测大学', 'ACTIVE', 'none', 'http://127.0.0.1:1/none', 'bench', 'none', 5000, 1000000000)`,
        [SCHOOL_ID],
      );
      await insertBoundCards(pool, SCHOOL_ID, CARDS, 'none');
      // Plans chosen on statistics of a table with rows, as autovacuum gives a running platform.
      for (const line of batches(1_000_000, 100).trim().split('\n')) await pool.query(line);
      await pool.query('analyze');
      await pool.end();
    }
  } finally {
    await embedded.stop();
  }
  const { postgres } = (await import(`@embedded-postgres/${os.platform()}-${os.arch()}`)) as {
    postgres: string;
  };
  return { dataDir: embedded.dataDir, postgres };
}

/** Runs the statements in single-user mode under callgrind (as the data directory's owner); its total. */
async function countInstructions(
  postgres: string,
  dataDir: string,
  database: string,
  statements: string,
  outFile: string,
): Promise<number> {
  const owner = fs.statSync(dataDir);
  const runAs = process.getuid?.() === 0 ? { uid: owner.uid, gid: owner.gid } : {};
  fs.writeFileSync(outFile, '');
  fs.chownSync(outFile, owner.uid, owner.gid);
  const child = spawn(
    'valgrind',
    [
      '--tool=callgrind',
      `--callgrind-out-file=${outFile}`,
      postgres,
      '--single',
      '-D',
      dataDir,
      '-j',
      database,
    ],
    // valgrind writes its own files under TMPDIR, which the data directory's owner must be able to write.
    { ...runAs, env: { ...process.env, TMPDIR: path.dirname(outFile) }, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stdin.end(statements);
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  const approved = output.match(new RegExp(`count = "${BATCH}"`, 'g'))?.length ?? 0;
  const expected = statements.trim().split('\n').length;
  if (code !== 0 || approved !== expected)
    throw new Error(
      `${database}: ${approved} of ${expected} batches approved (exit ${code}): ${output.slice(-1000)}`,
    );
  const total = /^totals: (\d+)$/m.exec(fs.readFileSync(outFile, 'utf8'));
  if (!total) throw new Error(`${outFile}: no totals`);
  return Number(total[1]);
}

async function main() {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'decision-instructions-'));
  fs.chmodSync(workDir, 0o777);
  const { dataDir, postgres } = await prepare(path.join(workDir, 'cluster'));
  for (const [i, name] of VARIANTS.entries()) {
    const database = `variant_${i}`;
    const out = (label: string) => path.join(workDir, `callgrind-${i}-${label}.out`);
    // Distinct swipe numbers per run: every swipe is new.
    const few = await countInstructions(postgres, dataDir, database, batches(0, 10), out('few'));
    const many = await countInstructions(
      postgres,
      dataDir,
      database,
      batches(100_000, 10 + BATCHES),
      out('many'),
    );
    const perSwipe = (many - few) / (BATCHES * BATCH);
    console.log(
      `${name.padEnd(40)} PostgreSQL instructions per swipe: ${(perSwipe / 1e6).toFixed(3)} million`,
    );
  }
  fs.rmSync(path.join(workDir, 'cluster'), { recursive: true, force: true });
  console.log(`callgrind output (callgrind_annotate --inclusive=yes …): ${workDir}`);
}

void main();
