import type { InboxActionResponse } from '../../../../shared/admin-api.js';
import {
  findRecharge,
  findRechargeOfSchool,
  lockRechargeOfSchool,
  markFailedFoundCredited,
  markRechargeRefunded,
  reopenForCredit,
  type RechargeRow,
} from '../../db/repos/recharge/recharges.js';
import {
  ensureRefund,
  findRefund,
  markRefundSucceeded,
  recordRefundFailure,
  type RefundRow,
} from '../../db/repos/withholding/refunds.js';
import { findSchool } from '../../db/repos/schools/schools.js';
import type { Deps } from '../../deps.js';
import { AlipayError } from '../../integrations/alipay/errors.js';
import { CardSystemError } from '../../integrations/cardsys/index.js';
import { recordAudit, type Actor } from '../audit/audit.js';
import { DomainError } from '../errors.js';
import { requireAlipay } from '../outside-errors.js';
import { creditRecharge, findVendorCredit } from './recharge.js';

/**
 * What a school's staff do with a recharge the card system would not credit (CREDIT_FAILED, DESIGN §7.3):
 *   retry crediting: one more vendor Recharge at once, through creditRecharge (the crediting drainer's own
 *     code) with the same flow number, so the card can never be credited twice;
 *   refund: alipay.trade.refund of the whole payment with the stable out_request_no `<order no>_R`
 *     (ALIPAY.md §4.8), retried by `recharge.refund` until Alipay answers, then REFUNDED.
 * Each is one conditional change under the order's row lock with its audit row, so a double tap does one
 * thing and answers `changed: false` the second time.
 */

export const RECHARGE_REFUND_JOB = 'recharge.refund';

export function rechargeRefundRequestNo(order: Pick<RechargeRow, 'outTradeNo'>): string {
  return `${order.outTradeNo}_R`;
}

export async function retryRechargeCredit(
  deps: Deps,
  actor: Actor,
  schoolId: string,
  id: string,
): Promise<InboxActionResponse> {
  const now = deps.clock.now();
  const reopened = await deps.db.transaction(async (tx) => {
    const order = await lockRechargeOfSchool(tx, schoolId, id);
    if (!order) throw new DomainError('ORDER_NOT_FOUND');
    if (order.status !== 'CREDIT_FAILED') return { order, moved: undefined };
    if (await findRefund(tx, order.outTradeNo, rechargeRefundRequestNo(order)))
      throw new DomainError('REFUND_IN_PROGRESS');
    const moved = await reopenForCredit(tx, order.id, {
      now,
      leaseUntil: new Date(now.getTime() + deps.config.recharge.creditLeaseMs),
    });
    await recordAudit(tx, {
      actor,
      schoolId,
      action: 'recharge.credit.retry',
      target: order.outTradeNo,
      before: { status: order.status, lastError: order.lastError },
      after: { status: 'PAID' },
    });
    return { order, moved };
  });
  if (!reopened.moved) {
    return { changed: false, status: reopened.order.status, message: `already ${reopened.order.status}` };
  }
  const school = await findSchool(deps.db, schoolId);
  if (school) await creditRecharge(deps, reopened.moved, school);
  const after = (await findRecharge(deps.db, id))!;
  return {
    changed: true,
    status: after.status,
    message: after.status === 'CREDITED' ? 'credited' : `the card system still refuses: ${after.lastError}`,
  };
}

/**
 * Before money goes back, the card system is asked whether it credited the order after all (its records,
 * by our flow number): the unknown-outcome rule, never a refund on a guess. A credit found there makes the
 * order CREDITED and the refund is refused with RECHARGE_ALREADY_CREDITED; a card system that cannot be
 * asked refuses it for now.
 */
async function refuseIfVendorCredited(deps: Deps, actor: Actor, schoolId: string, id: string): Promise<void> {
  const order = await findRechargeOfSchool(deps.db, schoolId, id);
  const school = await findSchool(deps.db, schoolId);
  if (!order || !school || order.status !== 'CREDIT_FAILED') return;
  let credited;
  try {
    credited = await findVendorCredit(deps, order, school);
  } catch (error) {
    if (!(error instanceof CardSystemError)) throw error;
    throw new DomainError(
      'CARD_SYSTEM_UNAVAILABLE',
      'The card system cannot say now whether it credited this recharge; try the refund again later',
    );
  }
  if (!credited) return;
  await deps.db.transaction(async (tx) => {
    if (!(await markFailedFoundCredited(tx, order.id, deps.clock.now()))) return;
    await recordAudit(tx, {
      actor,
      schoolId,
      action: 'recharge.found-credited',
      target: order.outTradeNo,
      before: { status: 'CREDIT_FAILED' },
      after: { status: 'CREDITED', vendorSerial: credited.vendorSerial },
    });
  });
  throw new DomainError('RECHARGE_ALREADY_CREDITED');
}

export async function refundFailedRecharge(
  deps: Deps,
  actor: Actor,
  schoolId: string,
  id: string,
): Promise<InboxActionResponse> {
  requireAlipay(deps);
  await refuseIfVendorCredited(deps, actor, schoolId, id);
  const started = await deps.db.transaction(async (tx) => {
    const order = await lockRechargeOfSchool(tx, schoolId, id);
    if (!order) throw new DomainError('ORDER_NOT_FOUND');
    const outRequestNo = rechargeRefundRequestNo(order);
    const existing = await findRefund(tx, order.outTradeNo, outRequestNo);
    if (existing || order.status === 'REFUNDED') return { order, refund: undefined, existing };
    if (order.status === 'CREDITED') throw new DomainError('RECHARGE_ALREADY_CREDITED');
    if (order.status !== 'CREDIT_FAILED')
      throw new DomainError('ACTION_NOT_ALLOWED', `the recharge is ${order.status}`);
    const refund = await ensureRefund(tx, {
      schoolId,
      kind: 'RECHARGE_REFUND',
      outTradeNo: order.outTradeNo,
      outRequestNo,
      amountFen: order.amountFen,
      reason: 'recharge could not be credited',
    });
    await recordAudit(tx, {
      actor,
      schoolId,
      action: 'recharge.refund',
      target: order.outTradeNo,
      before: { status: order.status },
      after: { refund: outRequestNo, amountFen: order.amountFen },
    });
    return { order, refund, existing: undefined };
  });
  if (!started.refund) {
    const status = started.order.status === 'REFUNDED' ? 'REFUNDED' : `REFUND_${started.existing!.status}`;
    return { changed: false, status, message: 'a refund of this recharge exists already' };
  }
  const outcome = await sendRechargeRefund(deps, started.refund);
  return {
    changed: true,
    status: outcome,
    message: outcome === 'REFUNDED' ? 'refunded' : 'refund under way',
  };
}

/**
 * One attempt at a recharge's refund (the first, a retry of the job, or an admin's): the same
 * out_request_no and amount every time. Unknown and retryable failures are tried again on
 * DEDUCTION_REFUND_RETRY_MS; a refusal that follows an unanswered attempt is first checked with
 * fastpay.refund.query (it may have gone through); then FAILED, for the exceptions inbox.
 */
export async function sendRechargeRefund(
  deps: Deps,
  refund: RefundRow,
): Promise<'REFUNDED' | 'REFUND_PENDING' | 'REFUND_FAILED'> {
  const alipay = requireAlipay(deps);
  const school = await findSchool(deps.db, refund.schoolId);
  if (!school) return 'REFUND_PENDING';
  const appAuthToken = deps.schools.appAuthToken(school);
  const request = { outTradeNo: refund.outTradeNo, outRequestNo: refund.outRequestNo, appAuthToken };
  try {
    await alipay.refund({ ...request, amountFen: refund.amountFen, reason: '校园卡充值未能入账，退款' });
  } catch (error) {
    if (!(error instanceof AlipayError)) throw error;
    const wasUnanswered = refund.attempts > 0 && refund.lastError !== null;
    if (error.kind === 'final' && wasUnanswered && (await alipay.isRefunded(request).catch(() => false))) {
      return completeRechargeRefund(deps, refund);
    }
    const attempts = await recordRefundFailure(deps.db, refund.id, {
      error: `${error.kind}: ${error.reason}`.slice(0, 500),
      isFinal: error.kind === 'final',
      now: deps.clock.now(),
    });
    const delay = deps.config.deductions.refundRetryMs[attempts - 1];
    if (error.kind === 'final') {
      deps.logger.error('recharge refund refused; the inbox shows it', { outRequestNo: refund.outRequestNo });
      return 'REFUND_FAILED';
    }
    if (delay !== undefined) {
      await deps.jobs.at(new Date(deps.clock.now().getTime() + delay), RECHARGE_REFUND_JOB, {
        refundId: refund.id,
        schoolId: refund.schoolId,
      });
    }
    return 'REFUND_PENDING';
  }
  return completeRechargeRefund(deps, refund);
}

async function completeRechargeRefund(deps: Deps, refund: RefundRow): Promise<'REFUNDED'> {
  await deps.db.transaction(async (tx) => {
    await markRefundSucceeded(tx, refund.id, deps.clock.now());
    await markRechargeRefunded(tx, refund.outTradeNo, deps.clock.now());
  });
  deps.logger.info('recharge refunded', { outTradeNo: refund.outTradeNo });
  return 'REFUNDED';
}
