import {
  BIND_CARD_JOB,
  UNBIND_CARD_JOB,
  bindCardForWithholding,
  unbindCardForWithholding,
} from '../../domain/withholding/agreements.js';
import type { JobDefinition } from '../runner.js';

type Data = { agreementId: string; attempt?: number };

/** ZFB_BindDoc once an agreement is ACTIVE; retried with backoff while the card system fails. */
export const withholdingBindCardJob: JobDefinition<Data> = {
  name: BIND_CARD_JOB,
  concurrency: 10,
  lockLifetimeMs: 2 * 60_000,
  async run(data, deps) {
    await bindCardForWithholding(deps, data.agreementId, data.attempt ?? 0);
  },
};

/** ZFB_UnBindDoc once an agreement has ended; retried with backoff while the card system fails. */
export const withholdingUnbindCardJob: JobDefinition<Data> = {
  name: UNBIND_CARD_JOB,
  concurrency: 10,
  lockLifetimeMs: 2 * 60_000,
  async run(data, deps) {
    await unbindCardForWithholding(deps, data.agreementId, data.attempt ?? 0);
  },
};
