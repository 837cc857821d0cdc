import {
  findDeduction,
  markRefunded,
  setRefundRequestNo,
  type DeductionRow,
} from '../../db/repos/withholding/deductions.js';
import {
  ensureRefund,
  markRefundSucceeded,
  recordRefundFailure,
} from '../../db/repos/withholding/refunds.js';
import { findRepayment } from '../../db/repos/withholding/repayments.js';
import { findSchool } from '../../db/repos/schools/schools.js';
import type { Deps } from '../../deps.js';
import { AlipayError } from '../../integrations/alipay/errors.js';
import { requireAlipay } from '../outside-errors.js';

/**
 * Refunds of reversed swipes that had already been paid (DESIGN §6.2): through alipay.trade.refund on the
 * trade that took the money — the deduction's own, or the repayment that settled it — with the stable
 * out_request_no `<deduction no>_R`, so that a repeat (after a timeout, a crash, a second reversal) can
 * never refund twice (ALIPAY.md §4.8). Unknown and retryable failures are retried by `deduction.refund`.
 */

export const REFUND_JOB = 'deduction.refund';

export function refundRequestNo(deduction: Pick<DeductionRow, 'deductionNo'>): string {
  return `${deduction.deductionNo}_R`;
}

export async function refundReversedDeduction(deps: Deps, deduction: DeductionRow): Promise<void> {
  if (deduction.status !== 'COLLECTED' && deduction.status !== 'SETTLED') return;
  if (!deduction.amountFen) return;
  const alipay = requireAlipay(deps);
  const school = await findSchool(deps.db, deduction.schoolId);
  if (!school) return;
  const paidWith =
    deduction.status === 'SETTLED' && deduction.repaymentId
      ? (await findRepayment(deps.db, deduction.repaymentId))?.outTradeNo
      : deduction.outTradeNo;
  if (!paidWith) return;
  const now = deps.clock.now();
  const outRequestNo = refundRequestNo(deduction);
  const refund = await ensureRefund(deps.db, {
    schoolId: deduction.schoolId,
    kind: 'DEDUCTION_REVERSAL',
    outTradeNo: paidWith,
    outRequestNo,
    amountFen: deduction.amountFen,
    reason: `reversal of POS txn ${deduction.txnNo}`,
  });
  if (refund.status === 'SUCCEEDED') {
    await markRefunded(deps.db, deduction.id, now);
    return;
  }
  if (refund.status === 'FAILED') return;
  await setRefundRequestNo(deps.db, deduction.id, outRequestNo, now);
  try {
    await alipay.refund({
      outTradeNo: paidWith,
      outRequestNo,
      amountFen: deduction.amountFen,
      reason: '刷卡撤销',
      appAuthToken: deps.schools.appAuthToken(school),
    });
  } catch (error) {
    if (!(error instanceof AlipayError)) throw error;
    // A refusal after an earlier attempt that got no answer may only mean that attempt went through:
    // ask (fastpay.refund.query) before calling the refund failed. Unknown and retryable failures are
    // retried with the same out_request_no, which is itself safe to repeat (ALIPAY.md §4.16).
    let isFinal = error.kind === 'final';
    if (isFinal && refund.attempts > 0) {
      const refunded = await alipay
        .isRefunded({ outTradeNo: paidWith, outRequestNo, appAuthToken: deps.schools.appAuthToken(school) })
        .catch(() => null);
      if (refunded === true) {
        await markRefundSucceeded(deps.db, refund.id, deps.clock.now());
        await markRefunded(deps.db, deduction.id, deps.clock.now());
        deps.logger.info('reversed deduction found refunded by query', {
          deductionNo: deduction.deductionNo,
        });
        return;
      }
      if (refunded === null) isFinal = false;
    }
    const attempts = await recordRefundFailure(deps.db, refund.id, {
      error: error.reason,
      isFinal,
      now: deps.clock.now(),
    });
    const delay = deps.config.deductions.refundRetryMs[attempts - 1];
    if (isFinal || delay === undefined) {
      // FAILED (final) waits for an admin; PENDING past the schedule is tried again by the withholding
      // sweep (findUnrefundedReversals), so a refund is never dropped.
      deps.logger.error('refund of a reversed deduction failed; an admin must act', {
        deductionNo: deduction.deductionNo,
        reason: error.reason,
      });
      return;
    }
    deps.logger.warn('refund of a reversed deduction will be retried', {
      deductionNo: deduction.deductionNo,
      reason: error.reason,
    });
    await deps.jobs.at(new Date(deps.clock.now().getTime() + delay), REFUND_JOB, {
      deductionId: deduction.id,
    });
    return;
  }
  await markRefundSucceeded(deps.db, refund.id, deps.clock.now());
  await markRefunded(deps.db, deduction.id, deps.clock.now());
  deps.logger.info('reversed deduction refunded', { deductionNo: deduction.deductionNo });
}

/** The job's entry: the deduction as it is now. */
export async function retryDeductionRefund(deps: Deps, deductionId: string): Promise<void> {
  const deduction = await findDeduction(deps.db, deductionId);
  if (deduction?.reversalRequestedAt) await refundReversedDeduction(deps, deduction);
}
