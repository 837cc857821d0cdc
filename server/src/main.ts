import './lib/timezone.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { createLogger } from './lib/logger.js';
import { startServer } from './server.js';

/** Process entry: `ROLE=api|worker|all` (default all). */
async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger({ level: config.logLevel });
  const server = await startServer(config, { logger });
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    // Under `npm start` a Ctrl-C reaches this process twice (from the terminal and relayed by tsx), so a
    // repeated signal does not cut the graceful shutdown short; the hard deadline below bounds it instead.
    if (stopping) return;
    stopping = true;
    logger.info('signal received', { signal });
    setTimeout(() => {
      logger.error('graceful shutdown overran its deadline; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs + 15_000).unref();
    server.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error('shutdown failed', { error });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

main().catch((error: unknown) => {
  process.stderr.write(`fatal: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
