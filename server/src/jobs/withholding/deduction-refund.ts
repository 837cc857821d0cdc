import { REFUND_JOB, retryDeductionRefund } from '../../domain/withholding/deduction-refunds.js';
import type { JobDefinition } from '../runner.js';

/** Refunds a reversed swipe that had been collected, with its stable out_request_no (retry-safe). */
export const deductionRefundJob: JobDefinition<{ deductionId: string }> = {
  name: REFUND_JOB,
  concurrency: 10,
  lockLifetimeMs: 2 * 60_000,
  async run(data, deps) {
    await retryDeductionRefund(deps, data.deductionId);
  },
};
