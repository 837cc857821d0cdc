/**
 * The stack for benchmarks, laid out as in production: the BFF, the Alipay sandbox and the card-system
 * sandbox each in their own process (so the load generator in this process does not steal their event
 * loop), on an embedded PostgreSQL with full durability in a throwaway folder.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../../server/src/config.js';
import { applyMigrations, connectDatabase, type DatabaseHandle } from '../../server/src/db/client.js';
import {
  freePort,
  startEmbeddedPostgres,
  type EmbeddedPostgres,
} from '../../server/src/db/embedded-postgres.js';
import type { SchoolRow } from '../../server/src/db/repos/schools/schools.js';
import type { Deps } from '../../server/src/deps.js';
import { SchoolConnections } from '../../server/src/integrations/school-connections.js';
import { onboardSchool, type SchoolOnboarding } from '../../server/src/domain/schools/schools.js';
import { Alipay } from '../../server/src/integrations/alipay/alipay.js';
import { DataProtector } from '../../server/src/lib/crypto.js';
import { createLogger } from '../../server/src/lib/logger.js';
import { systemClock } from '../../server/src/lib/clock.js';
import { statementProfileFlags } from './statement-profile.js';
import { AlipaySandboxControl } from '../sandbox/alipay/control-client.js';
import { CardsysSandboxControl } from '../sandbox/cardsys/control-client.js';
import { copyFill } from './prefill.js';

export interface BenchStack {
  bffUrl: string;
  databaseUrl: string;
  db: DatabaseHandle;
  /** Enough of the server's dependencies to seed data through the domain, from this process. */
  deps: Deps;
  alipay: { url: string; control: AlipaySandboxControl; appId: string; alipayPrivateKey: string };
  cardsys: { url: string; control: CardsysSandboxControl };
  school: SchoolRow;
  /**
   * The API processes when `apiRoots` asked for several (the first is `bffUrl` / `pids.bff`), each from its own
   * checkout, on the same database and sandboxes, each its own PUBLIC_BASE_URL (Alipay notifies the one that
   * made the order).
   */
  apis: Array<{ root: string; url: string; pid: number }>;
  /** Process ids, to read their CPU time. `workers`: ROLE=worker processes beside the API process. */
  pids: { bff: number; workers: number[]; alipay: number; cardsys: number; postgres: number | undefined };
  /** Starts one more ROLE=worker process (a benchmark that measures its jobs after loading the data). */
  addWorker(): Promise<number>;
  stop(): Promise<void>;
}

/** A fresh RSA key pair as PEM (PKCS8 private, SPKI public). */
export function rsaKeys(modulusLength = 2048) {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength });
  return {
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** What a launched process wrote to stderr last (passed on to ours as it comes), complete once it closed. */
const stderrOf = new WeakMap<ChildProcess, { tail: string; closed: Promise<void> }>();

function launch(
  name: string,
  script: string,
  env: Record<string, string>,
  nodeArgs: string[] = [],
  cwd?: string,
): ChildProcess {
  // BENCH_CPU_PROF=<dir>: each process writes a V8 CPU profile there when it exits (open in Chrome DevTools).
  const profile = process.env.BENCH_CPU_PROF
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
    : [];
  const child = spawn(process.execPath, [...profile, ...nodeArgs, '--import', 'tsx', script], {
    env: { ...process.env, LOG_LEVEL: 'error', ...env },
    cwd,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const stderr = { tail: '', closed: new Promise<void>((resolve) => child.once('close', () => resolve())) };
  stderrOf.set(child, stderr);
  child.stderr!.on('data', (chunk: Buffer) => {
    process.stderr.write(chunk);
    stderr.tail = (stderr.tail + chunk.toString()).slice(-4_096);
  });
  child.on('exit', (code, signal) => {
    if (code !== 0 && signal !== 'SIGTERM' && signal !== 'SIGINT')
      console.error(`${name} exited (${code ?? signal})`);
  });
  return child;
}

/**
 * Launches a process that listens on `ports` ports chosen here (`env` gets them; it must listen on the first)
 * and waits until `readyPath` answers there. A chosen port is free when chosen, but another process can take
 * it before the child binds it (session 11: a bench run failed so); a child that exits on EADDRINUSE is
 * launched again on fresh ports, up to five times.
 */
export async function launchListening(
  name: string,
  script: string,
  options: {
    ports: number;
    env: (ports: number[]) => Record<string, string>;
    readyPath: string;
    nodeArgs?: string[];
    cwd?: string;
  },
): Promise<{ child: ChildProcess; url: string; ports: number[] }> {
  for (let attempt = 1; ; attempt += 1) {
    const ports: number[] = [];
    while (ports.length < options.ports) {
      const port = await freePort();
      if (!ports.includes(port)) ports.push(port);
    }
    const child = launch(name, script, options.env(ports), options.nodeArgs, options.cwd);
    const url = `http://127.0.0.1:${ports[0]}`;
    try {
      await waitForHttp(`${url}${options.readyPath}`, child);
      return { child, url, ports };
    } catch (error) {
      await stopChild(child);
      await stderrOf.get(child)!.closed;
      if (attempt === 5 || !stderrOf.get(child)!.tail.includes('EADDRINUSE')) throw error;
      console.error(`${name}: a port was taken before it could listen; launching it again on others`);
    }
  }
}

/** Waits until `url` answers 2xx; gives up at once if `child` (the process that should serve it) has exited. */
export async function waitForHttp(url: string, child?: ChildProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`${url}: its process exited (${child.exitCode})`);
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not come up within ${timeoutMs} ms`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

type Listening = Awaited<ReturnType<typeof launchListening>>;

/** The Alipay sandbox in its own process, knowing our app (open_id mode), notifying 1000 times faster. */
export function launchAlipaySandbox(options: {
  appId: string;
  appPublicKey: string;
  alipayPrivateKey: string;
  nodeArgs?: string[];
  cwd?: string;
}): Promise<Listening> {
  return launchListening('alipay sandbox', 'scripts/sandbox/alipay/main.ts', {
    ports: 1,
    env: ([port]) => ({
      PORT: String(port),
      ALIPAY_SANDBOX_PRIVATE_KEY: options.alipayPrivateKey,
      ALIPAY_SANDBOX_APPS: JSON.stringify([
        { appId: options.appId, publicKey: options.appPublicKey, idMode: 'open_id', name: 'campus-card' },
      ]),
      ALIPAY_SANDBOX_NOTIFY_TIME_SCALE: '1000',
      // A benchmark's books are throw-away (and a snapshot of 200,000 trades would cost more than the run).
      SANDBOX_STATE_FILE: 'none',
    }),
    readyPath: '/control/health',
    nodeArgs: options.nodeArgs,
    cwd: options.cwd,
  });
}

/** Waits for them all; each that came up joins `children` (to be stopped), even when another failed. */
async function launchAll(
  children: ChildProcess[],
  launches: Array<Promise<Listening>>,
): Promise<Listening[]> {
  const settled = await Promise.allSettled(launches);
  const up = settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  children.push(...up.map((listening) => listening.child));
  const failed = settled.find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
  return up;
}

export interface BenchStackOptions {
  env?: Record<string, string>;
  schoolSettings?: SchoolOnboarding['settings'];
  /**
   * Separate job workers (ROLE=worker), as DESIGN §9 scales out; the HTTP process then runs ROLE=api.
   * 0 (default): one process with ROLE=all.
   */
  workers?: number;
  /** The HTTP process runs ROLE=api even without workers now: jobs run only in workers added later. */
  apiOnly?: boolean;
  /** A kept fill's folder (bench/prefill.ts): the cluster starts on a copy of it instead of a new one. */
  fromFill?: string;
  /**
   * The Alipay sandbox's own key (2048 bits, like Alipay's, unless asked): each of its answers and notifications
   * is one signature with it — Alipay's CPU, not the platform's, which verifies a 1024-bit signature in the same
   * 0.02 ms as a 2048-bit one (a 1024-bit signature costs the sandbox 0.10 ms instead of 0.28).
   */
  alipayKeyBits?: 1024 | 2048;
  /**
   * Checkouts to run an API process (ROLE=all) from, one each, side by side (scripts/bench/api-cpu.ts); the
   * default is this checkout alone. Their migrations must be the same as this checkout's (applied from here).
   */
  apiRoots?: string[];
}

export async function startBenchStack(options: BenchStackOptions = {}): Promise<BenchStack> {
  const logger = createLogger({ level: 'error' });
  const baseDir = fs.mkdtempSync(path.join(os.tmpdir(), 'campus-bench-'));
  const children: ChildProcess[] = [];
  let embedded: EmbeddedPostgres | undefined;
  try {
    if (options.fromFill) copyFill(options.fromFill, baseDir);
    embedded = await startEmbeddedPostgres({
      baseDir,
      database: 'campus',
      logger,
      maxConnections: 300,
      extraFlags: statementProfileFlags(),
    });
    await applyMigrations(embedded.url);
    const postgresPid =
      Number(fs.readFileSync(path.join(embedded.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]) ||
      undefined;

    const app = rsaKeys();
    const alipayKey = rsaKeys(options.alipayKeyBits);
    const appId = `2021${crypto.randomInt(10 ** 11, 10 ** 12 - 1)}`;
    const [alipay, cardsys] = await launchAll(children, [
      launchAlipaySandbox({ appId, appPublicKey: app.publicKey, alipayPrivateKey: alipayKey.privateKey }),
      launchListening('card-system sandbox', 'scripts/sandbox/cardsys/main.ts', {
        ports: 2,
        env: ([port, soapPort]) => ({
          PORT: String(port),
          SOAP_PORT: String(soapPort),
          SANDBOX_STATE_FILE: 'none',
        }),
        readyPath: '/control/health',
      }),
    ]);
    const alipayUrl = alipay.url;
    const cardsysUrl = cardsys.url;

    const piiKey = crypto.randomBytes(32).toString('base64');
    const baseEnv: Record<string, string> = {
      NODE_ENV: 'development',
      DATABASE_URL: embedded.url,
      DATA_DIR: baseDir,
      PII_KEY: piiKey,
      SESSION_SECRET: crypto.randomBytes(32).toString('base64url'),
      ALIPAY_APP_ID: appId,
      ALIPAY_PRIVATE_KEY: app.privateKey,
      ALIPAY_PUBLIC_KEY: alipayKey.publicKey.trim(),
      ALIPAY_GATEWAY: `${alipayUrl}/gateway.do`,
      // One load generator is one address and a few users: the benchmarks measure the pipeline, not the limits.
      RATE_LIMIT_SCALE: '0',
      ...options.env,
    };
    // BENCH_BFF_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", to profile the BFF under load.
    const workerCount = options.workers ?? 0;
    const nodeArgs = process.env.BENCH_BFF_NODE_ARGS?.split(' ').filter(Boolean);
    const apiRoots = options.apiRoots ?? [process.cwd()];
    const apiProcesses = await launchAll(
      children,
      apiRoots.map((root) =>
        launchListening(apiRoots.length > 1 ? `BFF of ${root}` : 'BFF', 'server/src/main.ts', {
          ports: 1,
          env: ([port]) => ({
            ...baseEnv,
            PORT: String(port),
            PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
            ROLE: workerCount > 0 || options.apiOnly ? 'api' : (baseEnv.ROLE ?? 'all'),
          }),
          readyPath: '/readyz',
          nodeArgs,
          cwd: root,
        }),
      ),
    );
    const apis = apiProcesses.map((api, i) => ({ root: apiRoots[i], url: api.url, pid: api.child.pid! }));
    const bffUrl = apis[0].url;
    // The first API's address is the platform's (Alipay notifies it; the workers' and the seeding's config).
    const env = { ...baseEnv, PORT: new URL(bffUrl).port, PUBLIC_BASE_URL: bffUrl };
    const workerChildren = Array.from({ length: workerCount }, (_, i) =>
      launch(`worker ${i + 1}`, 'server/src/main.ts', { ...env, ROLE: 'worker', PORT: '0' }, nodeArgs),
    );
    children.push(...workerChildren);

    const config = loadConfig(env);
    const db = connectDatabase(embedded.url, { poolSize: 10 });
    const deps = {
      config,
      db: db.db,
      pool: db.pool,
      logger,
      clock: systemClock,
      protector: new DataProtector(Buffer.from(piiKey, 'base64')),
      alipay: new Alipay(config.alipay!),
      schools: new SchoolConnections(
        new DataProtector(Buffer.from(piiKey, 'base64')),
        config.cardsysTimeoutMs,
      ),
    } as unknown as Deps;

    const alipayControl = new AlipaySandboxControl(alipayUrl);
    const cardsysControl = new CardsysSandboxControl(cardsysUrl);
    const code = String(crypto.randomInt(10 ** 9, 10 ** 10 - 1));
    const name = `压测大学${code.slice(-4)}`;
    const cardsysSchool = await cardsysControl.createSchool({ code, name });
    const authorization = await alipayControl.authorizeMerchant({ isvAppId: appId, merchantName: name });
    const school = await onboardSchool(deps, {
      code,
      name,
      cardsys: {
        endpoint: cardsysSchool.endpoint,
        username: cardsysSchool.username,
        password: cardsysSchool.password,
      },
      alipayAppAuthCode: authorization.appAuthCode,
      settings: options.schoolSettings,
    });
    const finalEmbedded = embedded;
    const workerPids = workerChildren.map((child) => child.pid!);
    return {
      bffUrl,
      databaseUrl: embedded.url,
      db,
      deps,
      apis,
      alipay: { url: alipayUrl, control: alipayControl, appId, alipayPrivateKey: alipayKey.privateKey },
      cardsys: { url: cardsysUrl, control: cardsysControl },
      school,
      pids: {
        bff: apis[0].pid,
        workers: workerPids,
        alipay: alipay.child.pid!,
        cardsys: cardsys.child.pid!,
        postgres: postgresPid,
      },
      async addWorker() {
        const worker = launch(
          `worker ${workerPids.length + 1}`,
          'server/src/main.ts',
          { ...env, ROLE: 'worker', PORT: '0' },
          nodeArgs,
        );
        children.push(worker);
        workerPids.push(worker.pid!);
        return worker.pid!;
      },
      async stop() {
        await Promise.all(children.map(stopChild));
        await db.close();
        await finalEmbedded.stop();
        fs.rmSync(baseDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await Promise.all(children.map(stopChild));
    await embedded?.stop();
    fs.rmSync(baseDir, { recursive: true, force: true });
    throw error;
  }
}

/**
 * The fields of /proc/<pid>/stat after the command name, as numbers: [11] utime, [12] stime, [13] cutime,
 * [14] cstime (clock ticks, 100 a second), [1] the parent's pid. Throws if the process is gone.
 */
function procStat(pid: number | string): number[] {
  return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ').map(Number);
}

/** A process's user and system CPU seconds, its threads included (/proc/<pid>/stat). */
export function cpuOf(pid: number | undefined): { user: number; system: number } {
  const fields = procStat(pid!);
  return { user: fields[11] / 100, system: fields[12] / 100 };
}

/**
 * Starts `order(i)` for i in [from, to), `ratePerS` a second from now on, and resolves once all have
 * finished: the seconds it took. (The side-by-side tools send order i to their i mod k-th process.)
 */
export async function pacedOrders(
  from: number,
  to: number,
  ratePerS: number,
  order: (i: number) => Promise<void>,
): Promise<number> {
  const start = performance.now();
  const work: Array<Promise<void>> = [];
  for (let i = from; i < to; i++) {
    const wait = start + ((i - from) * 1000) / ratePerS - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    work.push(order(i));
  }
  await Promise.all(work);
  return (performance.now() - start) / 1000;
}

/** CPU seconds (user + system) a process has used so far, from /proc. */
export function cpuSeconds(pid: number | undefined): number {
  if (!pid) return NaN;
  try {
    const fields = procStat(pid);
    return (fields[11] + fields[12] + fields[13] + fields[14]) / 100;
  } catch {
    return NaN;
  }
}

/** CPU seconds of PostgreSQL: the postmaster and all its backends. */
export function postgresCpuSeconds(postmasterPid: number | undefined): number {
  if (!postmasterPid) return NaN;
  let total = 0;
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const fields = procStat(entry);
      // The postmaster's children's time (cutime, cstime) covers backends that have already exited.
      if (Number(entry) === postmasterPid) total += (fields[11] + fields[12] + fields[13] + fields[14]) / 100;
      else if (fields[1] === postmasterPid) total += (fields[11] + fields[12]) / 100;
    } catch {
      // process went away
    }
  }
  return total;
}
