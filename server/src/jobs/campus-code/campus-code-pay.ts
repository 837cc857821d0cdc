import {
  claimDueCampusCodePayments,
  finishChargeAttempts,
  nextCampusCodeDueAt,
  releaseCampusCodeLeases,
  type ClaimedCampusCodePayment,
  type FinishedChargeAttempt,
} from '../../db/repos/campus-code/charges.js';
import { CAMPUS_CODE_DUE_CHANNEL } from '../../db/repos/campus-code/payments.js';
import type { Deps } from '../../deps.js';
import { chargeCampusCodePayment } from '../../domain/campus-code/payment-charging.js';
import { WAITING_FOR_AUTHORIZATION } from '../../domain/schools/suspension.js';
import { CommitBatches } from '../../lib/commit-batches.js';
import { DRAINER_JOB_LOCK_MS, LeasedDrainer } from '../leased-drainer.js';
import { schoolCache } from '../school-cache.js';
import type { JobDefinition } from '../runner.js';

export const CAMPUS_CODE_PAY_JOB = 'campuscode.pay';
/** Recording statements at once: one being written while the next batch gathers is enough. */
const FINISH_WRITES_IN_FLIGHT = 2;

/**
 * `campuscode.pay` (DESIGN §7.5): charges accepted campus-code payments at Alipay
 * (domain/campus-code/payment-charging.ts), drained in leased batches like the deduction collector. A LISTEN
 * on `campus_code_due` starts a run as uploads are accepted; Agenda runs the job at the next retry's due
 * time and every CAMPUS_CODE_PAY_EVERY_MS.
 *
 * The attempts that end together are recorded together (lib/commit-batches.ts): one statement and one commit
 * for up to CAMPUS_CODE_PAY_CONCURRENCY payments instead of one each (a commit per payment kept the drain
 * waiting on WAL flushes: README "Performance"). Each attempt still waits for its own commit.
 */
export function campusCodePayJob(deps: Deps): JobDefinition {
  const { payBatch, payConcurrency, leaseMs, payEveryMs } = deps.config.campusCode;
  const school = schoolCache(deps);
  const finishing = new CommitBatches<FinishedChargeAttempt, boolean>(
    { maxItems: payConcurrency, windowMs: 0, inFlight: FINISH_WRITES_IN_FLIGHT },
    async (finished) => {
      const moved = await finishChargeAttempts(deps.db, finished);
      return finished.map((attempt) => moved.has(attempt.id));
    },
  );
  const finishAttempt = (finished: FinishedChargeAttempt) => finishing.submit(finished);
  const drainer = new LeasedDrainer<ClaimedCampusCodePayment>(
    {
      channel: CAMPUS_CODE_DUE_CHANNEL,
      jobName: CAMPUS_CODE_PAY_JOB,
      batchSize: payBatch,
      concurrency: payConcurrency,
      leaseMs,
      claim: (now, leaseUntil, limit) => claimDueCampusCodePayments(deps.db, { now, leaseUntil, limit }),
      async work(payment) {
        const row = await school(payment.schoolId);
        if (!row) return;
        const outcome = await chargeCampusCodePayment(deps, payment, { school: row, finishAttempt });
        // Its token was refused: read the school afresh next time, to see it authorized again at once.
        if (outcome === WAITING_FOR_AUTHORIZATION) school.forget(row.id);
      },
      release: (rows) => releaseCampusCodeLeases(deps.db, rows),
      nextDueAt: () => nextCampusCodeDueAt(deps.db),
    },
    { pool: deps.pool, jobs: deps.jobs, logger: deps.logger, now: () => deps.clock.now() },
  );
  return {
    name: CAMPUS_CODE_PAY_JOB,
    every: payEveryMs,
    concurrency: 1,
    lockLifetimeMs: DRAINER_JOB_LOCK_MS,
    async run() {
      await drainer.trigger();
    },
    background: drainer,
  };
}
