import crypto from 'node:crypto';
import os from 'node:os';
import { loadConfig, type Config } from '../../server/src/config.js';
import { findSchool, findSchoolByCode, type SchoolRow } from '../../server/src/db/repos/schools/schools.js';
import type { Deps } from '../../server/src/deps.js';
import type { Actor } from '../../server/src/domain/audit/audit.js';
import { CallRecorder } from '../../server/src/domain/orders/call-recorder.js';
import { Alipay } from '../../server/src/integrations/alipay/alipay.js';
import { SchoolConnections } from '../../server/src/integrations/school-connections.js';
import { createJobRunner } from '../../server/src/jobs/runner.js';
import { systemClock } from '../../server/src/lib/clock.js';
import { DataProtector, loadMasterKey, loadOrCreateSecret } from '../../server/src/lib/crypto.js';
import { createLogger } from '../../server/src/lib/logger.js';
import { SessionTokens } from '../../server/src/lib/session-token.js';
import { connectToolDatabase, runningDev } from '../lib/tool-database.js';
import { UsageError } from './command.js';

/**
 * What an operator command gets: the platform's dependencies (the same Deps the server builds, on the
 * same database and keys, so commands call domain functions exactly as routes and jobs do), who is acting
 * (for audit_log), and a way to find a school by code or id.
 *
 * Settings are the server's (run the command with the server's environment). With a running `npm start`
 * and no DATABASE_URL, its database and sandbox settings come from `<DATA_DIR>/dev.json` (`toolEnv`).
 */
export interface OperatorContext {
  deps: Deps;
  /** `OPERATOR_NAME`, else the login name: the `who` of every audit row a command writes. */
  actor: Actor;
  /** A school by its 10-digit code or its id; a UsageError when there is none. */
  school(codeOrId: string | undefined): Promise<SchoolRow>;
  /** A line for the person at the terminal (stderr); results go to stdout as JSON. */
  say(line: string): void;
  close(): Promise<void>;
}

export interface OperatorIo {
  env: NodeJS.ProcessEnv;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

function operatorEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const base = loadConfig(env);
  if (base.databaseUrl) return env;
  const dev = runningDev(base.dataDir);
  // A running npm start: act on its database, with its Alipay sandbox, as its server would.
  return { ...dev.toolEnv, ...(dev.databaseUrl ? { DATABASE_URL: dev.databaseUrl } : {}), ...env };
}

export async function createOperatorContext(io: OperatorIo): Promise<OperatorContext> {
  const config: Config = loadConfig(operatorEnv(io.env));
  const logger = createLogger({ level: io.env.LOG_LEVEL ?? 'error' });
  const database = await connectToolDatabase(config, logger, 'operator-cli');
  const jobs = createJobRunner({
    databaseUrl: database.url,
    logger,
    processEveryMs: config.jobs.processEveryMs,
    maxConcurrency: 1,
    name: `operator-${process.pid}`,
  });
  const protector = new DataProtector(loadMasterKey(config.piiKey, config.dataDir, config.env));
  const calls = new CallRecorder(database.db, logger);
  const alipay = config.alipay ? new Alipay(config.alipay) : undefined;
  alipay?.observeCalls(calls.record);
  const deps: Deps = {
    config,
    db: database.db,
    pool: database.pool,
    logger,
    clock: systemClock,
    protector,
    jobs: jobs.queue,
    sessions: new SessionTokens(
      loadOrCreateSecret(config.sessionSecret, config.dataDir, 'SESSION_SECRET', config.env),
      config.sessionTtlSeconds,
      systemClock,
    ),
    alipay,
    schools: new SchoolConnections(protector, config.cardsysTimeoutMs, calls.record),
    calls,
  };
  const name = io.env.OPERATOR_NAME || os.userInfo().username || 'operator';
  return {
    deps,
    // One request id per command run: the audit rows a command writes read as one operator request.
    actor: { kind: 'OPERATOR', name, requestId: `op-${crypto.randomUUID()}` },
    async school(codeOrId) {
      if (!codeOrId) throw new UsageError('which school? give its 10-digit code');
      const school = /^\d{10}$/.test(codeOrId)
        ? await findSchoolByCode(deps.db, codeOrId)
        : /^[0-9a-f-]{36}$/i.test(codeOrId)
          ? await findSchool(deps.db, codeOrId)
          : undefined;
      if (!school) throw new Error(`no school ${codeOrId}`);
      return school;
    },
    say(line) {
      io.stderr(`${line}\n`);
    },
    async close() {
      await jobs.close();
      await calls.stop();
      await database.close();
    },
  };
}
