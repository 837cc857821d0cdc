/**
 * How the operator tools (npm run operator, npm run gateway:client) reach the platform's database, like the
 * server does: DATABASE_URL when set; else the database of a running `npm start` (`<DATA_DIR>/dev.json`);
 * else the embedded cluster in DATA_DIR, which the tool starts itself and stops when done.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../../server/src/config.js';
import { applyMigrations, connectDatabase, type DatabaseHandle } from '../../server/src/db/client.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../server/src/db/embedded-postgres.js';
import type { Logger } from '../../server/src/lib/logger.js';

/** What a running `npm start` tells tools in dev.json: its database and its settings for tools. */
export interface RunningDev {
  databaseUrl?: string;
  /** Settings a tool needs to act like that server (Alipay sandbox, public URL): see scripts/dev.ts. */
  toolEnv?: Record<string, string>;
}

export function runningDev(dataDir: string): RunningDev {
  try {
    const dev = JSON.parse(fs.readFileSync(path.join(dataDir, 'dev.json'), 'utf8')) as RunningDev & {
      running?: boolean;
    };
    return dev.running === false ? {} : dev;
  } catch {
    return {};
  }
}

export interface ToolDatabase extends DatabaseHandle {
  url: string;
}

export async function connectToolDatabase(
  config: Config,
  logger: Logger,
  applicationName: string,
): Promise<ToolDatabase> {
  let embedded: EmbeddedPostgres | undefined;
  let url = config.databaseUrl ?? runningDev(config.dataDir).databaseUrl;
  if (!url) {
    try {
      embedded = await startEmbeddedPostgres({ baseDir: config.dataDir, database: 'campus', logger });
    } catch (error) {
      if (/in use by another running process/.test((error as Error).message)) {
        throw new Error(
          `the database in ${config.dataDir} belongs to a running server, and ${path.join(config.dataDir, 'dev.json')} ` +
            'does not say where it listens. Set DATABASE_URL to that server’s database, or stop it first.',
          { cause: error },
        );
      }
      throw error;
    }
    url = embedded.url;
  }
  await applyMigrations(url);
  const database = connectDatabase(url, { poolSize: 2, applicationName });
  return {
    ...database,
    url,
    async close() {
      await database.close();
      await embedded?.stop();
    },
  };
}
