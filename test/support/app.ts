import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../server/src/config.js';
import { createLogger } from '../../server/src/lib/logger.js';
import { startServer, type RunningServer } from '../../server/src/server.js';
import type { Clock } from '../../server/src/lib/clock.js';
import { freshDatabase } from './db.js';
import { client } from './http.js';

export interface TestApp extends RunningServer {
  url: string;
  http: ReturnType<typeof client>;
  /** The settings this app was started with, for starting more processes of the same deployment. */
  env: Record<string, string>;
}

/**
 * The real server (HTTP + jobs) on a free port, on its own fresh database of the tests' cluster — or, with
 * `database: 'embedded'`, on a PostgreSQL of its own in its DATA_DIR, as `npm start` runs it (initdb: slow).
 * `env` overrides settings the way an operator would set them.
 */
export async function startTestApp(
  options: { env?: Record<string, string>; clock?: Clock; database?: 'fresh' | 'embedded' } = {},
): Promise<TestApp> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'campus-test-data-'));
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    ...(options.database === 'embedded' ? {} : { DATABASE_URL: await freshDatabase() }),
    DATA_DIR: dataDir,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'error',
    PII_KEY: crypto.randomBytes(32).toString('base64'),
    SESSION_SECRET: crypto.randomBytes(32).toString('base64url'),
    JOBS_PROCESS_EVERY_MS: '500',
    SHUTDOWN_TIMEOUT_MS: '5000',
    // Tests poll the API every 25 ms with one user from one address, as no phone does; the limits
    // themselves are tested with RATE_LIMIT_SCALE=1 (test/integration/operations/rate-limits.test.ts).
    RATE_LIMIT_SCALE: '100',
    // The daily reconciliation would reconcile every test school's yesterday; its own tests switch it on.
    RECONCILE_AUTO: 'false',
    ...options.env,
  };
  const config = loadConfig(env);
  const server = await startServer(config, {
    logger: createLogger({ level: config.logLevel }),
    clock: options.clock,
  });
  const url = server.url!;
  return {
    ...server,
    url,
    env,
    http: client(url),
    async stop() {
      await server.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
