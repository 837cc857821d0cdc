import type { Deps } from '../../deps.js';
import { refreshDailyStats } from '../../domain/dashboard/daily-stats.js';
import type { JobDefinition } from '../runner.js';

/** `admin.stats`: folds new swipes and order status changes into the dashboard's daily statistics. */
export function dailyStatsJob(deps: Pick<Deps, 'config'>): JobDefinition {
  return {
    name: 'admin.stats',
    every: deps.config.admin.statsEveryMs,
    concurrency: 1,
    lockLifetimeMs: 10 * 60_000,
    async run(_data, deps) {
      await refreshDailyStats(deps);
    },
  };
}
