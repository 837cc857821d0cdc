import {
  claimTerminalRefund,
  findOrderContext,
  setRefundNextAttempt,
  type TerminalOrderRow,
} from '../../db/repos/terminals/orders.js';
import {
  findRefundOfSchool,
  markRefundSucceeded,
  recordRefundFailure,
} from '../../db/repos/withholding/refunds.js';
import type { Deps } from '../../deps.js';
import type { RoyaltyShare } from '../../integrations/alipay/alipay.js';
import { AlipayError } from '../../integrations/alipay/errors.js';
import { shareToReturn } from './royalty.js';

/**
 * Terminal refunds (issue #15): items a machine failed to give out (TERMINAL_DISPENSE, `<order no>D`) and
 * payments that are not the order's (TERMINAL_UNWANTED_PAYMENT, `<out_trade_no>U`). Each is a `refunds` row
 * with a stable out_request_no, so any number of attempts refund once (ALIPAY.md §4.8). Royalty paid with the
 * trade (ON_PAYMENT) is taken back from the operator first, in proportion (refund_royalty_parameters,
 * ALIPAY-M2.md §2; royalty.ts has the rounding rule). Attempts: the `terminal.refund` job right away, then
 * TERMINAL_RETRY_MS; a refusal Alipay confirms, or the end of the schedule, makes it FAILED for the admins.
 */

export const TERMINAL_REFUND_JOB = 'terminal.refund';
const ATTEMPT_LEASE_MS = 60_000;

/** The royalty a refund of `refundFen` takes back, after `refundedBeforeFen` earlier refunds. */
export function royaltyReturnsFor(
  order: TerminalOrderRow,
  refundedBeforeFen: number,
  refundFen: number,
): RoyaltyShare[] | null {
  if (order.royaltyTiming !== 'ON_PAYMENT' || !order.royaltyAccount || !order.royaltyFen) return null;
  const amountFen = shareToReturn(order.royaltyFen, order.amountFen, refundedBeforeFen, refundFen);
  return amountFen > 0 ? [{ account: order.royaltyAccount, amountFen }] : null;
}

export async function wakeTerminalWork(deps: Deps, work: { refundId: string }): Promise<void> {
  await deps.jobs.now(TERMINAL_REFUND_JOB, { refundId: work.refundId });
}

/** One attempt of a due terminal refund (the job's and the sweep's entry). */
export async function attemptTerminalRefund(deps: Deps, refundId: string): Promise<void> {
  const now = deps.clock.now();
  const refund = await claimTerminalRefund(
    deps.db,
    refundId,
    now,
    new Date(now.getTime() + ATTEMPT_LEASE_MS),
  );
  if (!refund || !refund.terminalOrderId || !deps.alipay) return;
  const ctx = await findOrderContext(deps.db, refund.terminalOrderId);
  if (!ctx) return;
  const appAuthToken = deps.schools.appAuthToken(ctx.school);
  const request = { outTradeNo: refund.outTradeNo, outRequestNo: refund.outRequestNo, appAuthToken };
  try {
    await deps.alipay.refund({
      ...request,
      amountFen: refund.amountFen,
      reason: refund.kind === 'TERMINAL_DISPENSE' ? '出货失败退款' : '订单已关闭或已支付，退回重复付款',
      royaltyReturns: refund.royaltyReturns as RoyaltyShare[] | null,
    });
  } catch (error) {
    if (!(error instanceof AlipayError)) throw error;
    // A refusal after an attempt that got no answer may mean that attempt went through: ask first.
    let isFinal = error.kind === 'final';
    if (isFinal && refund.attempts > 0) {
      const refunded = await deps.alipay.isRefunded(request).catch(() => null);
      if (refunded === true) return succeeded(deps, refund.id);
      if (refunded === null) isFinal = false;
    }
    const delay = deps.config.terminals.retryMs[refund.attempts];
    const givesUp = isFinal || delay === undefined;
    await recordRefundFailure(deps.db, refund.id, {
      error: `${error.reason}`.slice(0, 500),
      isFinal: givesUp,
      now: deps.clock.now(),
    });
    if (givesUp) {
      await setRefundNextAttempt(deps.db, refund.id, null);
      deps.logger.error('terminal refund failed; an admin must act', {
        outRequestNo: refund.outRequestNo,
        reason: error.reason,
      });
      return;
    }
    const next = new Date(deps.clock.now().getTime() + delay);
    await setRefundNextAttempt(deps.db, refund.id, next);
    await deps.jobs.at(next, TERMINAL_REFUND_JOB, { refundId: refund.id });
    return;
  }
  await succeeded(deps, refund.id);
}

async function succeeded(deps: Deps, refundId: string): Promise<void> {
  await markRefundSucceeded(deps.db, refundId, deps.clock.now());
  await setRefundNextAttempt(deps.db, refundId, null);
}

/**
 * An admin's retry of a refund Alipay refused (the exceptions inbox, domain/refunds/refund-exceptions.ts has
 * reopened it as PENDING): one attempt now with the same out_request_no, so it can refund only once.
 */
export async function retryTerminalRefundNow(
  deps: Deps,
  refund: { id: string; schoolId: string },
): Promise<string> {
  await setRefundNextAttempt(deps.db, refund.id, deps.clock.now());
  await attemptTerminalRefund(deps, refund.id);
  const after = await findRefundOfSchool(deps.db, refund.schoolId, refund.id);
  return after?.status === 'SUCCEEDED' ? 'REFUNDED' : `REFUND_${after?.status ?? 'PENDING'}`;
}
