import type pg from 'pg';
import type { Config } from './config.js';
import type { Database } from './db/client.js';
import type { CallRecorder } from './domain/orders/call-recorder.js';
import type { Alipay } from './integrations/alipay/alipay.js';
import type { SchoolConnections } from './integrations/school-connections.js';
import type { JobQueue } from './jobs/queue.js';
import type { Clock } from './lib/clock.js';
import type { DataProtector } from './lib/crypto.js';
import type { Logger } from './lib/logger.js';
import type { SessionTokens } from './lib/session-token.js';

/**
 * What the routes, domain and jobs of one process share. Built once in server.ts (or by the test
 * harness) and passed down explicitly: no globals, no container.
 */
export interface Deps {
  config: Config;
  db: Database;
  pool: pg.Pool;
  logger: Logger;
  clock: Clock;
  protector: DataProtector;
  jobs: JobQueue;
  sessions: SessionTokens;
  /** Absent when no Alipay settings are configured; the flows that need it answer ALIPAY_UNAVAILABLE. */
  alipay: Alipay | undefined;
  schools: SchoolConnections;
  /** Keeps every Alipay and card-system call made for an order, for the admins' order timeline. */
  calls: CallRecorder;
}
