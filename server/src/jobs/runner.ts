import { Agenda, type Job } from 'agenda';
import { PostgresBackend } from '@agendajs/postgres-backend';
import pg from 'pg';
import type { Deps } from '../deps.js';
import type { Logger } from '../lib/logger.js';
import type { JobQueue } from './queue.js';

/**
 * One job = one file under jobs/ exporting a JobDefinition. Handlers are thin: load, call the domain,
 * schedule the next attempt. Agenda (with LISTEN/NOTIFY on the same PostgreSQL) picks a job up as soon
 * as it is saved, and locks it with FOR UPDATE SKIP LOCKED so any number of workers can run.
 */
export interface JobDefinition<Data = Record<string, unknown>> {
  name: string;
  /** Jobs of this name run at most this many at a time per process. */
  concurrency?: number;
  /** A job still locked after this long is assumed dead and handed to another worker. */
  lockLifetimeMs?: number;
  /** Recurring jobs: an interval such as '1 minute'. */
  every?: string | number;
  run(data: Data, deps: Deps): Promise<void>;
  /**
   * Work that lives beside the job in processes that run jobs (e.g. a LISTEN connection that wakes the
   * job up). Started after Agenda, stopped first when the process drains.
   */
  background?: BackgroundWork;
}

/** Work a process that runs jobs keeps going beside them (a LISTEN connection, a warm-up). */
export interface BackgroundWork {
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface JobRunner {
  queue: JobQueue;
  /**
   * Defines every job; with `process` the process also runs them (roles worker and all), and the
   * `background` work: each job's and the process's own.
   */
  start(
    deps: Deps,
    definitions: JobDefinition<never>[],
    options: { process: boolean; background?: BackgroundWork[] },
  ): Promise<void>;
  /** Stop taking jobs and wait up to `timeoutMs` for running ones to finish. */
  drain(timeoutMs: number): Promise<{ running: number }>;
  close(): Promise<void>;
}

export function createJobRunner(options: {
  databaseUrl: string;
  logger: Logger;
  processEveryMs: number;
  maxConcurrency: number;
  name?: string;
}): JobRunner {
  const log = options.logger.child({ component: 'jobs' });
  // Our own pool, handed to the backend: Agenda's own pool has no error listener, so an idle connection
  // dropped by the server would crash the process.
  const pool = new pg.Pool({
    connectionString: options.databaseUrl,
    max: 10,
    application_name: 'campus-card-jobs',
  });
  let closing = false;
  // Once closing, the pool's connections are being ended: pool.end() returns when it has asked each idle one
  // to end, and the database, stopped right after, may cut one first — not a loss worth a warning.
  pool.on('error', (error) => {
    if (!closing) log.warn('job database connection lost', { error: error.message });
  });
  // The backend's notification channel can lose track of a LISTEN connection it took (its connect() keeps no
  // hold of a client when it fails after taking it, or when a reconnect replaces it) and never gives it back,
  // and pool.end() waits for every connection: the chaos drill's shutdown hung there (one connection out, the
  // channel disconnected). By close() the channel has given back the one it still knew, so a connection still
  // out with a notification listener and no query is such a leak, and is destroyed. The listener alone does not
  // tell: the channel gives its connection back with the listener still on it, and the pool may have handed it
  // to one of Agenda's last writes, which releases it itself (destroyed under it, that write's release threw
  // "Release called on client which has already been released" — CI, session 12).
  const checkedOut = new Set<pg.PoolClient>();
  pool.on('acquire', (client) => checkedOut.add(client));
  pool.on('release', (_error, client) => checkedOut.delete(client));
  pool.on('remove', (client) => checkedOut.delete(client as pg.PoolClient));
  // Tables come from ensureJobTables at migration time, under the migration lock: Agenda's own
  // create-if-missing DDL races when an API process and its workers start together.
  const backend = new PostgresBackend({ pool, ensureSchema: false });
  // Agenda's constructor connects the backend and handles no failure: a refused first connection ("too many
  // clients already") was an unhandled rejection — the process died with it, and where a handler kept the
  // process alive, start() waited forever for a ready that never came. The connection is made here instead,
  // and its failure is start()'s (and the queue's); Agenda is handed a connect that never fails (it settles
  // when ours succeeded, never when ours failed).
  const backendConnected = backend.connect();
  backendConnected.catch(() => undefined);
  backend.connect = () =>
    backendConnected.then(
      () => undefined,
      () => new Promise<void>(() => undefined),
    );
  const agenda = new Agenda({
    backend,
    name: options.name,
    processEvery: options.processEveryMs,
    maxConcurrency: options.maxConcurrency,
    defaultConcurrency: 10,
    defaultLockLifetime: 5 * 60_000,
    removeOnComplete: true,
  });
  // The LISTEN connection reconnects by itself; an error it emits must not crash the process.
  backend.notificationChannel?.on('error', (error: unknown) =>
    log.warn('job notification channel error', { error }),
  );
  // While the database is down every poll fails the same way: say so once every 10 s, not ten times a second.
  let lastAgendaError = 0;
  agenda.on('error', (error: unknown) => {
    if (Date.now() - lastAgendaError < 10_000) return;
    lastAgendaError = Date.now();
    log.error('agenda error (repeats within 10 s are not logged)', { error });
  });
  agenda.on('fail', (error: Error, job: Job) =>
    log.warn('job failed', { job: job.attrs.name, error: error.message }),
  );

  let ready: Promise<void> | undefined;
  const connected = (): Promise<void> => (ready ??= backendConnected.then(() => agenda.ready));
  let processing = false;
  let disconnected = false;
  const backgrounds: BackgroundWork[] = [];

  const queue: JobQueue = {
    async now(name, data = {}) {
      await connected();
      await agenda.now(name, data);
    },
    async at(when, name, data = {}) {
      await connected();
      await agenda.schedule(when, name, data);
    },
  };

  return {
    queue,
    async start(deps, definitions, { process, background = [] }) {
      for (const definition of definitions as JobDefinition[]) {
        agenda.define(
          definition.name,
          async (job: Job<Record<string, unknown>>) => {
            await definition.run(job.attrs.data ?? {}, deps);
          },
          { concurrency: definition.concurrency, lockLifetime: definition.lockLifetimeMs },
        );
      }
      await connected();
      if (!process) return;
      await agenda.start();
      processing = true;
      const jobsBackground = (definitions as JobDefinition[]).flatMap((d) => d.background ?? []);
      for (const work of [...jobsBackground, ...background]) {
        await work.start();
        backgrounds.push(work);
      }
      for (const definition of definitions as JobDefinition[]) {
        if (definition.every)
          await agenda.every(definition.every, definition.name, undefined, { skipImmediate: false });
      }
    },
    async drain(timeoutMs) {
      if (!processing) return { running: 0 };
      processing = false;
      await Promise.all(
        backgrounds
          .splice(0)
          .map((b) =>
            b.stop().catch((error: unknown) => log.warn('stopping background work failed', { error })),
          ),
      );
      // Agenda's drain() only re-checks for finished jobs on its 'complete' event, which fires before the
      // job leaves its running list, so on its own it waits out the whole timeout. Watch the running count
      // ourselves and end the drain as soon as it reaches zero.
      const done = new AbortController();
      const watcher = setInterval(() => {
        agenda.getRunningStats().then(
          (stats) => stats.runningJobs === 0 && done.abort(),
          () => undefined,
        );
      }, 50);
      try {
        const result = await agenda.drain({ timeout: timeoutMs, signal: done.signal });
        return { running: result.running };
      } finally {
        clearInterval(watcher);
      }
    },
    async close() {
      if (disconnected) return;
      disconnected = true;
      if (processing) {
        processing = false;
        await Promise.all(backgrounds.splice(0).map((b) => b.stop().catch(() => undefined)));
        await agenda.stop();
      }
      for (const client of checkedOut)
        if (client.listenerCount('notification') > 0 && !hasQueryInFlight(client)) client.release(true);
      closing = true;
      await pool.end();
    },
  };
}

/** Creates Agenda's tables, indexes and trigger (the backend's own DDL); called under the migration lock. */
export async function ensureJobTables(databaseUrl: string): Promise<void> {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: 1,
    application_name: 'campus-card-migrate',
  });
  pool.on('error', () => undefined);
  try {
    const backend = new PostgresBackend({ pool, ensureSchema: true });
    await backend.connect();
    await backend.disconnect();
  } finally {
    await pool.end();
  }
}

/**
 * Whether a client is running or has queued a query. pg keeps both on the client; its public accessors
 * (activeQuery, queryQueue) print a deprecation notice, so the fields are read directly (pg 8, pinned).
 */
function hasQueryInFlight(client: pg.PoolClient): boolean {
  const state = client as unknown as { _activeQuery?: unknown; _queryQueue?: unknown[] };
  return state._activeQuery != null || (state._queryQueue?.length ?? 0) > 0;
}
