/**
 * `npm run bench:deduct`: POS swipes against POST /gateway/v1/deductions, with valid signatures, fresh
 * txnNos and nonces, on bound and signed cards, on the embedded PostgreSQL (its own throwaway cluster, full
 * durability). In the same run and on the same server, two reference routes (BENCH_REFERENCE_ROUTES=1):
 * `/bench/bare` (Koa, no work) and `/bench/one-insert` (one `insert … on conflict do nothing returning`
 * into an indexed table: the floor for a durable, idempotent answer).
 *
 * The deduct route is measured three ways in the same run (issue 18 §1), the server restarted for each:
 * `deduct` as configured (decisions batched, DEDUCT_BATCH_*), `deduct-unbatched` (DEDUCT_BATCH_MAX=1: one
 * transaction and one WAL flush per swipe, as before batching) and `deduct-group-commit` (unbatched, with
 * PostgreSQL's own group commit: commit_delay BENCH_COMMIT_DELAY_US, commit_siblings BENCH_COMMIT_SIBLINGS).
 *
 * The server runs in its own process with ROLE=api: it decides, nothing collects (the collector is not
 * draining during the measurement). autocannon runs here; each phase's requests are built and signed before
 * it starts (prepareRequests), for every route alike.
 * Phases per route: fixed rates of 100, 200, 500 and 1,000 req/s (autocannon overallRate), then saturation.
 * CPU time of the load generator, the server and PostgreSQL is measured during the saturation phases, with
 * the WAL flushes (requests per flush: the one-insert route is flush-bound while its flushes carry fewer
 * requests than its pool has connections) and the server's decision batches (swipes per batch, /metrics).
 * `deduct-one-slot` (DEDUCT_BATCH_IN_FLIGHT=1, DEDUCT_BATCH_MAX=64) runs only when named in BENCH_TARGETS.
 * Last line: {max_approvals_per_s, p50_ms_at_1000, p99_ms_at_1000, ratio_to_bare, ratio_to_one_insert,
 * p99_ms_at_100, and the same for the unbatched and group-commit variants (…_unbatched, …_group_commit)}.
 *
 * Env: BENCH_CARDS (10000), BENCH_SECONDS (8 per rate phase), BENCH_SATURATION_SECONDS (10),
 * BENCH_CONNECTIONS (64 at saturation), BENCH_POOL (server pool, 20), BENCH_PREPARED_PER_S (6000 requests
 * prepared per second of saturation), BENCH_COMMIT_DELAY_US (200), BENCH_COMMIT_SIBLINGS (5); DEDUCT_BATCH_*
 * pass through to the `deduct` variant. BENCH_PREFILLED,
 * BENCH_FILL_* and BENCH_FILL_DIR / BENCH_FILL_ONLY: the same figures on a platform that has run for a year
 * (prefill.ts).
 */
process.env.TZ = 'Asia/Shanghai';
process.env.LOG_LEVEL ??= 'error';
process.env.TEST_PG_DURABILITY ??= 'full';

import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import { buildGatewayHeaders, gatewaySecretKey } from '../../shared/gateway-signature.js';
import { insertBoundCards } from './bound-cards.js';
import {
  fillDirFromEnv,
  prefillDatabase,
  prefillMode,
  reportTableScans,
  startMeasuringOnKeptFill,
  runBench,
  startFromFill,
} from './prefill.js';

const CARDS = Number(process.env.BENCH_CARDS ?? 10_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const SATURATION_SECONDS = Number(process.env.BENCH_SATURATION_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const POOL = Number(process.env.BENCH_POOL ?? 20);
/** Requests prepared per second of the saturation phase (prepareRequests); more are built as they go. */
const PREPARED_PER_S_AT_SATURATION = Number(process.env.BENCH_PREPARED_PER_S ?? 6_000);
const RATES = [100, 200, 500, 1_000];
const GROUP_COMMIT = {
  commit_delay: process.env.BENCH_COMMIT_DELAY_US ?? '200',
  commit_siblings: process.env.BENCH_COMMIT_SIBLINGS ?? '5',
};

interface Target {
  name: string;
  path: string;
  signed: boolean;
  /** The server's settings for this target (it is restarted when they change). */
  env?: Record<string, string>;
  /** PostgreSQL settings for this target (ALTER SYSTEM, reset afterwards). */
  pg?: Record<string, string>;
}

const DEDUCT = '/gateway/v1/deductions';
const ALL_TARGETS: Target[] = [
  { name: 'deduct', path: DEDUCT, signed: true },
  { name: 'deduct-unbatched', path: DEDUCT, signed: true, env: { DEDUCT_BATCH_MAX: '1' } },
  {
    name: 'deduct-group-commit',
    path: DEDUCT,
    signed: true,
    env: { DEDUCT_BATCH_MAX: '1' },
    pg: GROUP_COMMIT,
  },
  { name: 'one-insert', path: '/bench/one-insert', signed: false },
  { name: 'bare', path: '/bench/bare', signed: false },
  // Only when named in BENCH_TARGETS: one batch slot, so the swipes that queue meanwhile make batches about
  // twice as large (PostgreSQL's CPU per swipe falls with the batch's size: README "Performance").
  {
    name: 'deduct-one-slot',
    path: DEDUCT,
    signed: true,
    env: { DEDUCT_BATCH_IN_FLIGHT: '1', DEDUCT_BATCH_MAX: '64' },
  },
];
const DEFAULT_TARGETS = ALL_TARGETS.filter((t) => t.name !== 'deduct-one-slot');
/** BENCH_TARGETS=deduct,one-insert to run only some (the JSON summary needs the default five). */
const TARGETS = process.env.BENCH_TARGETS
  ? ALL_TARGETS.filter((t) => process.env.BENCH_TARGETS!.split(',').includes(t.name))
  : DEFAULT_TARGETS;

/** WAL written so far (records, full-page images, bytes): what each answer costs the disk. */
async function walStats(
  databaseUrl: string,
): Promise<{ records: number; fpi: number; bytes: number; syncs: number }> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query(
      `select wal_records, wal_fpi, wal_bytes,
         (select sum(fsyncs) from pg_stat_io where object = 'wal') as wal_sync from pg_stat_wal`,
    );
    return {
      records: Number(rows[0].wal_records),
      fpi: Number(rows[0].wal_fpi),
      bytes: Number(rows[0].wal_bytes),
      syncs: Number(rows[0].wal_sync ?? 0),
    };
  } finally {
    await client.end();
  }
}

/** The server's decision batches so far (its /metrics histogram): how many swipes one commit carried. */
async function decisionBatches(url: string): Promise<{ count: number; sum: number }> {
  const text = await fetch(`${url}/metrics`).then((response) => (response.ok ? response.text() : ''));
  const value = (name: string) =>
    Number(new RegExp(`^campus_deduction_decision_batch_swipes_${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  return { count: value('count'), sum: value('sum') };
}

/** Server-wide settings for one target (commit_delay and commit_siblings need no restart). */
async function setPostgres(
  databaseUrl: string,
  settings: Record<string, string>,
  reset = false,
): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    for (const [name, value] of Object.entries(settings))
      await client.query(reset ? `alter system reset ${name}` : `alter system set ${name} = '${value}'`);
    await client.query('select pg_reload_conf()');
  } finally {
    await client.end();
  }
}

interface Phase {
  target: string;
  rate: number | 'max';
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

/** CPU seconds (user + system) used so far by each of these processes. */
function cpuSeconds(pids: number[]): Map<number, number> {
  const tick = 100;
  const used = new Map<number, number>();
  for (const pid of pids) {
    try {
      const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      used.set(pid, (Number(fields[11]) + Number(fields[12])) / tick);
    } catch {
      // gone
    }
  }
  return used;
}

/** CPU used between two samples; processes that started meanwhile count from zero, ended ones are lost. */
function cpuSince(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, seconds] of after) total += seconds - (before.get(pid) ?? 0);
  return total;
}

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.split(') ')[1].split(' ')[1]) === pid) out.push(Number(entry));
    } catch {
      // gone
    }
  }
  return out;
}

function descendants(pid: number): number[] {
  const all = [pid];
  for (const child of childrenOf(pid)) all.push(...descendants(child));
  return all;
}

/** Samples pg_stat_activity every 100 ms: what active backends wait on (CPU, WAL flush, locks…). */
function sampleWaits(databaseUrl: string) {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  const counts = new Map<string, number>();
  let running = true;
  const loop = (async () => {
    while (running) {
      const { rows } = await pool
        .query(
          `select coalesce(wait_event_type || ':' || wait_event, 'CPU') as what, count(*)::int as n
           from pg_stat_activity where state = 'active' and pid <> pg_backend_pid() and backend_type = 'client backend'
           group by 1`,
        )
        .catch(() => ({ rows: [] as Array<{ what: string; n: number }> }));
      for (const row of rows) counts.set(row.what, (counts.get(row.what) ?? 0) + row.n);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  return {
    async stop(): Promise<string> {
      running = false;
      await loop;
      await pool.end();
      return [...counts.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 6)
        .map(([what, n]) => `${what} ${n}`)
        .join(', ');
    },
  };
}

async function seed(databaseUrl: string, piiKey: string, fromKeptFill: boolean) {
  const { connectDatabase } = await import('../../server/src/db/client.js');
  const { DataProtector } = await import('../../server/src/lib/crypto.js');
  const { insertSchoolIfNew } = await import('../../server/src/db/repos/schools/schools.js');
  const { createGatewayClient } = await import('../../server/src/domain/schools/gateway-clients.js');
  const database = connectDatabase(databaseUrl, { poolSize: 2 });
  const protector = new DataProtector(Buffer.from(piiKey, 'base64'));
  try {
    // Straight into the table, ACTIVE: no swipe here reaches Alipay or the card system.
    const school = (await insertSchoolIfNew(database.db, {
      code: String(crypto.randomInt(10 ** 9, 10 ** 10 - 1)),
      name: '压测大学',
      status: 'ACTIVE',
      alipayAppAuthTokenEnc: protector.encrypt('bench-no-alipay'),
      cardsysEndpoint: 'http://127.0.0.1:1/none',
      cardsysUsername: 'bench',
      cardsysPasswordEnc: protector.encrypt('bench'),
      txnLimitFen: 5_000,
      dailyLimitFen: 1_000_000_000,
    }))!;
    await insertBoundCards(database.pool, school.id, CARDS, protector.encrypt('bench-bind-password'));
    await database.pool.query('analyze');
    // BENCH_PREFILLED: the same figures on a platform that has run for a year (prefill.ts), filled now or
    // copied from a kept fill (BENCH_FILL_DIR).
    if (prefillMode() === 'filled') {
      if (fromKeptFill) await startMeasuringOnKeptFill(databaseUrl);
      else await prefillDatabase(databaseUrl, [school.id]);
    }
    const client = await createGatewayClient(
      { db: database.db, protector },
      { schoolId: school.id, name: 'bench' },
    );
    return { schoolId: school.id, ...client };
  } finally {
    await database.close();
  }
}

async function startServerProcess(
  env: Record<string, string>,
): Promise<{ url: string; child: ChildProcess }> {
  // BENCH_CPU_PROF=<dir>: the server writes a V8 CPU profile there when it exits; the saturation phases'
  // windows are printed (BENCH_WINDOW) for scripts/bench/cpu-profile.ts --window.
  const profile = process.env.BENCH_CPU_PROF
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
    : [];
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', 'server/src/main.ts'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let buffer = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const match = /"url":"(http:[^"]+)"/.exec(buffer);
      if (match) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  child.stdout!.resume();
  return { url, child };
}

/**
 * The requests of one phase, built and signed before it starts, for every route alike: the load generator
 * shares the two cores with the server and PostgreSQL, and the reference routes take no signature, so a
 * swipe signed inside the measured window took CPU from the system under test that the reference routes'
 * harness never took (issue 18 §1). Timestamps and occurredAt stay within the gateway's five-minute window
 * and the swipe's age limit (a phase lasts seconds); each request keeps its own nonce and txnNo. A phase
 * that outruns its prepared requests builds the rest as it goes, and says how many.
 */
interface PreparedRequests {
  runId: string;
  /** Requests built inside the phase, after the prepared ones ran out. */
  builtLive: () => number;
  setupRequest: (request: autocannon.Request) => autocannon.Request;
}

function prepareRequests(
  target: Target,
  gateway: { clientId: string; secret: string },
  rate: number | 'max',
): PreparedRequests {
  const runId = `B${crypto.randomBytes(4).toString('hex')}`;
  // The key made once, as a real POS gateway would keep it.
  const secret = gatewaySecretKey(gateway.secret);
  let counter = 0;
  const build = (): { headers: Record<string, string>; body: string } => {
    counter += 1;
    const body = JSON.stringify({
      txnNo: `${runId}${counter}`,
      cardNo: `C${String(1 + (counter % CARDS)).padStart(7, '0')}`,
      amountFen: 100,
      terminalId: 'T01',
      occurredAt: new Date().toISOString(),
    });
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (target.signed) {
      Object.assign(
        headers,
        buildGatewayHeaders({
          clientId: gateway.clientId,
          secret,
          method: 'POST',
          path: target.path,
          body,
        }),
      );
    }
    return { headers, body };
  };
  // autocannon asks for more requests than it sends at a fixed rate (≈ 1.5× in a 2 s phase).
  const count =
    rate === 'max' ? PREPARED_PER_S_AT_SATURATION * SATURATION_SECONDS : Math.ceil(rate * SECONDS * 2) + 200;
  const prepared = Array.from({ length: count }, build);
  let next = 0;
  let live = 0;
  return {
    runId,
    builtLive: () => live,
    setupRequest: (request) => {
      let built = prepared[next];
      if (built) prepared[next++] = undefined as never;
      else {
        built = build();
        live += 1;
      }
      return { ...request, method: 'POST', path: target.path, headers: built.headers, body: built.body };
    },
  };
}

async function run(
  url: string,
  target: Target,
  rate: number | 'max',
  requests: PreparedRequests,
): Promise<Phase & { runId: string; durationS: number }> {
  const options: autocannon.Options = {
    url,
    connections: rate === 'max' ? CONNECTIONS : Math.max(8, Math.ceil(rate / 50)),
    duration: rate === 'max' ? SATURATION_SECONDS : SECONDS,
    ...(rate === 'max' ? {} : { overallRate: rate }),
    requests: [{ setupRequest: requests.setupRequest as never }],
  };
  const result = await new Promise<autocannon.Result>((resolve, reject) =>
    autocannon(options, (error, done) => (error ? reject(error) : resolve(done))),
  );
  if (requests.builtLive() > 0)
    console.log(
      `${target.name}: ${requests.builtLive()} requests built during the phase (prepared ones ran out)`,
    );
  return {
    target: target.name,
    rate,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    runId: requests.runId,
    durationS: result.duration,
  };
}

async function main() {
  const { freshDatabase, stopTestCluster, testCluster } = await import('../../test/support/db.js');
  // The filled run on a kept fill: a copy of it, started as the test cluster would be (400 connections).
  const keptFill = prefillMode() === 'filled' ? fillDirFromEnv() : undefined;
  const filled = keptFill ? await startFromFill(keptFill, { maxConnections: 400 }) : undefined;
  const databaseUrl = filled?.url ?? (await freshDatabase());
  const { embedded } = filled ?? (await testCluster());
  const stopCluster = filled?.stop ?? stopTestCluster;
  const piiKey = crypto.randomBytes(32).toString('base64');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-deduct-'));
  console.log(`seeding ${CARDS} signed, bound cards…`);
  const gateway = await seed(databaseUrl, piiKey, filled !== undefined);
  const serverEnv = {
    NODE_ENV: 'development',
    ROLE: 'api',
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: databaseUrl,
    DATABASE_POOL_SIZE: String(POOL),
    DATA_DIR: dataDir,
    PII_KEY: piiKey,
    SESSION_SECRET: crypto.randomBytes(32).toString('base64url'),
    LOG_LEVEL: 'info',
    BENCH_REFERENCE_ROUTES: '1',
  };
  let server: Awaited<ReturnType<typeof startServerProcess>> | undefined;
  let serverFor: string | undefined;
  const stopServer = async () => {
    if (!server) return;
    const { child } = server;
    server = undefined;
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  };
  /** The server with this target's settings (a variant of the deduct route is a restart). */
  const serverOf = async (target: Target) => {
    const key = JSON.stringify(target.env ?? {});
    if (server && serverFor === key) return server;
    await stopServer();
    server = await startServerProcess({ ...serverEnv, ...target.env });
    serverFor = key;
    return server;
  };
  const postmaster = Number(
    fs.readFileSync(path.join(embedded.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0],
  );
  const phases: Array<Phase & { runId: string; durationS: number }> = [];
  const at = (name: string, rate: number | 'max') =>
    phases.find((p) => p.target === name && p.rate === rate)!;
  const approvedAtSaturation: Record<string, number> = {};
  const cpu: Record<string, { self: number; server: number; postgres: number; wall: number }> = {};
  try {
    for (const [i, target] of TARGETS.entries()) {
      const { url, child } = await serverOf(target);
      if (target.pg) await setPostgres(databaseUrl, target.pg);
      // Warm-up: plans, pools, JIT.
      await run(url, target, 200, prepareRequests(target, gateway, 200)).catch(() => undefined);
      if (i === 0) {
        // What autovacuum does early in a real deployment (migration 0004): statistics from the table's real
        // size, so that the cached plans use the right indexes.
        const admin = new pg.Pool({ connectionString: databaseUrl, max: 1 });
        await admin.query('analyze');
        await admin.end();
      }
      const label = target.name.padEnd(19);
      for (const rate of RATES) {
        const phase = await run(url, target, rate, prepareRequests(target, gateway, rate));
        phases.push(phase);
        console.log(
          `${label} @${String(rate).padStart(5)}/s: ${phase.rps.toFixed(0).padStart(6)} req/s  p50 ${phase.p50} ms  p99 ${phase.p99} ms  non-2xx ${phase.non2xx}  errors ${phase.errors}`,
        );
      }
      // Read outside the CPU window; not on a filled platform (/metrics counts the deductions table: a scan).
      const saturating = prepareRequests(target, gateway, 'max');
      const countBatches = target.path === DEDUCT && prefillMode() !== 'filled';
      const batchesBefore = countBatches ? await decisionBatches(url) : undefined;
      const before = {
        self: process.cpuUsage(),
        server: cpuSeconds(descendants(child.pid!)),
        postgres: cpuSeconds(descendants(postmaster)),
        at: Date.now(),
      };
      const walBefore = await walStats(databaseUrl);
      const waits = sampleWaits(databaseUrl);
      const windowFrom = process.hrtime.bigint() / 1000n;
      const phase = await run(url, target, 'max', saturating);
      if (process.env.BENCH_CPU_PROF)
        console.log(
          `BENCH_WINDOW ${target.name} ${windowFrom}-${process.hrtime.bigint() / 1000n} server pid ${child.pid}`,
        );
      const waited = await waits.stop();
      const walAfter = await walStats(databaseUrl);
      const requests = phase.rps * phase.durationS;
      const used = process.cpuUsage(before.self);
      cpu[target.name] = {
        self: (used.user + used.system) / 1e6,
        server: cpuSince(before.server, cpuSeconds(descendants(child.pid!))),
        postgres: cpuSince(before.postgres, cpuSeconds(descendants(postmaster))),
        wall: (Date.now() - before.at) / 1000,
      };
      phases.push(phase);
      const batchesAfter = countBatches ? await decisionBatches(url) : undefined;
      if (target.pg) await setPostgres(databaseUrl, target.pg, true);
      if (waited) console.log(`${label} what PostgreSQL backends were doing (samples): ${waited}`);
      console.log(
        `${label} WAL per request: ${((walAfter.records - walBefore.records) / requests).toFixed(1)} records, ` +
          `${((walAfter.fpi - walBefore.fpi) / requests).toFixed(2)} full-page images, ${((walAfter.bytes - walBefore.bytes) / requests).toFixed(0)} bytes; ` +
          `${(requests / Math.max(1, walAfter.syncs - walBefore.syncs)).toFixed(1)} requests per WAL flush`,
      );
      if (batchesBefore && batchesAfter && batchesAfter.count > batchesBefore.count)
        console.log(
          `${label} decision batches: ${batchesAfter.count - batchesBefore.count}, ` +
            `${((batchesAfter.sum - batchesBefore.sum) / (batchesAfter.count - batchesBefore.count)).toFixed(1)} swipes each on average`,
        );
      const c = cpu[target.name];
      console.log(
        `${label} saturation: ${phase.rps.toFixed(0).padStart(6)} req/s  p50 ${phase.p50} ms  p99 ${phase.p99} ms  non-2xx ${phase.non2xx}  errors ${phase.errors}  ` +
          `CPU s/s: autocannon ${(c.self / c.wall).toFixed(2)}, server ${(c.server / c.wall).toFixed(2)}, postgres ${(c.postgres / c.wall).toFixed(2)}; ` +
          `per request: server ${((c.server / (phase.rps * c.wall)) * 1e6).toFixed(0)} µs, postgres ${((c.postgres / (phase.rps * c.wall)) * 1e6).toFixed(0)} µs, ` +
          `autocannon ${((c.self / (phase.rps * c.wall)) * 1e6).toFixed(0)} µs`,
      );
    }
    // Before this benchmark's own counting below, which reads the whole table.
    if (prefillMode() === 'filled') await reportTableScans(databaseUrl);
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
    for (const target of TARGETS.filter((t) => t.path === DEDUCT)) {
      const { rows } = await pool.query(
        `select count(*)::int as n from deductions where txn_no like $1 and decision = 'APPROVED'`,
        [`${at(target.name, 'max').runId}%`],
      );
      approvedAtSaturation[target.name] = rows[0].n / at(target.name, 'max').durationS;
    }
    const all = await pool.query(`select decision, count(*)::int as n from deductions group by decision`);
    console.log('deductions recorded:', JSON.stringify(all.rows));
    await pool.end();
  } finally {
    await stopServer();
    await stopCluster();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  const ran = (name: string) => TARGETS.some((t) => t.name === name);
  if (ran('one-insert'))
    for (const target of TARGETS.filter((t) => t.path === DEDUCT))
      console.log(
        `${target.name.padEnd(19)} ratio to one-insert at saturation: ${(at(target.name, 'max').rps / at('one-insert', 'max').rps).toFixed(3)}`,
      );
  if (!DEFAULT_TARGETS.every((t) => TARGETS.includes(t))) return;
  const figures = (name: string, suffix = '') => ({
    [`max_approvals_per_s${suffix}`]: Math.round(approvedAtSaturation[name] ?? 0),
    [`p50_ms_at_1000${suffix}`]: at(name, 1_000).p50,
    [`p99_ms_at_1000${suffix}`]: at(name, 1_000).p99,
    [`p99_ms_at_100${suffix}`]: at(name, 100).p99,
    [`ratio_to_one_insert${suffix}`]: Number((at(name, 'max').rps / at('one-insert', 'max').rps).toFixed(3)),
  });
  const summary = {
    ...figures('deduct'),
    ratio_to_bare: Number((at('deduct', 'max').rps / at('bare', 'max').rps).toFixed(3)),
    ...figures('deduct-unbatched', '_unbatched'),
    ...figures('deduct-group-commit', '_group_commit'),
    ...(ran('deduct-one-slot') ? figures('deduct-one-slot', '_one_slot') : {}),
  };
  console.log(
    `cores: ${os.cpus().length}; goals: ≥ 1.0 of one-insert, p99 ≤ 20 ms at 1,000/s, p99 at 100/s no worse than unbatched`,
  );
  console.log(JSON.stringify(summary));
}

runBench('scripts/bench/deduct.ts', { throughput: 'max_approvals_per_s', latency: 'p99_ms_at_1000' }, main);
