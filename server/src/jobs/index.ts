import type { Deps } from '../deps.js';
import { noncesPruneJob } from './nonces-prune.js';
import { rechargeCreditJob } from './recharge-credit.js';
import { rechargeSweepJob } from './recharge-sweep.js';
import type { JobDefinition } from './runner.js';

/** Every job the worker runs. One file per job. */
export function allJobs(deps: Pick<Deps, 'config'>): JobDefinition<never>[] {
  return [noncesPruneJob, rechargeCreditJob, rechargeSweepJob(deps)] as JobDefinition<never>[];
}
