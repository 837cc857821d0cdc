import { foldDailyStats } from '../../db/repos/dashboard/daily-stats.js';
import type { Deps } from '../../deps.js';

/**
 * Brings the dashboard's daily statistics up to date (job `admin.stats`, every ADMIN_STATS_EVERY_MS): one
 * transaction reads what is new since the last fold (db/repos/dashboard/daily-stats.ts says how each source
 * is read exactly once) and adds it to each school's day. Swipes younger than ADMIN_STATS_LAG_MS wait for
 * the next fold. Any number of workers may run it: the watermark rows are locked, so folds take turns.
 */
export async function refreshDailyStats(
  deps: Pick<Deps, 'db' | 'clock' | 'config'>,
): Promise<{ deductions: number; statusChanges: number }> {
  const now = deps.clock.now();
  return deps.db.transaction((tx) =>
    foldDailyStats(tx, { swipesUpTo: new Date(now.getTime() - deps.config.admin.statsLagMs), now }),
  );
}
