import { creditRecharge, CREDIT_JOB } from '../domain/recharge.js';
import type { JobDefinition } from './runner.js';

/** Puts a paid recharge on the card (vendor Recharge, our order number as the flow number). */
export const rechargeCreditJob: JobDefinition<{ orderId: string }> = {
  name: CREDIT_JOB,
  concurrency: 20,
  lockLifetimeMs: 2 * 60_000,
  async run(data, deps) {
    await creditRecharge(deps, data.orderId);
  },
};
