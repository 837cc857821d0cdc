/**
 * PostgreSQL's CPU per swipe of `decide_deductions`, compared between variants of the database in one run:
 * what `bench:deduct` cannot tell apart on a shared machine (its figures move with the load by more than a
 * tenth). Each variant is a database of its own in one cluster — every migration, then the variant's SQL file
 * (`-` for none) — with the same bound cards; batches of swipes are decided from one connection per variant,
 * chunk by chunk in turn, and the CPU its backend used (/proc) is divided by the swipes decided, so the
 * machine's noise falls on every variant alike. Every swipe must be approved. Prints each variant's median
 * and its chunks.
 *
 *   npx tsx scripts/bench/decision-cpu.ts                       the migrations alone
 *   BENCH_VARIANTS=-,/tmp/x.sql npx tsx scripts/bench/decision-cpu.ts
 *
 * Env: BENCH_VARIANTS (`-`), BENCH_BATCH (20 swipes a call: what two batch slots carry at saturation),
 * BENCH_CHUNK (2,000 swipes), BENCH_ROUNDS (8 chunks per variant), BENCH_CARDS (10,000).
 */
process.env.TZ = 'Asia/Shanghai';
process.env.TEST_PG_DURABILITY ??= 'full';

import crypto from 'node:crypto';
import fs from 'node:fs';
import pg from 'pg';
import { benchSwipe, insertBoundCards } from './bound-cards.js';

const CARDS = Number(process.env.BENCH_CARDS ?? 10_000);
const BATCH = Number(process.env.BENCH_BATCH ?? 20);
const CHUNK = Number(process.env.BENCH_CHUNK ?? 2_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 8);
const VARIANTS = (process.env.BENCH_VARIANTS ?? '-').split(',');

/** CPU seconds (user + system) a process has used. */
function cpuSecondsOf(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function variantDatabase(url: string, sqlFile: string) {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  if (sqlFile !== '-') await pool.query(fs.readFileSync(sqlFile, 'utf8'));
  const {
    rows: [school],
  } = await pool.query<{ id: string }>(
    `insert into schools (code, name, status, alipay_app_auth_token_enc, cardsys_endpoint, cardsys_username,
       cardsys_password_enc, txn_limit_fen, daily_limit_fen)
     values ($1, '压测大学', 'ACTIVE', 'none', 'http://127.0.0.1:1/none', 'bench', 'none', 5000, 1000000000)
     returning id`,
    [String(crypto.randomInt(10 ** 9, 10 ** 10 - 1))],
  );
  await insertBoundCards(pool, school.id, CARDS, 'none');
  await pool.query('analyze');
  const client = await pool.connect();
  const {
    rows: [{ pid }],
  } = await client.query<{ pid: number }>('select pg_backend_pid() as pid');
  let swiped = 0;
  const decide = async (swipes: number) => {
    for (let done = 0; done < swipes; done += BATCH) {
      const now = new Date().toISOString();
      const batch = Array.from({ length: BATCH }, () => benchSwipe(++swiped, school.id, CARDS, now));
      const { rows } = await client.query<{ decision: string | null }>({
        name: 'decide_deductions',
        text: 'select * from decide_deductions($1::jsonb)',
        values: [JSON.stringify(batch)],
      });
      if (rows.length !== BATCH || rows.some((row) => row.decision !== 'APPROVED'))
        throw new Error(`a swipe was not approved: ${JSON.stringify(rows)}`);
    }
  };
  const close = async () => {
    client.release();
    await pool.end();
  };
  return { pid, decide, client, close };
}

async function main() {
  const { freshDatabase, stopTestCluster } = await import('../../test/support/db.js');
  try {
    const variants = [];
    for (const sqlFile of VARIANTS) variants.push(await variantDatabase(await freshDatabase(), sqlFile));
    // Warm-up: plans, caches; then statistics from a table that has rows.
    for (const variant of variants) {
      await variant.decide(2_000);
      await variant.client.query('analyze');
    }
    const perSwipe = variants.map(() => [] as number[]);
    for (let round = 0; round < ROUNDS; round++)
      for (const [i, variant] of variants.entries()) {
        const before = cpuSecondsOf(variant.pid);
        await variant.decide(CHUNK);
        perSwipe[i].push(((cpuSecondsOf(variant.pid) - before) / CHUNK) * 1e6);
      }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
    for (const [i, name] of VARIANTS.entries())
      console.log(
        `${name.padEnd(40)} PostgreSQL µs per swipe: median ${median(perSwipe[i]).toFixed(0)}  [${perSwipe[i].map((us) => us.toFixed(0)).join(' ')}]`,
      );
    for (const variant of variants) await variant.close();
  } finally {
    await stopTestCluster();
  }
}

void main();
