import type { JobDefinition } from './runner.js';
import { noncesPruneJob } from './nonces-prune.js';

/** Every job the worker runs. One file per job. */
export function allJobs(): JobDefinition<never>[] {
  return [noncesPruneJob] as JobDefinition<never>[];
}
