import type { Deps } from '../deps.js';
import { deductionCollectJob } from './deduction-collect.js';
import { deductionRefundJob } from './deduction-refund.js';
import { noncesPruneJob } from './nonces-prune.js';
import { rechargeCreditJob } from './recharge-credit.js';
import { rechargeSweepJob } from './recharge-sweep.js';
import { withholdingBindCardJob, withholdingUnbindCardJob } from './withholding-card.js';
import { withholdingSweepJob } from './withholding-sweep.js';
import type { JobDefinition } from './runner.js';

/** Every job the worker runs. One file per job. */
export function allJobs(deps: Deps): JobDefinition<never>[] {
  return [
    noncesPruneJob,
    rechargeCreditJob(deps),
    rechargeSweepJob(deps),
    deductionCollectJob(deps),
    deductionRefundJob,
    withholdingBindCardJob,
    withholdingUnbindCardJob,
    withholdingSweepJob(deps),
  ] as JobDefinition<never>[];
}
