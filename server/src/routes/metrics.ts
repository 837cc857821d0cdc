import crypto from 'node:crypto';
import Router from '@koa/router';
import { readPlatformState } from '../db/repos/metrics/platform-state.js';
import type { Deps } from '../deps.js';
import { DomainError } from '../domain/errors.js';
import * as metrics from '../lib/metrics.js';

const STATE_CACHE_MS = 5_000;

/**
 * `GET /metrics` in Prometheus text format (README "Operations"). With METRICS_TOKEN set it needs
 * `Authorization: Bearer <token>`; production does not serve it without one (the counts are business data).
 * Database state is read at most every 5 s per process, whatever the scrape rate.
 */
export function metricsRoutes(deps: Pick<Deps, 'pool' | 'config' | 'clock' | 'logger'>): Router {
  const router = new Router();
  const token = deps.config.metricsToken;
  let stateReadAt = 0;
  let reading: Promise<void> | null = null;

  const refreshState = async () => {
    if (Date.now() - stateReadAt < STATE_CACHE_MS) return;
    reading ??= (async () => {
      const now = deps.clock.now();
      const state = await readPlatformState(deps.pool, now);
      const age = (at: Date | null) =>
        at ? Math.max(0, (now.getTime() - new Date(at).getTime()) / 1000) : 0;
      metrics.rechargeOrders.reset();
      for (const row of state.rechargesByStatus)
        metrics.rechargeOrders.set({ status: row.status }, row.count);
      metrics.deductions.reset();
      for (const row of state.deductionsByStatus) metrics.deductions.set({ status: row.status }, row.count);
      for (const row of state.backlogs) {
        metrics.drainerBacklog.set({ drainer: row.drainer }, row.count);
        metrics.drainerOldestDueSeconds.set({ drainer: row.drainer }, age(row.oldestDueAt));
      }
      metrics.jobsDue.reset();
      metrics.oldestJobDueSeconds.reset();
      for (const row of state.jobsDue) {
        metrics.jobsDue.set({ job: row.job }, row.count);
        metrics.oldestJobDueSeconds.set({ job: row.job }, age(row.oldestDueAt));
      }
      metrics.pendingRefunds.reset();
      for (const row of state.refundsByStatus) metrics.pendingRefunds.set({ status: row.status }, row.count);
      stateReadAt = Date.now();
    })().finally(() => (reading = null));
    await reading;
  };

  router.get('/metrics', async (ctx) => {
    if (deps.config.env === 'production' && !token) throw new DomainError('NOT_FOUND');
    if (token) {
      const given = Buffer.from(/^Bearer\s+(\S+)$/i.exec(ctx.get('authorization'))?.[1] ?? '');
      const expected = Buffer.from(token);
      if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected))
        throw new DomainError('UNAUTHENTICATED');
    }
    try {
      await refreshState();
    } catch (error) {
      // The process metrics are still worth serving; the stale state gauges say when they were last read.
      deps.logger.warn('metrics could not read the database', { error: (error as Error).message });
    }
    ctx.type = metrics.registry.contentType;
    ctx.body = await metrics.registry.metrics();
  });
  return router;
}
