import winston from 'winston';

/**
 * What the sandbox needs from a logger. A winston logger fits; so does `console`.
 * Hot paths only log at debug level, and only after asking `isDebugEnabled`.
 */
export interface SandboxLogger {
  debug(message: string, meta?: Record<string, unknown>): void;
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  error(message: string, meta?: Record<string, unknown>): void;
}

export function createSandboxLogger(level = process.env.LOG_LEVEL ?? 'warn'): SandboxLogger {
  return winston.createLogger({
    level,
    defaultMeta: { component: 'alipay-sandbox' },
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    transports: [new winston.transports.Console({ stderrLevels: ['error', 'warn'] })],
  });
}

export function isDebugEnabled(logger: SandboxLogger): boolean {
  const maybeWinston = logger as Partial<winston.Logger>;
  return typeof maybeWinston.isDebugEnabled === 'function' ? maybeWinston.isDebugEnabled() : false;
}
