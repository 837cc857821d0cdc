/**
 * `npm run bench:admin` (issue 13): one school with 1,000,000 deductions and 200,000 recharges over 90 days
 * (with their status history: 1.5 million status changes), then
 *   - the dashboard, GET /api/v1/admin/schools/:id/dashboard, p95 over 200 calls;
 *   - orders searches, GET …/orders, p95 over 200 calls of five shapes (a card's swipes, a txnNo, an order
 *     number, the arrears, one day's collected swipes, a card's recharges);
 *   - a 50,000-row roster import uploaded as CSV (multipart) and imported by the `roster.import` job in a
 *     worker process, rows per second from the job's start to its end (hashing and encryption included).
 * The rows are written with SQL (generate_series) as the platform would have left them, ids time-ordered
 * (uuidv7 of their creation time, as decide_deduction makes them); the statistics fold is then run once and
 * timed. Layout as in production (harness.ts): API process, worker, sandboxes in their own processes.
 * Last line: {"dashboard_p95_ms", "search_p95_ms", "roster_rows_per_s", …}.
 *
 * Env: BENCH_DEDUCTIONS (1000000), BENCH_RECHARGES (200000), BENCH_CALLS (200), BENCH_ROSTER_ROWS (50000);
 * BENCH_ONLY=roster skips the seeding, the dashboard and the search (the import does not read those rows).
 */
process.env.TZ = 'Asia/Shanghai';
process.env.LOG_LEVEL ??= 'error';

import { idNumberCheckChar } from '../../shared/id-number.js';
import { refreshDailyStats } from '../../server/src/domain/dashboard/daily-stats.js';
import { json } from './api.js';
import { cpuSeconds, postgresCpuSeconds, startBenchStack, type BenchStack } from './harness.js';
import { percentile, round } from './stats.js';

const DEDUCTIONS = Number(process.env.BENCH_DEDUCTIONS ?? 1_000_000);
const RECHARGES = Number(process.env.BENCH_RECHARGES ?? 200_000);
const CALLS = Number(process.env.BENCH_CALLS ?? 200);
const ROSTER_ROWS = Number(process.env.BENCH_ROSTER_ROWS ?? 50_000);
const ROSTER_ONLY = process.env.BENCH_ONLY === 'roster';
const CARDS = 20_000;
const DAYS = 90;

async function seed(stack: BenchStack): Promise<void> {
  const { pool } = stack.db;
  const school = stack.school.id;
  const started = Date.now();
  const client = await pool.connect();
  try {
    // Rows as the platform leaves them: the status history is written below as the triggers would have.
    await client.query(`set session_replication_role = replica`);
    await client.query(
      `insert into users (alipay_open_id) select 'bench-' || g from generate_series(1, $1) g`,
      [CARDS],
    );
    await client.query(
      `insert into bindings (school_id, user_id, card_no, holder_name, relation, status, is_withholding_payer)
       select $1, u.id, '9' || lpad(n::text, 7, '0'), '学生' || n, 'SELF', 'ACTIVE', true
       from (select id, row_number() over (order by id) as n from users where alipay_open_id like 'bench-%') u`,
      [school],
    );
    await client.query(
      `insert into withholding_agreements (school_id, user_id, external_agreement_no, agreement_no, status, sign_scene, signed_at)
       select b.school_id, b.user_id, 'A' || b.card_no, 'AG' || b.card_no, 'ACTIVE', 'INDUSTRY|CAMPUS', now() - interval '90 days'
       from bindings b where b.school_id = $1`,
      [school],
    );
    console.log(`  ${CARDS} users, bindings and agreements (${round((Date.now() - started) / 1000)} s)`);

    // Deductions: 94 % collected, 3 % declined (three reasons), 2 % settled, and the open tail.
    await client.query(
      `insert into deductions (id, deduction_no, school_id, txn_no, card_no, amount_fen, terminal_id, occurred_at,
         payer_user_id, decision, decline_reason, status, attempts, out_trade_no, collected_at, created_at, updated_at)
       select uuidv7(t - now()), 'D' || g, $1, 'T' || g, '9' || lpad((1 + g % $3)::text, 7, '0'), 300 + g % 1200,
         'POS-' || (g % 40), t, null,
         case when g % 100 < 3 then 'DECLINED' else 'APPROVED' end,
         case when g % 100 = 0 then 'NOT_SIGNED' when g % 100 = 1 then 'OVER_DAILY_LIMIT' when g % 100 = 2 then 'IN_ARREARS' end,
         case when g % 100 < 3 then 'DECLINED' when g % 100 < 5 then 'SETTLED' when g % 1000 = 5 then 'ARREARS'
              when g % 1000 = 6 then 'RETRYING' else 'COLLECTED' end,
         case when g % 100 < 3 then 0 else 1 end,
         case when g % 100 < 3 then null else 'D' || g end,
         case when g % 100 >= 5 and g % 1000 not in (5, 6) then t + interval '2 seconds' end,
         t, t
       from (select g, now() - (interval '${DAYS} days') * (1 - g::float8 / $2) as t
             from generate_series(1, $2) g) s`,
      [school, DEDUCTIONS, CARDS],
    );
    console.log(`  ${DEDUCTIONS} deductions (${round((Date.now() - started) / 1000)} s)`);
    await client.query(
      `insert into recharge_orders (out_trade_no, school_id, user_id, binding_id, card_no, amount_fen, status,
         alipay_trade_no, credit_attempts, expires_at, paid_at, credited_at, created_at, updated_at)
       select 'R' || g, $1, b.user_id, b.id, b.card_no, 1000 * (1 + g % 20),
         case when g % 2000 = 0 then 'CREDIT_FAILED' when g % 500 = 1 then 'CLOSED' else 'CREDITED' end,
         'T' || g, 1, t + interval '15 minutes', t + interval '20 seconds',
         case when g % 2000 <> 0 and g % 500 <> 1 then t + interval '21 seconds' end, t, t
       from (select g, now() - (interval '${DAYS} days') * (1 - g::float8 / $2) as t
             from generate_series(1, $2) g) s
       join bindings b on b.school_id = $1 and b.card_no = '9' || lpad((1 + s.g % $3)::text, 7, '0')`,
      [school, RECHARGES, CARDS],
    );
    console.log(`  ${RECHARGES} recharges (${round((Date.now() - started) / 1000)} s)`);
    // Their status history, as the triggers write it (txid 0: folded already by the first fold below).
    await client.query(
      `insert into order_status_changes (school_id, order_kind, order_no, from_status, to_status, amount_fen, changed_at, txid)
       select school_id, 'RECHARGE', out_trade_no, f, t, amount_fen, at, pg_current_xact_id()::text::bigint
       from recharge_orders r,
       lateral (values (null, 'CREATED', r.created_at), ('CREATED', 'PAID', r.paid_at),
                       ('PAID', case when r.status = 'CLOSED' then null else r.status end, r.credited_at)) v(f, t, at)
       where r.school_id = $1 and v.t is not null and v.at is not null and r.status <> 'CLOSED' or
             (r.school_id = $1 and r.status = 'CLOSED' and v.f is null)`,
      [school],
    );
    await client.query(
      `insert into order_status_changes (school_id, order_kind, order_no, from_status, to_status, amount_fen, changed_at, txid)
       select school_id, 'DEDUCTION', deduction_no, 'PENDING', status, amount_fen,
         coalesce(collected_at, updated_at), pg_current_xact_id()::text::bigint
       from deductions where school_id = $1 and decision = 'APPROVED'`,
      [school],
    );
    console.log(`  status history (${round((Date.now() - started) / 1000)} s)`);
    await client.query(`set session_replication_role = origin`);
    await client.query('vacuum analyze');
    console.log(`  vacuum analyze (${round((Date.now() - started) / 1000)} s)`);
  } finally {
    client.release();
  }
}

async function adminToken(stack: BenchStack): Promise<string> {
  const user = await stack.alipay.control.createUser({ balanceFen: 0 });
  const { authCode } = await stack.alipay.control.issueAuthCode({
    userId: user.userId,
    appId: stack.alipay.appId,
  });
  const session = await json('POST', `${stack.bffUrl}/api/v1/session`, { authCode });
  if (session.status !== 200) throw new Error(`login failed: ${session.text}`);
  await stack.db.pool.query(`insert into school_admins (school_id, user_id, role) values ($1, $2, 'OWNER')`, [
    stack.school.id,
    session.body.user.id,
  ]);
  return session.body.token;
}

async function timeCalls(paths: string[], token: string, stack: BenchStack) {
  const ms: number[] = [];
  for (const path of paths) {
    const started = performance.now();
    const res = await json('GET', `${stack.bffUrl}${path}`, undefined, token);
    ms.push(performance.now() - started);
    if (res.status !== 200) throw new Error(`${path}: ${res.status} ${res.text}`);
  }
  ms.sort((a, b) => a - b);
  return { p50: round(percentile(ms, 50)), p95: round(percentile(ms, 95)), max: round(ms[ms.length - 1]) };
}

function rosterCsv(rows: number): string {
  const lines = ['姓名,学号,卡号,身份证号,手机号,监护人手机,是否学生'];
  for (let i = 0; i < rows; i += 1) {
    const first17 = `1101012005${String(1 + (i % 12)).padStart(2, '0')}${String(1 + (i % 28)).padStart(2, '0')}${String(i % 1000).padStart(3, '0')}`;
    const id = first17 + idNumberCheckChar(first17);
    const phone = `138${String(i).padStart(8, '0')}`;
    const guardian = `139${String(i).padStart(8, '0')}`;
    lines.push(`学生${i},S${i},8${String(i).padStart(7, '0')},${id},${phone},${guardian},是`);
  }
  return lines.join('\n');
}

async function measureDashboardAndSearch(stack: BenchStack, token: string, base: string) {
  console.log(`seeding one school: ${DEDUCTIONS} deductions, ${RECHARGES} recharges over ${DAYS} days…`);
  await seed(stack);
  const foldStarted = Date.now();
  const folded = await refreshDailyStats(stack.deps);
  const foldSeconds = (Date.now() - foldStarted) / 1000;
  console.log(
    `statistics folded: ${folded.deductions} deductions, ${folded.statusChanges} status changes in ${round(foldSeconds)} s`,
  );

  await timeCalls(Array(10).fill(`${base}/dashboard`), token, stack); // warm-up
  const dashboard = await timeCalls(Array(CALLS).fill(`${base}/dashboard`), token, stack);
  console.log(
    `dashboard: p50 ${dashboard.p50} ms, p95 ${dashboard.p95} ms, max ${dashboard.max} ms (${CALLS} calls)`,
  );

  const day = (back: number) => new Date(Date.now() - back * 86_400_000).toISOString();
  const card = (i: number) => `9${String(1 + ((i * 7919) % CARDS)).padStart(7, '0')}`;
  const shapes = [
    (i: number) => `${base}/orders?kind=DEDUCTION&cardNo=${card(i)}`,
    (i: number) => `${base}/orders?kind=DEDUCTION&txnNo=T${1 + ((i * 104_729) % DEDUCTIONS)}`,
    (i: number) => `${base}/orders?kind=DEDUCTION&orderNo=D${1 + ((i * 15_485_863) % DEDUCTIONS)}`,
    () => `${base}/orders?kind=DEDUCTION&status=ARREARS`,
    (i: number) =>
      `${base}/orders?kind=DEDUCTION&status=COLLECTED&from=${day(1 + (i % 80))}&to=${day(i % 80)}`,
    (i: number) => `${base}/orders?kind=RECHARGE&cardNo=${card(i)}&from=${day(30)}`,
  ];
  const searchPaths = Array.from({ length: CALLS }, (_, i) => shapes[i % shapes.length](i));
  await timeCalls(searchPaths.slice(0, 12), token, stack); // warm-up
  const search = await timeCalls(searchPaths, token, stack);
  console.log(
    `orders search: p50 ${search.p50} ms, p95 ${search.p95} ms, max ${search.max} ms (${CALLS} calls)`,
  );
  return {
    dashboard_p95_ms: dashboard.p95,
    search_p95_ms: search.p95,
    dashboard_p50_ms: dashboard.p50,
    search_p50_ms: search.p50,
    stats_fold_s: round(foldSeconds),
  };
}

/** Uploads the file, waits for the job, and returns its report and its seconds from start to end. */
async function importRoster(stack: BenchStack, token: string, base: string, csv: string) {
  const form = new FormData();
  form.append('file', new Blob([csv]), 'roster.csv');
  const uploaded = await fetch(`${stack.bffUrl}${base}/roster/imports`, {
    method: 'POST',
    body: form,
    headers: { authorization: `Bearer ${token}` },
  });
  const queued = (await uploaded.json()) as { id: string; status: string };
  if (uploaded.status !== 202) throw new Error(`upload: ${uploaded.status} ${JSON.stringify(queued)}`);
  const deadline = Date.now() + 10 * 60_000;
  let report;
  for (;;) {
    report = (await json('GET', `${stack.bffUrl}${base}/roster/imports/${queued.id}`, undefined, token)).body;
    if (report.status === 'DONE' || report.status === 'FAILED') break;
    if (Date.now() > deadline) throw new Error('the roster import did not finish');
    await new Promise((r) => setTimeout(r, 200));
  }
  const { rows } = await stack.db.pool.query(
    'select extract(epoch from finished_at - started_at) as s from roster_imports where id = $1',
    [queued.id],
  );
  return { report, seconds: Number(rows[0].s) };
}

async function measureRosterImport(stack: BenchStack, token: string, base: string) {
  console.log(`roster import: ${ROSTER_ROWS} rows, uploaded as CSV, imported by a worker…`);
  const workerPid = await stack.addWorker();
  // A worker in production is warm: let this one finish starting (loading modules, its first job polls)
  // so that its start-up is not counted as the import's CPU.
  for (let last = cpuSeconds(workerPid), settled = Date.now() + 30_000; Date.now() < settled;) {
    await new Promise((r) => setTimeout(r, 1_000));
    const now = cpuSeconds(workerPid);
    if (now - last < 0.05) break;
    last = now;
  }
  const csv = rosterCsv(ROSTER_ROWS);
  // CPU per row of the worker (reading, checks, hashing, encryption, the driver) and of PostgreSQL: on two
  // cores, what bounds the import is the larger of the two or their sum over two.
  const timed = async (expect: 'inserted' | 'unchanged') => {
    const before = { worker: cpuSeconds(workerPid), postgres: postgresCpuSeconds(stack.pids.postgres) };
    const { report, seconds } = await importRoster(stack, token, base, csv);
    if (report.status !== 'DONE' || report[expect] !== ROSTER_ROWS)
      throw new Error(`roster import: ${JSON.stringify(report).slice(0, 500)}`);
    const perRowUs = (cpu: number) => round((cpu * 1e6) / ROSTER_ROWS, 0);
    return {
      seconds,
      rowsPerS: round(ROSTER_ROWS / seconds, 0),
      workerUs: perRowUs(cpuSeconds(workerPid) - before.worker),
      postgresUs: perRowUs(postgresCpuSeconds(stack.pids.postgres) - before.postgres),
    };
  };
  const first = await timed('inserted');
  console.log(
    `roster import: ${ROSTER_ROWS} inserted in ${round(first.seconds, 2)} s → ${first.rowsPerS} rows/s ` +
      `(CPU per row: worker ${first.workerUs} µs, PostgreSQL ${first.postgresUs} µs)`,
  );
  // The same file again: every row is read, checked, hashed, encrypted and compared; nothing is written.
  const again = await timed('unchanged');
  console.log(
    `the same file again: ${ROSTER_ROWS} unchanged in ${round(again.seconds, 2)} s → ${again.rowsPerS} rows/s ` +
      `(CPU per row: worker ${again.workerUs} µs, PostgreSQL ${again.postgresUs} µs)`,
  );
  return {
    roster_rows_per_s: first.rowsPerS,
    roster_again_rows_per_s: again.rowsPerS,
    roster_worker_cpu_us_per_row: first.workerUs,
    roster_postgres_cpu_us_per_row: first.postgresUs,
  };
}

async function main() {
  const stack = await startBenchStack({
    apiOnly: true,
    env: { ADMIN_STATS_LAG_MS: '0', ROSTER_MAX_BYTES: String(50 * 1024 * 1024) },
  });
  try {
    const token = await adminToken(stack);
    const base = `/api/v1/admin/schools/${stack.school.id}`;
    const reads = ROSTER_ONLY ? {} : await measureDashboardAndSearch(stack, token, base);
    const roster = await measureRosterImport(stack, token, base);
    console.log(JSON.stringify({ ...reads, ...roster }));
  } finally {
    await stack.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
