import type { Middleware } from 'koa';
import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import { ConfigError } from '../config.js';
import type { Deps } from '../deps.js';
import { DomainError } from '../domain/errors.js';
import { rateLimitRejections } from '../lib/metrics.js';
import { RATE_LIMITS, type RateLimitName } from './rate-limits.js';

/**
 * The one rate-limiting mechanism: rate-limiter-flexible's PostgreSQL store on our own pool, so every API
 * process shares the same counters (table `rate_limits`, one upsert per limited request). Over the limit
 * is `429 RATE_LIMITED` with `Retry-After` (seconds) and `details.retryAfterSeconds`. When the store
 * itself fails the request goes on: a database that cannot count cannot serve it either, and that answer
 * (503) is the honest one.
 */

type Limiters = Map<RateLimitName, RateLimiterPostgres | null>;
const limitersByPool = new WeakMap<object, Limiters>();

function limiterFor(deps: Pick<Deps, 'pool' | 'config'>, name: RateLimitName): RateLimiterPostgres | null {
  let limiters = limitersByPool.get(deps.pool);
  if (!limiters) limitersByPool.set(deps.pool, (limiters = new Map()));
  if (limiters.has(name)) return limiters.get(name)!;
  const rule = { ...RATE_LIMITS[name], ...deps.config.rateLimits[name] };
  const points = Math.floor(rule.points * deps.config.rateLimitScale);
  const limiter =
    deps.config.rateLimitScale === 0
      ? null
      : new RateLimiterPostgres({
          storeClient: deps.pool,
          storeType: 'pool',
          tableName: 'rate_limits',
          tableCreated: true, // by our migration
          clearExpiredByTimeout: false, // the retention job does it (jobs/retention.ts)
          keyPrefix: name,
          points: Math.max(1, points),
          duration: rule.durationSeconds,
        });
  limiters.set(name, limiter);
  return limiter;
}

/** RATE_LIMITS overrides must name real limits; called once when the app is built. */
export function checkRateLimitSettings(config: Deps['config']): void {
  const unknown = Object.keys(config.rateLimits).filter((name) => !(name in RATE_LIMITS));
  if (unknown.length > 0)
    throw new ConfigError([
      `RATE_LIMITS: unknown limit ${unknown.join(', ')} (known: ${Object.keys(RATE_LIMITS).join(', ')})`,
    ]);
}

/**
 * Spends one point of `name` for this request's caller: its address, or its signed-in user (so put it
 * after the session check). Throws 429 when the budget is spent.
 */
export async function spendRateLimit(
  deps: Pick<Deps, 'pool' | 'config' | 'logger'>,
  name: RateLimitName,
  key: string,
): Promise<void> {
  const limiter = limiterFor(deps, name);
  if (!limiter) return;
  try {
    await limiter.consume(key);
  } catch (error) {
    if (!(error instanceof RateLimiterRes)) {
      deps.logger.warn('rate limit store failed; letting the request through', {
        limit: name,
        error: (error as Error).message,
      });
      return;
    }
    rateLimitRejections.inc({ limit: name });
    const retryAfterSeconds = Math.max(1, Math.ceil(error.msBeforeNext / 1000));
    throw new DomainError('RATE_LIMITED', `Too many requests; try again in ${retryAfterSeconds} s`, {
      details: { limit: name, retryAfterSeconds },
    });
  }
}

/** Spends one point of `name` for `key` inside a route (a limit whose key is in the body), with Retry-After. */
export async function spendRateLimitFor(
  ctx: Parameters<Middleware>[0],
  deps: Pick<Deps, 'pool' | 'config' | 'logger'>,
  name: RateLimitName,
  key: string,
): Promise<void> {
  try {
    await spendRateLimit(deps, name, key);
  } catch (error) {
    if (error instanceof DomainError && error.code === 'RATE_LIMITED')
      ctx.set('Retry-After', String((error.details as { retryAfterSeconds: number }).retryAfterSeconds));
    throw error;
  }
}

export function rateLimit(deps: Pick<Deps, 'pool' | 'config' | 'logger'>, name: RateLimitName): Middleware {
  const { by } = RATE_LIMITS[name] as { by: 'ip' | 'user' | 'school' };
  return async (ctx, next) => {
    // A per-school limit is spent by its route once the school is known (spendRateLimit).
    const key =
      by === 'user' ? (ctx.state.userId as string | undefined) : by === 'ip' ? ctx.request.ip : undefined;
    if (key) {
      try {
        await spendRateLimit(deps, name, key);
      } catch (error) {
        if (error instanceof DomainError && error.code === 'RATE_LIMITED')
          ctx.set('Retry-After', String((error.details as { retryAfterSeconds: number }).retryAfterSeconds));
        throw error;
      }
    }
    await next();
  };
}
