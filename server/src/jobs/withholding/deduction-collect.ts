import {
  claimDueDeductions,
  DEDUCTIONS_DUE_CHANNEL,
  nextDueAt,
  releaseLeases,
  type ClaimedDeduction,
} from '../../db/repos/withholding/deductions.js';
import type { Deps } from '../../deps.js';
import { WAITING_FOR_AUTHORIZATION } from '../../domain/schools/suspension.js';
import { collectDeduction } from '../../domain/withholding/deduction-collection.js';
import { DRAINER_JOB_LOCK_MS, LeasedDrainer } from '../leased-drainer.js';
import { schoolCache } from '../school-cache.js';
import type { JobDefinition } from '../runner.js';

export const COLLECT_JOB = 'deduction.collect';

/**
 * `deduction.collect`: charges approved swipes at Alipay (domain/withholding/deduction-collection.ts), drained in
 * leased batches by this process's LeasedDrainer. A LISTEN on `deductions_due` starts a run as approvals
 * happen; Agenda runs the job at the next retry's due time and every DEDUCTION_COLLECT_EVERY_MS.
 */
export function deductionCollectJob(deps: Deps): JobDefinition {
  const { collectBatch, collectConcurrency, leaseMs, collectEveryMs } = deps.config.deductions;
  const school = schoolCache(deps);
  const collector = new LeasedDrainer<ClaimedDeduction>(
    {
      channel: DEDUCTIONS_DUE_CHANNEL,
      jobName: COLLECT_JOB,
      batchSize: collectBatch,
      concurrency: collectConcurrency,
      leaseMs,
      claim: (now, leaseUntil, limit) => claimDueDeductions(deps.db, { now, leaseUntil, limit }),
      async work(deduction) {
        const row = await school(deduction.schoolId);
        if (!row) return;
        const outcome = await collectDeduction(deps, deduction, { school: row });
        // Its token was refused: read the school afresh next time, to see it authorized again at once.
        if (outcome === WAITING_FOR_AUTHORIZATION) school.forget(row.id);
      },
      release: (rows) => releaseLeases(deps.db, rows),
      nextDueAt: () => nextDueAt(deps.db),
    },
    { pool: deps.pool, jobs: deps.jobs, logger: deps.logger, now: () => deps.clock.now() },
  );
  return {
    name: COLLECT_JOB,
    every: collectEveryMs,
    concurrency: 1,
    lockLifetimeMs: DRAINER_JOB_LOCK_MS,
    async run() {
      await collector.trigger();
    },
    background: collector,
  };
}
