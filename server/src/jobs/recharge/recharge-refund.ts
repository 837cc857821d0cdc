import { findRefundOfSchool } from '../../db/repos/withholding/refunds.js';
import { RECHARGE_REFUND_JOB, sendRechargeRefund } from '../../domain/recharge/recharge-exceptions.js';
import type { JobDefinition } from '../runner.js';

/** Retries a recharge's refund (same out_request_no and amount) while Alipay has not answered it. */
export const rechargeRefundJob: JobDefinition<{ refundId: string; schoolId?: string }> = {
  name: RECHARGE_REFUND_JOB,
  concurrency: 5,
  lockLifetimeMs: 2 * 60_000,
  async run(data, deps) {
    if (typeof data.refundId !== 'string' || typeof data.schoolId !== 'string') return;
    const refund = await findRefundOfSchool(deps.db, data.schoolId, data.refundId);
    if (refund?.status === 'PENDING' && !refund.handledAt) await sendRechargeRefund(deps, refund);
  },
};
