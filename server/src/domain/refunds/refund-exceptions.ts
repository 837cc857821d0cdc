import type { InboxActionResponse } from '../../../../shared/admin-api.js';
import {
  findDeductionOfRefund,
  markRefunded as markDeductionRefunded,
} from '../../db/repos/withholding/deductions.js';
import {
  findRefundOfSchool,
  markRefundHandled,
  markRefundSucceeded,
  takeRefundForRetry,
  type RefundRow,
} from '../../db/repos/withholding/refunds.js';
import { markRechargeRefunded } from '../../db/repos/recharge/recharges.js';
import { findSchool } from '../../db/repos/schools/schools.js';
import type { Deps } from '../../deps.js';
import { actorId, recordAudit, type Actor } from '../audit/audit.js';
import { DomainError } from '../errors.js';
import { requireAlipay } from '../outside-errors.js';
import { sendRechargeRefund } from '../recharge/recharge-exceptions.js';
import { retryTerminalRefundNow } from '../terminals/refunds.js';
import { refundReversedDeduction } from '../withholding/deduction-refunds.js';

/**
 * Refunds that ran out of retries or were refused (the exceptions inbox): retry once more with the same
 * out_request_no (Alipay refunds one request number once, ALIPAY.md §4.8), or take it out of the inbox
 * with a reason ("paid back in cash"). Before giving up on one, Alipay is asked whether it went through
 * after all (fastpay.refund.query): the unknown-outcome rule, never a final state without their no.
 */

/** A refund sent less than this long ago is not sent again by a second tap. */
const RETRY_IDLE_MS = 15_000;

async function retryOnce(deps: Deps, refund: RefundRow): Promise<string> {
  if (refund.kind === 'RECHARGE_REFUND') return sendRechargeRefund(deps, refund);
  if (refund.terminalOrderId) return retryTerminalRefundNow(deps, refund);
  const deduction = await findDeductionOfRefund(deps.db, refund);
  if (!deduction) return 'REFUND_PENDING';
  await refundReversedDeduction(deps, deduction);
  const after = await findRefundOfSchool(deps.db, refund.schoolId, refund.id);
  return after?.status === 'SUCCEEDED' ? 'REFUNDED' : `REFUND_${after?.status ?? 'PENDING'}`;
}

export async function retryRefund(
  deps: Deps,
  actor: Actor,
  schoolId: string,
  id: string,
): Promise<InboxActionResponse> {
  requireAlipay(deps);
  const now = deps.clock.now();
  const refund = await deps.db.transaction(async (tx) => {
    const before = await findRefundOfSchool(tx, schoolId, id);
    if (!before) throw new DomainError('INBOX_ITEM_NOT_FOUND');
    if (before.status === 'SUCCEEDED' || before.handledAt) return { before, reopened: undefined };
    // FAILED goes back to PENDING; a PENDING one is taken unless someone sent it a moment ago.
    const reopened = await takeRefundForRetry(tx, id, {
      now,
      idleBefore: new Date(now.getTime() - RETRY_IDLE_MS),
    });
    if (reopened) {
      await recordAudit(tx, {
        actor,
        schoolId,
        action: 'refund.retry',
        target: before.outRequestNo,
        before: { status: before.status, attempts: before.attempts, lastError: before.lastError },
        after: { status: 'PENDING' },
      });
    }
    return { before, reopened };
  });
  if (!refund.reopened) {
    const isRunning = refund.before.status === 'PENDING' && !refund.before.handledAt;
    return {
      changed: false,
      status: refund.before.status,
      message: isRunning ? 'a retry was sent a moment ago' : `already ${refund.before.status}`,
    };
  }
  const status = await retryOnce(deps, refund.reopened);
  return { changed: true, status, message: status === 'REFUNDED' ? 'refunded' : 'still not refunded' };
}

export async function markRefundAsHandled(
  deps: Deps,
  actor: Actor,
  schoolId: string,
  id: string,
  reason: string,
): Promise<InboxActionResponse> {
  const alipay = requireAlipay(deps);
  const refund = await findRefundOfSchool(deps.db, schoolId, id);
  if (!refund) throw new DomainError('INBOX_ITEM_NOT_FOUND');
  if (refund.status === 'SUCCEEDED' || refund.handledAt)
    return { changed: false, status: refund.status, message: 'already out of the inbox' };
  const school = await findSchool(deps.db, schoolId);
  const wentThrough = await alipay.isRefunded({
    outTradeNo: refund.outTradeNo,
    outRequestNo: refund.outRequestNo,
    appAuthToken: school ? deps.schools.appAuthToken(school) : null,
  });
  const now = deps.clock.now();
  return deps.db.transaction(async (tx) => {
    if (wentThrough) {
      await markRefundSucceeded(tx, refund.id, now);
      if (refund.kind === 'RECHARGE_REFUND') await markRechargeRefunded(tx, refund.outTradeNo, now);
      else {
        const deduction = await findDeductionOfRefund(tx, refund);
        if (deduction) await markDeductionRefunded(tx, deduction.id, now);
      }
      await recordAudit(tx, {
        actor,
        schoolId,
        action: 'refund.found-refunded',
        target: refund.outRequestNo,
        before: { status: refund.status },
        after: { status: 'SUCCEEDED' },
      });
      return { changed: true, status: 'SUCCEEDED', message: 'Alipay had refunded it after all' };
    }
    const handled = await markRefundHandled(tx, refund.id, { by: actorId(actor), reason, now });
    if (!handled) return { changed: false, status: refund.status, message: 'already out of the inbox' };
    await recordAudit(tx, {
      actor,
      schoolId,
      action: 'refund.mark-handled',
      target: refund.outRequestNo,
      before: { status: refund.status, attempts: refund.attempts },
      after: { status: handled.status, reason },
    });
    return { changed: true, status: 'HANDLED', message: 'taken out of the inbox' };
  });
}
