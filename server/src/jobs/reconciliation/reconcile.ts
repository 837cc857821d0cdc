import { listSchools } from '../../db/repos/schools/schools.js';
import { claimDay, dueDays, saveDay } from '../../db/repos/reconciliation/days.js';
import { findSchool } from '../../db/repos/schools/schools.js';
import type { Deps } from '../../deps.js';
import { isDomainError } from '../../domain/errors.js';
import { beijingDate, RECONCILE_DAY_JOB, reconcileDay } from '../../domain/reconciliation/reconcile-day.js';
import type { JobDefinition } from '../runner.js';

const DAY_MS = 86_400_000;
/** Days picked up per scheduler run. */
const BATCH = 200;

/**
 * `reconcile.schedule` (every RECONCILE_EVERY_MS): from RECONCILE_READY_HOUR (Beijing) on, yesterday of every
 * ACTIVE school is claimed and handed to `reconcile.day`; days still waiting for their bill, or whose run
 * failed, are handed over again once due (RECONCILE_RETRY_MS later). Claiming writes the day's row first,
 * so a second scheduler (another worker) does not enqueue the same day again.
 */
export function reconcileScheduleJob(deps: Pick<Deps, 'config'>): JobDefinition {
  return {
    name: 'reconcile.schedule',
    every: deps.config.reconcile.auto ? deps.config.reconcile.everyMs : undefined,
    concurrency: 1,
    async run(_data, deps) {
      const now = deps.clock.now();
      const retryAt = new Date(now.getTime() + deps.config.reconcile.retryMs);
      const beijingHour = new Date(now.getTime() + 8 * 3_600_000).getUTCHours();
      const claimed: Array<{ schoolId: string; billDate: string }> = [];
      if (beijingHour >= deps.config.reconcile.readyHourBeijing) {
        const yesterday = beijingDate(new Date(now.getTime() - DAY_MS));
        for (const school of await listSchools(deps.db)) {
          if (school.status !== 'ACTIVE') continue;
          if (await claimDay(deps.db, school.id, yesterday, now, retryAt))
            claimed.push({ schoolId: school.id, billDate: yesterday });
        }
      }
      for (const day of await dueDays(deps.db, now, BATCH)) {
        if (await claimDay(deps.db, day.schoolId, day.billDate, now, retryAt)) claimed.push(day);
      }
      for (const day of claimed) await deps.jobs.now(RECONCILE_DAY_JOB, day);
    },
  };
}

/** `reconcile.day {schoolId, billDate}`: one run of one school-day (domain/reconciliation/reconcile-day.ts). */
export const reconcileDayJob: JobDefinition<{ schoolId: string; billDate: string }> = {
  name: RECONCILE_DAY_JOB,
  concurrency: 2,
  lockLifetimeMs: 30 * 60_000,
  async run({ schoolId, billDate }, deps) {
    const school = await findSchool(deps.db, schoolId);
    if (!school) return;
    try {
      await reconcileDay(deps, school, billDate);
    } catch (error) {
      if (isDomainError(error, 'RECONCILIATION_RUNNING')) return;
      // Alipay or the vendor did not answer, or the file was unreadable: record it, try again later.
      const now = deps.clock.now();
      await saveDay(
        deps.db,
        schoolId,
        billDate,
        {
          status: 'FAILED',
          lastError: (error as Error).message.slice(0, 500),
          nextAttemptAt: new Date(now.getTime() + deps.config.reconcile.retryMs),
        },
        now,
      );
      deps.logger.warn('reconciliation failed; will retry', {
        schoolId,
        billDate,
        error: (error as Error).message,
      });
    }
  },
};
