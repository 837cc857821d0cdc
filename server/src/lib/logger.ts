import winston from 'winston';
import { redact, redactText } from './redact.js';

const WINSTON_KEYS = new Set(['level', 'message', 'timestamp']);

/** Runs every entry through redaction before any transport sees it. */
const redactFormat = winston.format((info) => {
  info.message = typeof info.message === 'string' ? redactText(info.message) : redact(info.message);
  for (const key of Object.keys(info)) {
    if (WINSTON_KEYS.has(key)) continue;
    const cleaned = redact({ [key]: info[key] }) as Record<string, unknown>;
    info[key] = cleaned[key];
  }
  return info;
});

export type Logger = winston.Logger;

export function createLogger(options: { level?: string; stream?: NodeJS.WritableStream } = {}): Logger {
  return winston.createLogger({
    level: options.level ?? process.env.LOG_LEVEL ?? 'info',
    format: winston.format.combine(redactFormat(), winston.format.timestamp(), winston.format.json()),
    transports: [
      options.stream
        ? new winston.transports.Stream({ stream: options.stream })
        : new winston.transports.Console({ stderrLevels: ['error', 'warn'] }),
    ],
  });
}

/** The process-wide logger; modules take `logger.child({ component })`. */
export const logger = createLogger();
