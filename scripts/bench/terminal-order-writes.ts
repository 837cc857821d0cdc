/**
 * What PostgreSQL does per terminal order on its hot path, without the rest of the stack: the create's
 * statement (insertOrderWithQrPayment), the paying statement with its notify_log entry (payOrderIfOpen),
 * the precreate's outside_calls row (CallRecorder) and the batched callback acknowledgement
 * (recordCallbackAcknowledged), each through the function the API calls, on one school and one terminal
 * (as bench:terminal's vending machine). For variants of the database, each its own cluster: every
 * migration, then the variant's SQL file (`-` for none) — to weigh an index, a key or a check before
 * writing its migration.
 *
 * Counts that do not move with the machine's load, BENCH_CONCURRENCY (8) orders at a time: WAL records and
 * bytes (and full-page images: the CHECKPOINT before the measured orders makes them each page's first change
 * after it), MultiXacts created, rows written per table (HOT or not), pg_stat_statements' calls and plans per
 * order. These move by a few tenths of a record between runs of the same code (how acknowledgements batch).
 *
 * BENCH_CALLGRIND=1: then the same cluster's server again under `valgrind --tool=callgrind`, the orders one
 * at a time in a schedule that does not depend on timing (serialOrders), and the backends' instructions per
 * order: the difference of two phases' totals (80 and 80 + BENCH_CALLGRIND_N orders, 640), so that the
 * backends' start cancels out. Two runs of the same code agree within ≈ 2 %. Background processes (WAL
 * writer, checkpointer) are not counted; the callgrind files are kept (`callgrind_annotate --inclusive=yes`).
 *
 *   BENCH_CALLGRIND=1 BENCH_VARIANTS=/tmp/before.sql,- npx tsx scripts/bench/terminal-order-writes.ts
 *
 * Env: BENCH_VARIANTS (`-`), BENCH_N (2000 measured orders, after 500 of warm-up), BENCH_CONCURRENCY (8),
 * BENCH_CALLGRIND, BENCH_CALLGRIND_N. A minute per variant, four more with callgrind. Needs valgrind.
 */
process.env.TZ = 'Asia/Shanghai';

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { applyMigrations, connectDatabase, type DatabaseHandle } from '../../server/src/db/client.js';
import { startEmbeddedPostgres, WRITE_TUNING } from '../../server/src/db/embedded-postgres.js';
import { recordCallbackAcknowledged } from '../../server/src/db/repos/terminals/batched-writes.js';
import { insertOrderWithQrPayment, payOrderIfOpen } from '../../server/src/db/repos/terminals/orders.js';
import { findTerminalOfClient } from '../../server/src/db/repos/terminals/terminals.js';
import { CallRecorder } from '../../server/src/domain/orders/call-recorder.js';
import { createLogger } from '../../server/src/lib/logger.js';
import { STATEMENT_PROFILE_FLAGS } from './statement-profile.js';
import { round } from './stats.js';

const VARIANTS = (process.env.BENCH_VARIANTS ?? '-').split(',');
const N = Number(process.env.BENCH_N ?? 2_000);
const WARMUP = 500;
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const SCHOOL_ID = '00000000-0000-4000-8000-00000000000a';
const CLIENT_ID = 'bench-terminal-client';

async function setUp(pool: pg.Pool): Promise<void> {
  await pool.query(
    `insert into schools (id, code, name, status, alipay_app_auth_token_enc, cardsys_endpoint, cardsys_username,
       cardsys_password_enc, txn_limit_fen, daily_limit_fen)
     values ($1, '1000000000', '压测大学', 'ACTIVE', 'none', 'http://127.0.0.1:1/none', 'bench', 'none', 5000, 1000000000)`,
    [SCHOOL_ID],
  );
  await pool.query(
    `insert into gateway_clients (id, school_id, name, secret_enc, kind) values ($1, $2, 'bench', 'none', 'TERMINAL')`,
    [CLIENT_ID, SCHOOL_ID],
  );
  await pool.query(
    `insert into terminals (school_id, terminal_id, kind, name, gateway_client_id, callback_url)
     values ($1, 'BENCH-VM-1', 'VENDING', '压测售货机', $2, 'http://127.0.0.1:1/callback')`,
    [SCHOOL_ID, CLIENT_ID],
  );
}

type Known = NonNullable<Awaited<ReturnType<typeof findTerminalOfClient>>>;

/**
 * One order as the API writes it: made with its QR (the terminal and school as read once, like the API's
 * copy of them), its precreate recorded (CallRecorder: one statement per 200 ms of calls), paid, its
 * callback acknowledged (batched).
 */
async function makeAndPay(
  handle: DatabaseHandle,
  recorder: CallRecorder,
  known: Known,
  i: number,
): Promise<string> {
  const { terminal, school, versions } = known;
  const now = new Date();
  const orderNo = `T${String(i).padStart(12, '0')}`;
  const made = await insertOrderWithQrPayment(
    handle.db,
    {
      orderNo,
      schoolId: school.id,
      terminalRef: terminal.id,
      terminalId: terminal.terminalId,
      outOrderNo: `B${i}`,
      requestHash: 'x'.repeat(64),
      items: [{ name: '可乐', quantity: 1, unitFen: 300 }],
      amountFen: 300,
      subject: '压测售货机 可乐',
      expiresAt: new Date(now.getTime() + 120_000),
      qrCode: `https://qr.alipay.com/bax${orderNo}`,
    },
    `${orderNo}Q`,
    versions,
  );
  assert.ok(made, `order ${i} made`);
  recorder.record({
    system: 'ALIPAY',
    operation: 'alipay.trade.precreate',
    reference: `${orderNo}Q`,
    outcome: 'OK',
    code: '10000',
    subCode: null,
    startedAt: now,
    durationMs: 3,
  });
  const form = {
    notify_type: 'trade_status_sync',
    notify_id: `n${orderNo}`,
    out_trade_no: `${orderNo}Q`,
    trade_no: `2026${orderNo}`,
    trade_status: 'TRADE_SUCCESS',
    total_amount: '3.00',
    app_id: '2021000000000000',
    buyer_id: '2088000000000001',
    sign: 's'.repeat(344),
  };
  const paid = await payOrderIfOpen(
    handle.db,
    {
      outTradeNo: `${orderNo}Q`,
      paidFen: 300,
      sellerId: null,
      authAppId: null,
      callbackLeaseUntil: new Date(now.getTime() + 30_000),
    },
    { tradeNo: form.trade_no, buyerId: form.buyer_id, at: now },
    { form, isVerified: true, outcome: 'APPLIED', detail: 'PAID', at: now },
  );
  assert.ok(paid, `order ${i} paid`);
  return paid.order.id;
}

const acknowledge = (handle: DatabaseHandle, id: string) =>
  recordCallbackAcknowledged(handle.pool, { id, attempts: 1, at: new Date() });

async function orders(handle: DatabaseHandle, from: number, count: number): Promise<void> {
  const known = await findTerminalOfClient(handle.db, CLIENT_ID);
  assert.ok(known);
  const recorder = new CallRecorder(handle.db, createLogger({ level: 'error' }));
  let next = from;
  const worker = async () => {
    while (next < from + count) await acknowledge(handle, await makeAndPay(handle, recorder, known, next++));
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  await recorder.flush();
}

/**
 * The same orders one at a time, in a schedule that does not depend on timing (for callgrind): the
 * precreates recorded 40 to a statement (200 ms of calls at 200 orders/s), the acknowledgements of 16
 * orders submitted together (two written alone, the other 14 in one statement, as batched-writes.ts does).
 */
async function serialOrders(handle: DatabaseHandle, from: number, count: number): Promise<void> {
  const known = await findTerminalOfClient(handle.db, CLIENT_ID);
  assert.ok(known);
  const recorder = new CallRecorder(handle.db, createLogger({ level: 'error' }), {
    flushAfterMs: 3_600_000,
    batchSize: 40,
  });
  for (let group = from; group < from + count; group += 16) {
    const paid: string[] = [];
    for (let i = group; i < group + 16; i++) paid.push(await makeAndPay(handle, recorder, known, i));
    await Promise.all(paid.map((id) => acknowledge(handle, id)));
  }
  await recorder.flush();
}

interface Counters {
  walRecords: number;
  walBytes: number;
  walFpi: number;
  multiXacts: number;
  commits: number;
}

async function counters(pool: pg.Pool): Promise<Counters> {
  const { rows } = await pool.query<Record<keyof Counters, string>>(
    `select w.wal_records as "walRecords", w.wal_bytes as "walBytes", w.wal_fpi as "walFpi",
            mxid_age(d.datminmxid) as "multiXacts",
            (select xact_commit from pg_stat_database where datname = current_database()) as commits
       from pg_stat_wal w, pg_database d where d.datname = current_database()`,
  );
  return Object.fromEntries(Object.entries(rows[0]).map(([k, v]) => [k, Number(v)])) as unknown as Counters;
}

async function measure(url: string, label: string): Promise<void> {
  const stats = new pg.Pool({ connectionString: url, max: 1 });
  try {
    await setUp(stats);
    const warmup = connectDatabase(url, { poolSize: CONCURRENCY + 2 });
    await orders(warmup, 0, WARMUP);
    await warmup.close();
    await stats.query('analyze');
    await stats.query('checkpoint');
    await stats.query('select pg_stat_statements_reset()');
    await stats.query(`select pg_stat_reset_shared('wal')`);
    await stats.query('select pg_stat_reset()');
    const before = await counters(stats);
    // A backend hands its counters to the statistics when it exits: the measured orders get connections of
    // their own, closed before the counters are read.
    const handle = connectDatabase(url, { poolSize: CONCURRENCY + 2 });
    await orders(handle, WARMUP, N);
    await handle.close();
    await new Promise((r) => setTimeout(r, 1000));
    const after = await counters(stats);
    const per = (key: keyof Counters) => round((after[key] - before[key]) / N, 2);
    console.log(`\n${label}: ${N} orders, ${CONCURRENCY} at a time`);
    console.log(
      `  per order: ${per('walRecords')} WAL records, ${per('walBytes')} WAL bytes (${per('walFpi')} full-page images), ${per('multiXacts')} MultiXacts, ${per('commits')} commits`,
    );
    const tables = await stats.query<{ name: string; ins: string; upd: string; hot: string; idx: string }>(
      `select relname as name, n_tup_ins as ins, n_tup_upd as upd, n_tup_hot_upd as hot,
              (select count(*) from pg_index i where i.indrelid = t.relid) as idx
         from pg_stat_user_tables t where n_tup_ins + n_tup_upd > 0 order by relname`,
    );
    for (const t of tables.rows)
      console.log(
        `  ${t.name.padEnd(20)} ${round(Number(t.ins) / N, 2)} ins, ${round(Number(t.upd) / N, 2)} upd (${round(Number(t.hot) / N, 2)} HOT), ${t.idx} indexes`,
      );
    const statements = await stats.query<{ calls: string; plans: string; query: string }>(
      `select calls, plans, regexp_replace(query, '\\s+', ' ', 'g') as query from pg_stat_statements
        where query not like '%pg_stat%' and query not like 'analyze%' and query not like 'checkpoint%'
        order by calls desc limit 12`,
    );
    for (const s of statements.rows)
      console.log(
        `  ${String(round(Number(s.calls) / N, 2)).padStart(6)} calls ${String(round(Number(s.plans) / N, 2)).padStart(6)} plans  ${s.query.slice(0, 120)}`,
      );
  } finally {
    await stats.end();
  }
}

const CALLGRIND = process.env.BENCH_CALLGRIND === '1';
/**
 * Orders of the callgrind phases (multiples of 80: whole groups of 16 and whole statements of 40): the
 * difference of their totals is CALLGRIND_MANY - CALLGRIND_FEW orders.
 */
const CALLGRIND_FEW = 80;
const CALLGRIND_MANY = 80 + 80 * Math.ceil(Number(process.env.BENCH_CALLGRIND_N ?? 640) / 80);

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * The cluster's server again, under `valgrind --tool=callgrind` (each backend writes its own file when it
 * exits), on the same port: the orders of two phases, each on connections of its own (exactly
 * BENCH_CONCURRENCY), and the backends' instructions of the larger phase less the smaller's, per order
 * between them — the backends' start and first reads of the catalogs cancel out. Background processes (the
 * WAL writer, the checkpointer) are not counted.
 */
async function countInstructions(url: string, dataDir: string, outDir: string): Promise<number> {
  const { postgres } = (await import(`@embedded-postgres/${os.platform()}-${os.arch()}`)) as {
    postgres: string;
  };
  const owner = fs.statSync(dataDir);
  fs.mkdirSync(outDir, { recursive: true });
  fs.chownSync(outDir, owner.uid, owner.gid);
  const runAs = process.getuid?.() === 0 ? { uid: owner.uid, gid: owner.gid } : {};
  const server = spawn(
    'valgrind',
    [
      '--tool=callgrind',
      `--callgrind-out-file=${outDir}/cg.%p`,
      postgres,
      '-D',
      dataDir,
      '-p',
      new URL(url).port,
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      '-c',
      'autovacuum=off',
      ...WRITE_TUNING,
    ],
    { ...runAs, stdio: 'ignore', env: { ...process.env, TMPDIR: outDir, LC_ALL: 'C' } },
  );
  try {
    await waitFor(
      'PostgreSQL under valgrind',
      async () => {
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        await client.end();
        return true;
      },
      180_000,
    );
    let first = 1_000_000;
    const phase = async (count: number): Promise<number> => {
      const handle = connectDatabase(url, { poolSize: 3, applicationName: `phase-${first}` });
      await serialOrders(handle, first, count);
      first += count;
      const { rows } = await handle.pool.query<{ pid: number }>(
        'select pid from pg_stat_activity where application_name = $1',
        [`phase-${first - count}`],
      );
      backends.push(rows.length);
      await handle.close();
      let total = 0;
      for (const { pid } of rows)
        total += await waitFor(
          `callgrind output of backend ${pid}`,
          async () => {
            const match = /^totals: (\d+)$/m.exec(fs.readFileSync(`${outDir}/cg.${pid}`, 'utf8'));
            return match ? Number(match[1]) : undefined;
          },
          60_000,
        );
      return total;
    };
    const backends: number[] = [];
    const few = await phase(CALLGRIND_FEW);
    const many = await phase(CALLGRIND_MANY);
    // Each backend's start and first reads of the catalogs cancel out only if both phases had as many.
    assert.equal(backends[0], backends[1], `backends of the two phases: ${backends.join(', ')}`);
    return (many - few) / (CALLGRIND_MANY - CALLGRIND_FEW);
  } finally {
    server.kill('SIGINT');
    await new Promise((r) => server.once('exit', r));
  }
}

async function main() {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'terminal-order-writes-'));
  fs.chmodSync(workDir, 0o777);
  try {
    for (const [i, sqlFile] of VARIANTS.entries()) {
      const embedded = await startEmbeddedPostgres({
        baseDir: path.join(workDir, `variant-${i}`),
        database: 'campus',
        durability: 'full',
        logger: createLogger({ level: 'error' }),
        extraFlags: [...STATEMENT_PROFILE_FLAGS, '-c', 'autovacuum=off'],
      });
      try {
        await applyMigrations(embedded.url);
        const pool = new pg.Pool({ connectionString: embedded.url, max: 1 });
        await pool.query('create extension if not exists pg_stat_statements');
        if (sqlFile !== '-') await pool.query(fs.readFileSync(sqlFile, 'utf8'));
        await pool.end();
        await measure(embedded.url, sqlFile);
      } finally {
        await embedded.stop();
      }
      if (CALLGRIND) {
        const perOrder = await countInstructions(
          embedded.url,
          embedded.dataDir,
          path.join(workDir, `callgrind-${i}`),
        );
        console.log(
          `  PostgreSQL backends' instructions per order (callgrind): ${(perOrder / 1e6).toFixed(3)} million`,
        );
      }
    }
  } finally {
    for (const [i] of VARIANTS.entries())
      fs.rmSync(path.join(workDir, `variant-${i}`), { recursive: true, force: true });
    if (CALLGRIND) console.log(`callgrind output (callgrind_annotate --inclusive=yes …): ${workDir}`);
    else fs.rmSync(workDir, { recursive: true, force: true });
  }
}

void main();
