/**
 * The pre-filled mode of bench:deduct and bench:recharge (issue 18 §3): a platform that has run for a year.
 * Written straight into the tables with INSERT … SELECT generate_series (not through the API: a year of
 * traffic through it would take days), as the platform leaves its rows, beside whatever the benchmark
 * has seeded for itself:
 *   schools    up to BENCH_FILL_SCHOOLS (200), ACTIVE;
 *   cards      up to BENCH_FILL_CARDS (500,000) withholding payers in all: a user, a binding, an ACTIVE
 *              agreement covering the card (agreement_cards) each;
 *   deductions BENCH_FILL_DEDUCTIONS (10,000,000) over BENCH_FILL_DAYS (365) days on those cards, time-ordered
 *              ids as decide_deduction makes them, 97 % approved (collected, settled, reversed, a few in
 *              debt), 3 % declined; one collection attempt per charged swipe;
 *   recharges  BENCH_FILL_RECHARGES (2,000,000) over the same days, random ids as the API makes them, 99.8 %
 *              credited;
 * and what the platform keeps beside them: the order status history (the triggers' rows), and, within
 * their retention windows only (what the retention job leaves: server/src/jobs/retention.ts), the
 * notifications (notify_log), the outside-call records of the order timelines, the subscription messages
 * and the gateway nonces still inside the replay window.
 * The benchmark's own schools keep payers without debts (`clearSchoolIds`), so their swipes are decided
 * exactly as on empty tables. The dashboard statistics are marked folded up to now (as the `admin.stats`
 * job would have left them), then VACUUM ANALYZE and a CHECKPOINT, so the measurement starts from the
 * state a year-old database is in, not from a bulk load.
 *
 * A full-size fill takes most of an hour on 2 cores, so it can be made once and kept (BENCH_FILL_DIR):
 *   BENCH_FILL_ONLY=1 BENCH_FILL_DIR=<dir> npm run bench:deduct   fills a new cluster in <dir> and stops;
 *   BENCH_PREFILLED=1 BENCH_FILL_DIR=<dir> npm run bench:deduct   (or bench:recharge) measures the empty
 *     run as always and the filled run on a copy of <dir> (cp -a), the kept fill left as it was.
 * A kept fill holds the platform only: the benchmark seeds its own school on the copy, new beside a year of
 * the others' rows (its cards have no history of their own, so their swipes decide as on empty tables).
 * Rows are generated inside PostgreSQL by INSERT … SELECT generate_series: the bulk path COPY would take,
 * without formatting millions of rows in Node and parsing them again in the server.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { applyMigrations } from '../../server/src/db/client.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../server/src/db/embedded-postgres.js';
import { createLogger } from '../../server/src/lib/logger.js';
import { round } from './stats.js';

export interface FillSizes {
  schools: number;
  cards: number;
  deductions: number;
  recharges: number;
  days: number;
}

/** BENCH_FILL_* (defaults: the year-old platform). */
export function fillSizesFromEnv(env: NodeJS.ProcessEnv = process.env): FillSizes {
  const size = (name: string, fallback: number) => {
    const value = Number(env[name] ?? fallback);
    if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a whole number`);
    return value;
  };
  return {
    schools: size('BENCH_FILL_SCHOOLS', 200),
    cards: size('BENCH_FILL_CARDS', 500_000),
    deductions: size('BENCH_FILL_DEDUCTIONS', 10_000_000),
    recharges: size('BENCH_FILL_RECHARGES', 2_000_000),
    days: Math.max(1, size('BENCH_FILL_DAYS', 365)),
  };
}

/**
 * BENCH_PREFILLED=1: the benchmark runs twice, on empty tables and then on pre-filled ones (each in its own
 * child process and database, one after the other), and reports the filled run's figures with
 * `ratio_filled_to_empty`. BENCH_PREFILLED=only: just the filled run (what the second child is).
 */
export type PrefillMode = 'empty' | 'compare' | 'filled';

export function prefillMode(env: NodeJS.ProcessEnv = process.env): PrefillMode {
  if (env.BENCH_PREFILLED === '1') return 'compare';
  if (env.BENCH_PREFILLED === 'only') return 'filled';
  return 'empty';
}

/** Runs one benchmark script in a child process and returns the JSON object of its last line. */
function runChild(script: string, env: Record<string, string>): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      process.stdout.write(chunk);
      output += chunk.toString();
    });
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`${script} exited with ${code}`));
      const last =
        output
          .split('\n')
          .filter((line) => line.trim())
          .at(-1) ?? '';
      try {
        resolve(JSON.parse(last));
      } catch {
        reject(new Error(`${script} did not end with a JSON line: ${last}`));
      }
    });
  });
}

/**
 * The comparison of BENCH_PREFILLED=1. `throughput` and `latency` name the keys compared: the filled run's
 * figures are printed with `ratio_filled_to_empty` (throughput, goal ≥ 0.9) and
 * `latency_ratio_filled_to_empty` (goal ≤ 1.2), and the empty run's under `empty`.
 */
export async function compareFilledToEmpty(
  script: string,
  keys: { throughput: string; latency: string },
): Promise<void> {
  console.log('— empty tables —');
  const empty = await runChild(script, { BENCH_PREFILLED: '0' });
  console.log('— pre-filled tables —');
  const filled = await runChild(script, { BENCH_PREFILLED: 'only' });
  const ratio = (key: string) => round(filled[key] / empty[key], 3);
  console.log(
    `filled / empty: ${keys.throughput} ${ratio(keys.throughput)} (goal ≥ 0.9), ${keys.latency} ${ratio(keys.latency)} (goal ≤ 1.2)`,
  );
  console.log(
    JSON.stringify({
      ...filled,
      ratio_filled_to_empty: ratio(keys.throughput),
      latency_ratio_filled_to_empty: ratio(keys.latency),
      empty,
    }),
  );
}

/** The filled run's hook: fills the benchmark's database after its own seeding (`clearSchoolIds`: its schools). */
export async function prefillDatabase(databaseUrl: string, clearSchoolIds: string[]): Promise<void> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  try {
    console.log('pre-filling: a platform that has run for a year…');
    const { seconds, sizes } = await prefillPlatform(pool, { clearSchoolIds });
    // From here on, every sequential scan is the benchmark's (reportTableScans).
    await pool.query('select pg_stat_reset()');
    console.log(
      `pre-filled in ${round(seconds, 0)} s: ${sizes.schools} schools, ${sizes.cards} cards, ${sizes.deductions} deductions, ${sizes.recharges} recharges`,
    );
  } finally {
    await pool.end();
  }
}

/** The measurement starts here: every sequential scan from now on is the benchmark's (reportTableScans). */
export async function resetTableStats(databaseUrl: string): Promise<void> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  try {
    await pool.query('select pg_stat_reset()');
  } finally {
    await pool.end();
  }
}

/** The replay window's nonces at ~200 swipes/s (a day's average for 200 schools): ten minutes' worth. */
async function insertReplayWindowNonces(client: pg.ClientBase): Promise<void> {
  await client.query(
    `insert into gateway_nonces (client_id, nonce, expires_at)
     select 'fill-gw-' || (g % 400), md5('fill' || g), now() + interval '5 minutes' * random()
     from generate_series(1, 120000) g`,
  );
}

/**
 * The filled run on a copy of a kept fill: the replay window is the one of this run, not of the fill's day
 * (the retention job would otherwise delete a whole window of expired nonces while it measures), then the
 * measurement starts (resetTableStats).
 */
export async function startMeasuringOnKeptFill(databaseUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`delete from gateway_nonces where client_id like 'fill-gw-%'`);
    await insertReplayWindowNonces(client);
    await client.query('vacuum (analyze) gateway_nonces');
  } finally {
    await client.end();
  }
  await resetTableStats(databaseUrl);
}

/** The kept fill's folder (BENCH_FILL_DIR), if any. */
export function fillDirFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.BENCH_FILL_DIR ? path.resolve(env.BENCH_FILL_DIR) : undefined;
}

/** Written last into a kept fill's folder: what it holds, and that it finished. */
const FILL_MARK = 'fill.json';
/** The embedded cluster's database, as the benchmark stack (harness.ts) names it. */
const FILL_DATABASE = 'campus';

interface FillMark {
  sizes: FillSizes;
  seconds: number;
  databaseBytes: number;
  filledAt: string;
}

/**
 * Settings for the fill-only cluster (nothing else runs on it; they are flags, not kept in the folder, so
 * the runs on its copies start with the benchmark's usual settings): no fsync (a clean shutdown and `sync`
 * end the fill), no full-page images, minimal WAL (index builds skip it), no autovacuum racing the load
 * (the fill ends with VACUUM ANALYZE). Checkpoints stay frequent — without fsync or page images they cost
 * little — so that the WAL segments PostgreSQL keeps for reuse, which every copy carries, stay under 1 GB.
 */
const FILL_ONLY_FLAGS = [
  '-c',
  'wal_level=minimal',
  '-c',
  'max_wal_senders=0',
  '-c',
  'autovacuum=off',
  '-c',
  'max_wal_size=1GB',
];

/** BENCH_FILL_ONLY=1 BENCH_FILL_DIR=<dir>: fills a new cluster in <dir> (which must not hold one) and keeps it. */
export async function fillOnly(dir: string): Promise<void> {
  if (fs.existsSync(dir) && fs.readdirSync(dir).length > 0)
    throw new Error(
      `${dir} is not empty: a kept fill is made once, into a new folder (remove this one first)`,
    );
  const logger = createLogger({ level: 'error' });
  console.log(`filling a platform that has run for a year into ${dir}…`);
  const embedded = await startEmbeddedPostgres({
    baseDir: dir,
    database: FILL_DATABASE,
    logger,
    durability: 'none',
    maxConnections: 20,
    extraFlags: FILL_ONLY_FLAGS,
  });
  let mark: FillMark;
  try {
    await applyMigrations(embedded.url);
    const pool = new pg.Pool({ connectionString: embedded.url, max: 1 });
    // The cluster's shutdown can reach the pool's last connection while it is still closing (seen once after
    // a finished fill): an error then must not end the script before the fill's mark is written.
    pool.on('error', () => undefined);
    try {
      const filled = await prefillPlatform(pool, { clearSchoolIds: [] });
      mark = { ...filled, filledAt: new Date().toISOString() };
    } finally {
      await pool.end();
    }
  } finally {
    await embedded.stop();
  }
  // fsync was off: the files are on disk only once the kernel has written them.
  execFileSync('sync');
  fs.writeFileSync(path.join(dir, FILL_MARK), `${JSON.stringify(mark, null, 2)}\n`);
  console.log(
    `kept in ${dir}: ${mark.sizes.schools} schools, ${mark.sizes.cards} cards, ${mark.sizes.deductions} deductions, ` +
      `${mark.sizes.recharges} recharges, ${round(mark.databaseBytes / 2 ** 30, 2)} GiB, filled in ${round(mark.seconds, 0)} s`,
  );
  console.log(JSON.stringify({ fill_seconds: round(mark.seconds, 0), fill_bytes: mark.databaseBytes }));
}

/**
 * Copies a kept fill into `baseDir` (new and empty) for one run to start its PostgreSQL on (database
 * `campus`); the kept folder is only read. Returns what the fill holds.
 */
export function copyFill(dir: string, baseDir: string): FillMark {
  const markFile = path.join(dir, FILL_MARK);
  if (!fs.existsSync(markFile))
    throw new Error(`${dir} holds no finished fill (no ${FILL_MARK}): make one with BENCH_FILL_ONLY=1`);
  const mark = JSON.parse(fs.readFileSync(markFile, 'utf8')) as FillMark;
  const started = Date.now();
  execFileSync('cp', ['-a', '--reflink=auto', `${dir}/.`, baseDir]);
  // The fill's owner process is long gone; this run's start takes the cluster over.
  for (const file of ['pg-owner.pid', 'pg.log', FILL_MARK])
    fs.rmSync(path.join(baseDir, file), { force: true });
  console.log(
    `pre-filled from ${dir} (copied in ${round((Date.now() - started) / 1000, 0)} s): ${mark.sizes.schools} schools, ` +
      `${mark.sizes.cards} cards, ${mark.sizes.deductions} deductions, ${mark.sizes.recharges} recharges, filled ${mark.filledAt}`,
  );
  return mark;
}

/**
 * bench:deduct's filled run on a kept fill: a copy started as its own test cluster is (full durability),
 * with any migration newer than the fill applied.
 */
export async function startFromFill(
  dir: string,
  options: { maxConnections: number },
): Promise<{ url: string; embedded: EmbeddedPostgres; stop(): Promise<void> }> {
  const baseDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-filled-'));
  try {
    copyFill(dir, baseDir);
    const embedded = await startEmbeddedPostgres({
      baseDir,
      database: FILL_DATABASE,
      logger: createLogger({ level: 'error' }),
      durability: 'full',
      maxConnections: options.maxConnections,
    });
    await applyMigrations(embedded.url);
    return {
      url: embedded.url,
      embedded,
      async stop() {
        await embedded.stop();
        fs.rmSync(baseDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    fs.rmSync(baseDir, { recursive: true, force: true });
    throw error;
  }
}

/**
 * The end of bench:deduct and bench:recharge: BENCH_FILL_ONLY=1 makes a kept fill, BENCH_PREFILLED=1 compares
 * the filled run to the empty one, anything else is the script's own run (`main`).
 */
export function runBench(
  script: string,
  keys: { throughput: string; latency: string },
  main: () => Promise<void>,
): void {
  const fillDir = fillDirFromEnv();
  let work: Promise<void>;
  if (process.env.BENCH_FILL_ONLY === '1') {
    work = fillDir ? fillOnly(fillDir) : Promise.reject(new Error('BENCH_FILL_ONLY=1 needs BENCH_FILL_DIR'));
  } else if (prefillMode() === 'compare') work = compareFilledToEmpty(script, keys);
  else work = main();
  work.then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}

/** Tables this small are read whole by any plan, cheaply (schools, gateway clients, …). */
const SMALL_TABLE_ROWS = 10_000;

/**
 * "No hot query scans", measured rather than argued: the filled run starts with PostgreSQL's table
 * statistics reset (after its own set-up), and this prints every table with more than SMALL_TABLE_ROWS
 * rows that any statement read sequentially since: the hot paths, the jobs running beside them, all of it.
 */
export async function reportTableScans(databaseUrl: string): Promise<void> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  try {
    const { rows } = await pool.query<{
      relname: string;
      seq_scan: string;
      seq_tup_read: string;
      rows: string;
    }>(
      `select relname, seq_scan, seq_tup_read, n_live_tup as rows from pg_stat_user_tables
       where seq_scan > 0 and n_live_tup > $1 order by seq_tup_read desc`,
      [SMALL_TABLE_ROWS],
    );
    if (rows.length === 0)
      console.log(`table scans while measuring: none on tables over ${SMALL_TABLE_ROWS} rows`);
    for (const row of rows) {
      console.log(
        `table scans while measuring: ${row.relname} (${row.rows} rows) scanned ${row.seq_scan} times, ${row.seq_tup_read} rows read`,
      );
    }
  } finally {
    await pool.end();
  }
}

/** The tables that get millions of rows: their secondary indexes are built once after the load. */
const BULK_TABLES = [
  'users',
  'bindings',
  'withholding_agreements',
  'agreement_cards',
  'deductions',
  'deduction_attempts',
  'order_status_changes',
  'outside_calls',
  'recharge_orders',
  'notify_log',
  'user_messages',
];

/**
 * Loads with the tables' secondary indexes dropped (those no constraint needs) and builds them again afterwards (the same definitions,
 * read from the catalog): one sorted build instead of millions of scattered inserts, the usual bulk-load
 * way, minutes instead of hours here. The indexes come out compact, as after a REINDEX; primary keys stay.
 */
async function withIndexesBuiltAfter(client: pg.PoolClient, load: () => Promise<void>): Promise<void> {
  const { rows } = await client.query<{ name: string; definition: string }>(
    `select i.indexrelid::regclass::text as name, pg_get_indexdef(i.indexrelid) as definition
     from pg_index i join pg_class t on t.oid = i.indrelid
     where t.relname = any($1::text[]) and t.relnamespace = 'public'::regnamespace and not i.indisprimary
       and not exists (select 1 from pg_constraint c where c.conindid = i.indexrelid)`,
    [BULK_TABLES],
  );
  for (const index of rows) await client.query(`drop index ${index.name}`);
  try {
    await load();
  } finally {
    await client.query(`set maintenance_work_mem = '512MB'`);
    for (const index of rows) await client.query(index.definition);
  }
}

/** Rows per statement: progress to watch, and no transaction holding millions of rows' worth of locks. */
const CHUNK = 1_000_000;
/** What retention keeps of notifications and outside calls (RETENTION_NOTIFY_LOG_DAYS' default). */
const KEPT_DAYS = 180;

export async function prefillPlatform(
  pool: pg.Pool,
  options: { sizes?: FillSizes; clearSchoolIds: string[]; log?: (line: string) => void },
): Promise<{ seconds: number; sizes: FillSizes; databaseBytes: number }> {
  const sizes = options.sizes ?? fillSizesFromEnv();
  const log = options.log ?? ((line: string) => console.log(line));
  const started = Date.now();
  const step = (what: string) => log(`  ${what} (${round((Date.now() - started) / 1000, 1)} s)`);
  const client = await pool.connect();
  try {
    await client.query(`set statement_timeout = 0`);
    // Rows as the platform would have left them: foreign keys hold by construction, and the status history
    // is written below as the triggers would have written it.
    await client.query(`set session_replication_role = replica`);
    await client.query(`set work_mem = '256MB'`);
    // A few huge transactions: none needs its own flush (a lost fill is made again).
    await client.query(`set synchronous_commit = off`);

    const { rows: schoolCount } = await client.query(`select count(*)::int as n from schools`);
    const newSchools = Math.max(0, sizes.schools - schoolCount[0].n);
    // National school codes are 10 digits and never start with 0 elsewhere: these cannot collide.
    await client.query(
      `insert into schools (code, name, status, alipay_app_auth_token_enc, cardsys_endpoint, cardsys_username,
                            cardsys_password_enc)
       select '0' || lpad(g::text, 9, '0'), '满载大学' || g, 'ACTIVE', 'not-used', 'http://127.0.0.1:1/none', 'fill',
              'not-used'
       from generate_series(1, $1::int) g`,
      [newSchools],
    );
    step(`${newSchools} schools`);

    // Every bulk table's secondary indexes are built once, after the load.
    await withIndexesBuiltAfter(client, async () => {
      const { rows: payerCount } = await client.query(
        `select count(*)::int as n from bindings where is_withholding_payer and status = 'ACTIVE'`,
      );
      const newCards = Math.max(0, sizes.cards - payerCount[0].n);
      await client.query(
        `create temp table fill_people on commit preserve rows as
       select g, gen_random_uuid() as user_id, gen_random_uuid() as binding_id, gen_random_uuid() as agreement_id,
              s.id as school_id, 'F' || lpad(g::text, 8, '0') as card_no,
              now() - interval '1 day' * $2::int * random() as since
       from generate_series(1, $1::int) g
       join (select id, row_number() over (order by code) - 1 as k, count(*) over () as m
               from schools where code like '0%') s on s.k = g % s.m`,
        [newCards, sizes.days],
      );
      await client.query(
        `insert into users (id, alipay_open_id, created_at) select user_id, 'fill-' || g, since from fill_people`,
      );
      await client.query(
        `insert into bindings (id, school_id, user_id, card_no, holder_name, relation, status, is_withholding_payer,
                             created_at, updated_at)
       select binding_id, school_id, user_id, card_no, '学生' || g, 'SELF', 'ACTIVE', true, since, since
       from fill_people`,
      );
      await client.query(
        `insert into withholding_agreements (id, school_id, user_id, external_agreement_no, agreement_no, status,
                                           sign_scene, signed_at, created_at, updated_at)
       select agreement_id, school_id, user_id, 'FA' || g, 'FAG' || g, 'ACTIVE', 'INDUSTRY|CAMPUS', since, since, since
       from fill_people`,
      );
      await client.query(
        `insert into agreement_cards (agreement_id, binding_id, school_id, card_no, created_at, updated_at)
       select agreement_id, binding_id, school_id, card_no, since, since from fill_people`,
      );
      await client.query(`drop table fill_people`);
      step(`${newCards} cards: users, bindings, agreements`);

      // Every payer card of the platform, numbered, the benchmark's own among them.
      await client.query(
        `create temp table fill_cards on commit preserve rows as
       select row_number() over (order by b.school_id, b.card_no) as n, b.school_id, b.card_no, b.user_id,
              b.id as binding_id, ac.agreement_id, b.school_id = any($1::uuid[]) as stays_clear
       from bindings b
       left join agreement_cards ac on ac.binding_id = b.id and ac.removed_at is null
       where b.is_withholding_payer and b.status = 'ACTIVE'`,
        [options.clearSchoolIds],
      );
      await client.query(`create unique index on fill_cards (n)`);
      await client.query(`analyze fill_cards`);
      const { rows: cardRows } = await client.query(`select count(*)::int as n from fill_cards`);
      const cards = cardRows[0].n as number;
      if (cards === 0) throw new Error('no payer cards to fill for');

      for (let low = 1; low <= sizes.deductions; low += CHUNK) {
        const high = Math.min(sizes.deductions, low + CHUNK - 1);
        await client.query(
          `with swipes as (
             select g, t, c.school_id, c.card_no, c.user_id, c.agreement_id,
               case when g % 100 < 3 then 'DECLINED'
                    when g % 100 = 3 then 'SETTLED'
                    when g % 100 = 4 then 'REVERSED'
                    when not c.stays_clear and g % 10000 = 5 then 'ARREARS'
                    when not c.stays_clear and g % 10000 = 6 then 'RETRYING'
                    else 'COLLECTED' end as status
             from (select g, now() - interval '1 minute' - interval '1 day' * $4::int * (1 - g::float8 / $3::int) as t
                   from generate_series($1::int, $2::int) g) times
             join fill_cards c on c.n = 1 + times.g % $5::int
           ), d as (
             insert into deductions (id, deduction_no, school_id, txn_no, card_no, amount_fen, terminal_id, occurred_at,
               payer_user_id, agreement_id, decision, decline_reason, status, attempts, next_attempt_at, out_trade_no,
               collected_at, reversed_at, settled_at, created_at, updated_at)
             select uuidv7(t - now()), 'DF' || g, school_id, 'F' || g, card_no, 300 + g % 1200, 'POS-' || (g % 40),
               t, user_id, agreement_id,
               case when status = 'DECLINED' then 'DECLINED' else 'APPROVED' end,
               case when status = 'DECLINED' then (array['NOT_SIGNED', 'OVER_DAILY_LIMIT', 'IN_ARREARS'])[1 + g % 3] end,
               status,
               case when status in ('DECLINED', 'REVERSED') then 0 else 1 end,
               -- Debts are retried after the runs (a kept fill serves for weeks), so that no collector works
               -- during a measurement.
               case when status = 'RETRYING' then now() + interval '1 year' end,
               case when status <> 'DECLINED' then 'DF' || g end,
               case when status in ('COLLECTED', 'SETTLED') then t + interval '2 seconds' end,
               case when status = 'REVERSED' then t + interval '30 seconds' end,
               case when status = 'SETTLED' then t + interval '3 days' end,
               t, t
             from swipes
             returning id, school_id, deduction_no, decision, status, amount_fen, created_at, collected_at
           ), attempts as (
             insert into deduction_attempts (deduction_id, attempt_no, outcome, out_trade_no, created_at)
             select id, 1, case when status in ('COLLECTED', 'SETTLED') then 'PAID' else 'FAILED' end, deduction_no,
                    created_at + interval '1 second'
             from d where decision = 'APPROVED' and status <> 'REVERSED'
           ), history as (
             insert into order_status_changes (school_id, order_kind, order_no, from_status, to_status, amount_fen,
                                               changed_at, txid)
             select school_id, 'DEDUCTION', deduction_no, 'PENDING', status, amount_fen,
                    coalesce(collected_at, created_at + interval '1 second'), pg_current_xact_id()::text::bigint
             from d where decision = 'APPROVED'
           ), calls as (
             insert into outside_calls (order_no, system, operation, outcome, duration_ms, reference, started_at)
             select deduction_no, 'ALIPAY', 'alipay.trade.pay', case when status in ('COLLECTED', 'SETTLED') then 'OK' else 'RETRYABLE' end,
                    40, deduction_no, created_at + interval '1 second'
             from d where decision = 'APPROVED' and status <> 'REVERSED' and created_at > now() - interval '${KEPT_DAYS} days'
           )
           select count(*)::int as n from d`,
          [low, high, sizes.deductions, sizes.days, cards],
        );
        step(`deductions ${high}/${sizes.deductions}, with their attempts, status changes and Alipay calls`);
      }

      for (let low = 1; low <= sizes.recharges; low += CHUNK) {
        const high = Math.min(sizes.recharges, low + CHUNK - 1);
        await client.query(
          `with times as (
             select g, now() - interval '1 minute' - interval '1 day' * $4::int * (1 - g::float8 / $3::int) as t
             from generate_series($1::int, $2::int) g
           ), r as (
             insert into recharge_orders (out_trade_no, school_id, user_id, binding_id, card_no, amount_fen, status,
               alipay_trade_no, buyer_id, credit_attempts, expires_at, paid_at, credited_at, closed_at, created_at, updated_at)
             select 'RF' || g, c.school_id, c.user_id, c.binding_id, c.card_no, 1000 * (1 + g % 20),
               case when g % 2000 = 0 then 'CREDIT_FAILED' when g % 500 = 1 then 'CLOSED' else 'CREDITED' end,
               case when g % 500 <> 1 then 'TF' || g end, case when g % 500 <> 1 then '2088F' || (g % 100000) end,
               case when g % 500 = 1 then 0 when g % 2000 = 0 then 7 else 1 end,
               t + interval '15 minutes',
               case when g % 500 <> 1 then t + interval '20 seconds' end,
               case when g % 500 <> 1 and g % 2000 <> 0 then t + interval '21 seconds' end,
               case when g % 500 = 1 then t + interval '20 minutes' end,
               t, t + interval '21 seconds'
             from times join fill_cards c on c.n = 1 + (times.g::bigint * 7919) % $5::int
             returning id, out_trade_no, school_id, user_id, amount_fen, status, paid_at, credited_at, closed_at, created_at
           ), history as (
             insert into order_status_changes (school_id, order_kind, order_no, from_status, to_status, amount_fen,
                                               changed_at, txid)
             select school_id, 'RECHARGE', out_trade_no, v.f, v.s, amount_fen, v.at, pg_current_xact_id()::text::bigint
             from r, lateral (values (null, 'CREATED', r.created_at), ('CREATED', 'PAID', r.paid_at),
                                     ('PAID', r.status, coalesce(r.credited_at,
                                        case when r.status = 'CREDIT_FAILED' then r.paid_at + interval '1 hour' end)),
                                     ('CREATED', 'CLOSED', r.closed_at)) v(f, s, at)
             where v.at is not null
           ), notified as (
             insert into notify_log (received_at, notify_type, notify_id, out_trade_no, app_id, is_verified, outcome, body)
             select paid_at, 'trade_status_sync', md5(out_trade_no), out_trade_no, '2021000000000000', true, 'APPLIED',
                    jsonb_build_object('notify_type', 'trade_status_sync', 'out_trade_no', out_trade_no,
                      'trade_no', 'TF' || substr(out_trade_no, 3), 'trade_status', 'TRADE_SUCCESS',
                      'total_amount', (amount_fen / 100)::text || '.00', 'app_id', '2021000000000000',
                      'seller_id', '2088000000000000', 'gmt_payment', to_char(paid_at, 'YYYY-MM-DD HH24:MI:SS'),
                      'sign_type', 'RSA2', 'sign', repeat('x', 344))
             from r where paid_at > now() - interval '${KEPT_DAYS} days'
           ), calls as (
             insert into outside_calls (order_no, system, operation, outcome, duration_ms, reference, started_at)
             select out_trade_no, v.sys, v.op, 'OK', 30, out_trade_no, v.at
             from r, lateral (values ('ALIPAY', 'alipay.trade.create', r.created_at),
                                     ('CARDSYS', 'Recharge', r.credited_at)) v(sys, op, at)
             where v.at is not null and v.at > now() - interval '${KEPT_DAYS} days'
           ), messages as (
             insert into user_messages (user_id, school_id, kind, dedup_key, page, "values", status, skip_reason,
                                        created_at, updated_at)
             select user_id, school_id, 'RECHARGE_CREDITED', 'recharge-credited:' || id, 'pages/index/index',
                    jsonb_build_array((amount_fen / 100)::text || '.00元', '学生卡', to_char(credited_at, 'YYYY-MM-DD HH24:MI')),
                    'SKIPPED', 'NOT_SUBSCRIBED', credited_at, credited_at
             from r where credited_at > now() - interval '${KEPT_DAYS} days'
           )
           select count(*)::int as n from r`,
          [low, high, sizes.recharges, sizes.days, cards],
        );
        step(`recharges ${high}/${sizes.recharges}, with status changes, notifications, calls and messages`);
      }
    });
    step('indexes built');

    await insertReplayWindowNonces(client);
    step('gateway nonces of the replay window');

    // What admin.stats would have folded by now (a year of it): it starts from here, as on a live platform.
    await client.query(`set session_replication_role = origin`);
    const ms = Date.now().toString(16).padStart(12, '0');
    await client.query(
      `insert into stats_watermarks (source, position, folded_at) values
         ('deductions', $1, now()),
         ('order_status_changes', pg_snapshot_xmin(pg_current_snapshot())::text, now())
       on conflict (source) do update set position = excluded.position, folded_at = excluded.folded_at`,
      [`${ms.slice(0, 8)}-${ms.slice(8, 12)}-7000-8000-000000000000`],
    );
    await client.query(`drop table fill_cards`);
    await client.query('vacuum (analyze)');
    await client.query('checkpoint');
    step('statistics marked folded, VACUUM ANALYZE, CHECKPOINT');
    const { rows: size } = await client.query(`select pg_database_size(current_database())::float8 as bytes`);
    const databaseBytes = size[0].bytes as number;
    log(`  database: ${round(databaseBytes / 2 ** 30, 2)} GiB`);
    return { seconds: (Date.now() - started) / 1000, sizes, databaseBytes };
  } finally {
    await client.query(`set session_replication_role = origin`).catch(() => undefined);
    client.release();
  }
}
