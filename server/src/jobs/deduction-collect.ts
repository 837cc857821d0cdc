import type { Deps } from '../deps.js';
import { COLLECT_JOB, DeductionCollector } from './deduction-collector.js';
import type { JobDefinition } from './runner.js';

/**
 * `deduction.collect`: charges approved swipes at Alipay (domain/deduction-collection.ts). The job only
 * starts a run of this process's collector; the LISTEN beside it starts runs as approvals happen.
 */
export function deductionCollectJob(deps: Deps): JobDefinition {
  const collector = new DeductionCollector(deps);
  return {
    name: COLLECT_JOB,
    every: deps.config.deductions.collectEveryMs,
    concurrency: 1,
    lockLifetimeMs: 10 * 60_000,
    async run() {
      await collector.trigger();
    },
    background: collector,
  };
}
