import { SYNC_CARD_JOB, syncCardForWithholding } from '../../domain/withholding/agreements.js';
import type { JobDefinition } from '../runner.js';

type Data = { bindingId: string; attempt?: number };

/**
 * ZFB_BindDoc or ZFB_UnBindDoc so that a binding's card is bound for withholding exactly while an ACTIVE
 * agreement of its user covers it; retried with backoff while the card system fails.
 */
export const withholdingSyncCardJob: JobDefinition<Data> = {
  name: SYNC_CARD_JOB,
  concurrency: 10,
  lockLifetimeMs: 2 * 60_000,
  async run(data, deps) {
    if (typeof data.bindingId !== 'string') return; // a job queued by an older version
    await syncCardForWithholding(deps, data.bindingId, data.attempt ?? 0);
  },
};
