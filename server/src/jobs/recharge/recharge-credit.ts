import {
  claimDueCredits,
  nextCreditDueAt,
  releaseCreditLeases,
  RECHARGE_PAID_CHANNEL,
  type RechargeRow,
} from '../../db/repos/recharge/recharges.js';
import type { Deps } from '../../deps.js';
import { creditRecharge, CREDIT_JOB } from '../../domain/recharge/recharge.js';
import { DRAINER_JOB_LOCK_MS, LeasedDrainer } from '../leased-drainer.js';
import { schoolCache } from '../school-cache.js';
import type { JobDefinition } from '../runner.js';

/**
 * `recharge.credit`: puts paid recharges on the card (vendor Recharge, our order number as the flow
 * number). A payment commit announces itself on `recharge_paid`, which starts a drain in the worker at
 * once; Agenda runs the job at the next retry's due time and every RECHARGE_CREDIT_EVERY_MS as a safety net.
 */
export function rechargeCreditJob(deps: Deps): JobDefinition {
  const { creditBatch, creditConcurrency, creditLeaseMs, creditEveryMs } = deps.config.recharge;
  const schoolOf = schoolCache(deps);
  const drainer = new LeasedDrainer<RechargeRow>(
    {
      channel: RECHARGE_PAID_CHANNEL,
      jobName: CREDIT_JOB,
      batchSize: creditBatch,
      concurrency: creditConcurrency,
      leaseMs: creditLeaseMs,
      claim: (now, leaseUntil, limit) => claimDueCredits(deps.db, { now, leaseUntil, limit }),
      async work(order) {
        const school = await schoolOf(order.schoolId);
        if (school) await creditRecharge(deps, order, school);
      },
      release: (orders) => releaseCreditLeases(deps.db, orders, deps.clock.now()),
      nextDueAt: () => nextCreditDueAt(deps.db),
    },
    { pool: deps.pool, jobs: deps.jobs, logger: deps.logger, now: () => deps.clock.now() },
  );
  return {
    name: CREDIT_JOB,
    every: creditEveryMs,
    concurrency: 1,
    lockLifetimeMs: DRAINER_JOB_LOCK_MS,
    async run() {
      await drainer.trigger();
    },
    background: drainer,
  };
}
