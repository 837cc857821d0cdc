import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildApp } from './app.js';
import type { Config } from './config.js';
import { applyMigrations, connectDatabase, openConnections } from './db/client.js';
import {
  embeddedMaxConnections,
  startEmbeddedPostgres,
  type EmbeddedPostgres,
} from './db/embedded-postgres.js';
import type { Deps } from './deps.js';
import { CallRecorder } from './domain/orders/call-recorder.js';
import { allJobs, processBackground } from './jobs/index.js';
import { createJobRunner } from './jobs/runner.js';
import { systemClock, type Clock } from './lib/clock.js';
import { DataProtector, loadMasterKey, loadOrCreateSecret } from './lib/crypto.js';
import { SessionTokens } from './lib/session-token.js';
import { Alipay } from './integrations/alipay/alipay.js';
import { SchoolConnections } from './integrations/school-connections.js';
import { createLogger, type Logger } from './lib/logger.js';
import { noticeRefusedAppAuthToken } from './domain/schools/isv-authorization.js';

export interface RunningServer {
  /** Base URL of the HTTP API, when this process serves it (roles api and all). */
  url?: string;
  databaseUrl: string;
  deps: Deps;
  stop(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  clock?: Clock;
}

/**
 * Starts one process of the platform: database (embedded unless DATABASE_URL), migrations, jobs and, for
 * roles api/all, the HTTP server. `stop()` is the graceful shutdown: stop taking requests, let in-flight
 * requests and jobs finish within SHUTDOWN_TIMEOUT_MS, close the pool, stop the embedded database.
 */
export async function startServer(config: Config, options: StartOptions = {}): Promise<RunningServer> {
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const clock = options.clock ?? systemClock;

  // Before the database starts: a missing or unreadable key must not leave an embedded PostgreSQL behind.
  const alipay = config.alipay ? new Alipay(config.alipay) : undefined;
  const protector = new DataProtector(loadMasterKey(config.piiKey, config.dataDir, config.env));
  const sessionSecret = loadOrCreateSecret(
    config.sessionSecret,
    config.dataDir,
    'SESSION_SECRET',
    config.env,
  );

  let embedded: EmbeddedPostgres | undefined;
  let databaseUrl = config.databaseUrl;
  if (!databaseUrl) {
    embedded = await startEmbeddedPostgres({
      baseDir: config.dataDir,
      database: 'campus',
      logger,
      maxConnections: embeddedMaxConnections(config.databasePoolSize),
      extraFlags: config.embeddedPgFlags,
    });
    databaseUrl = embedded.url;
  }

  try {
    await applyMigrations(databaseUrl);
  } catch (error) {
    await embedded?.stop();
    throw error;
  }
  // A process that runs jobs keeps its pool's connections open: its first burst of credits after a start or
  // a quiet minute would otherwise open them one by one while the credits wait (issue 18 §2).
  const runsJobs = config.role !== 'api';
  const database = connectDatabase(databaseUrl, {
    poolSize: config.databasePoolSize,
    keepOpen: runsJobs ? config.databasePoolSize : 0,
  });
  if (runsJobs) openConnections(database.pool, config.databasePoolSize);
  const jobs = createJobRunner({
    databaseUrl,
    logger,
    processEveryMs: config.jobs.processEveryMs,
    maxConcurrency: config.jobs.maxConcurrency,
    name: `${config.role}-${process.pid}`,
  });
  const calls = new CallRecorder(database.db, logger);
  alipay?.observeCalls(calls.record);
  const deps: Deps = {
    config,
    db: database.db,
    pool: database.pool,
    logger,
    clock,
    protector,
    jobs: jobs.queue,
    sessions: new SessionTokens(sessionSecret, config.sessionTtlSeconds, clock),
    alipay,
    schools: new SchoolConnections(protector, config.cardsysTimeoutMs, calls.record),
    calls,
  };
  // Any call that finds a school's app_auth_token refused checks the school's authorization (DESIGN §7.0).
  deps.alipay?.onAppAuthTokenRefused((token, error) => void noticeRefusedAppAuthToken(deps, token, error));
  let shuttingDown = false;
  let httpServer: http.Server | undefined;
  let url: string | undefined;
  try {
    await jobs.start(deps, allJobs(deps), {
      process: runsJobs,
      background: processBackground(deps),
    });
    if (config.role !== 'worker') {
      const app = buildApp(deps, { isShuttingDown: () => shuttingDown });
      httpServer = http.createServer(app.callback());
      httpServer.keepAliveTimeout = 65_000;
      // A client that trickles its headers or body holds a connection; bound both, and the connections.
      httpServer.headersTimeout = config.http.headersTimeoutMs;
      httpServer.requestTimeout = config.http.requestTimeoutMs;
      httpServer.maxConnections = config.http.maxConnections;
      await new Promise<void>((resolve, reject) => {
        httpServer!.once('error', reject);
        httpServer!.listen(config.port, config.host, () => resolve());
      });
      const { port } = httpServer.address() as AddressInfo;
      url = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`;
      if (!config.publicBaseUrl) config.publicBaseUrl = url;
      logger.info('listening', { url, role: config.role });
    }
  } catch (error) {
    // A taken PORT, or jobs that could not start: nothing of this start may outlive it, the embedded
    // PostgreSQL least of all (its own process group: it would keep the cluster until the next start).
    await jobs.close().catch(() => undefined);
    await calls.stop().catch(() => undefined);
    await database.close().catch(() => undefined);
    await embedded?.stop();
    throw error;
  }

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      shuttingDown = true;
      const deadline = Date.now() + config.shutdownTimeoutMs;
      logger.info('shutting down', { timeoutMs: config.shutdownTimeoutMs });
      const closed = httpServer
        ? new Promise<void>((resolve) => {
            httpServer!.close(() => resolve());
            httpServer!.closeIdleConnections();
          })
        : Promise.resolve();
      const drained = jobs.drain(Math.max(0, deadline - Date.now()));
      const timedOut = await Promise.race([
        closed.then(() => false),
        new Promise<boolean>((r) => setTimeout(() => r(true), Math.max(0, deadline - Date.now())).unref()),
      ]);
      if (timedOut) {
        logger.warn('requests still in flight at the shutdown deadline; closing their connections');
        httpServer?.closeAllConnections();
      }
      const { running } = await drained;
      if (running > 0)
        logger.warn('jobs still running at the shutdown deadline; their locks will expire', { running });
      await jobs.close().catch((error: unknown) => logger.warn('closing jobs failed', { error }));
      await calls.stop();
      await database.close();
      await embedded?.stop();
      logger.info('stopped');
    })());

  return { url, databaseUrl, deps, stop };
}
