import {
  claimSettlement,
  findOrderContext,
  findOrderContextByNo,
  findPaymentById,
  finishSettlementIfOpen,
  updateOrder,
  type TerminalOrderRow,
} from '../../db/repos/terminals/orders.js';
import type { Deps } from '../../deps.js';
import { AlipayError } from '../../integrations/alipay/errors.js';
import type { NotificationHandler } from '../notify/notifications.js';

/**
 * Profit sharing after the goods came out (royalty timing AFTER_DISPENSE; ALIPAY.md §4.15, ALIPAY-M2.md §2):
 * the trade was made with royalty_freeze, and once the machine reports, the operator's share of what was kept
 * is split off with alipay.trade.order.settle (async, royalty_finish so the rest is the school's: with no
 * receivers when the share of what was kept is 0), under its own idempotent out_request_no `<order no>S`. States: PENDING (due) → SENT (Alipay accepted; the result is asked
 * with settle.query) → SUCCEEDED | FAILED (for the admins); NOT_NEEDED when nothing was kept.
 */

export const TERMINAL_SETTLE_JOB = 'terminal.settle';
const ATTEMPT_LEASE_MS = 60_000;
/** How soon the result of an accepted settle is asked for. */
const QUERY_AFTER_MS = 1_000;

/**
 * A new out_request_no for a split whose last request Alipay refused for good: `<order no>S<n>`, n one more
 * each time (the first request is `<order no>S`).
 */
export function nextSettleRequestNo(order: Pick<TerminalOrderRow, 'orderNo' | 'settleOutRequestNo'>): string {
  // Stryker disable next-line Regex,StringLiteral: equivalent (no end anchor; another text than '') — an order number is `T` and digits (lib/ids.ts), so the first S is the split's, and a text without `S<digits>` at its end counts as none; the `(\d)` variant, disabled with them, is killed by the two-digit numbering test
  const n = Number(/S(\d*)$/.exec(order.settleOutRequestNo ?? '')?.[1] || 0);
  return `${order.orderNo}S${n + 1}`;
}

/** The order number of a split's out_request_no (`<order no>S` or `<order no>S<n>`), or null. */
function orderNoOfSettle(outRequestNo: string): string | null {
  // Stryker disable next-line Regex: equivalent (no end anchor) — an order number is `T` and digits (lib/ids.ts), and the order found must have this very out_request_no (below); the `\D` variants, disabled with it, are killed by the renumbered split's message test
  return /S\d*$/.test(outRequestNo) ? outRequestNo.replace(/S\d*$/, '') : null;
}

export async function wakeSettlement(deps: Deps, orderId: string): Promise<void> {
  await deps.jobs.now(TERMINAL_SETTLE_JOB, { orderId });
}

export async function attemptSettlement(deps: Deps, orderId: string): Promise<void> {
  const now = deps.clock.now();
  const order = await claimSettlement(deps.db, orderId, now, new Date(now.getTime() + ATTEMPT_LEASE_MS));
  if (!order || !deps.alipay) return;
  const ctx = await findOrderContext(deps.db, order.id);
  const paid = order.paidPaymentId ? await findPaymentById(deps.db, order.paidPaymentId) : undefined;
  if (!ctx || !paid?.alipayTradeNo || !order.royaltyAccount || order.settleFen === null) return;
  if (!order.settleOutRequestNo) return;
  const request = {
    tradeNo: paid.alipayTradeNo,
    outRequestNo: order.settleOutRequestNo,
    appAuthToken: deps.schools.appAuthToken(ctx.school),
  };
  const later = async (delayMs: number, patch: Parameters<typeof updateOrder>[2] = {}) => {
    const next = new Date(deps.clock.now().getTime() + delayMs);
    await updateOrder(deps.db, order.id, { ...patch, settleNextAt: next, updatedAt: deps.clock.now() });
    await deps.jobs.at(next, TERMINAL_SETTLE_JOB, { orderId: order.id });
  };
  try {
    if (order.settleStatus === 'PENDING') {
      const { settleNo } = await deps.alipay.settleTrade({
        ...request,
        // A share of 0 (little was kept): royalty_finish alone, which releases the school's frozen money.
        shares:
          order.settleFen > 0
            ? [{ account: order.royaltyAccount, amountFen: order.settleFen, desc: '售货分润' }]
            : [],
        finish: true,
      });
      await later(QUERY_AFTER_MS, {
        settleStatus: 'SENT',
        settleNo,
        settleAttempts: order.settleAttempts + 1,
      });
      return;
    }
    const state = await deps.alipay.querySettlement(request);
    if (state?.state === 'SUCCESS') {
      await updateOrder(deps.db, order.id, {
        settleStatus: 'SUCCEEDED',
        settledAt: deps.clock.now(),
        settleNextAt: null,
        settleLastError: null,
        updatedAt: deps.clock.now(),
      });
      return;
    }
    if (state?.state === 'FAIL') {
      await updateOrder(deps.db, order.id, {
        settleStatus: 'FAILED',
        settleLastError: state.errorCode ?? 'FAIL',
        settleNextAt: null,
        updatedAt: deps.clock.now(),
      });
      return;
    }
    // PROCESSING, or not known yet: ask again; an unknown settle is sent again (same out_request_no).
    await later(QUERY_AFTER_MS * 5, state ? {} : { settleStatus: 'PENDING' });
  } catch (error) {
    if (!(error instanceof AlipayError)) throw error;
    const delay = deps.config.terminals.retryMs[order.settleAttempts];
    if (error.kind === 'final' || delay === undefined) {
      await updateOrder(deps.db, order.id, {
        settleStatus: 'FAILED',
        settleLastError: error.reason,
        settleNextAt: null,
        updatedAt: deps.clock.now(),
      });
      deps.logger.error('terminal royalty settle failed; an admin must act', {
        orderNo: order.orderNo,
        reason: error.reason,
      });
      return;
    }
    await later(delay, { settleLastError: error.reason, settleAttempts: order.settleAttempts + 1 });
  }
}

/**
 * The `alipay.trade.order.settle.notify` message at our app gateway (ALIPAY-M2.md §0, §2 "Async result"): the
 * result of an async split, so the admins see it without waiting for the query. Its biz_content fields are
 * not confirmed in Alipay's docs; we read what settle.query answers (trade_no, out_request_no,
 * royalty_detail_list[].state) and apply only SUCCESS or FAIL to a settlement of ours still PENDING or SENT
 * for that trade; anything else is left to the query (attemptSettlement), which stays the backstop.
 */
export const terminalSettleMessage: NotificationHandler = async (deps, tx, form) => {
  let biz: Record<string, unknown>;
  try {
    biz = JSON.parse(form.biz_content ?? '') as Record<string, unknown>;
  } catch {
    return { outcome: 'REJECTED_MALFORMED', detail: 'biz_content is not JSON' };
  }
  const outRequestNo = typeof biz.out_request_no === 'string' ? biz.out_request_no : '';
  const details = Array.isArray(biz.royalty_detail_list)
    ? (biz.royalty_detail_list as Array<Record<string, unknown>>)
    : [];
  const orderNo = orderNoOfSettle(outRequestNo);
  const ctx = orderNo ? await findOrderContextByNo(tx, orderNo) : undefined;
  if (!ctx || ctx.order.settleOutRequestNo !== outRequestNo)
    return { outcome: 'IGNORED', detail: `no settlement of ours is ${outRequestNo || '(none)'}` };
  const paid = ctx.order.paidPaymentId ? await findPaymentById(tx, ctx.order.paidPaymentId) : undefined;
  if (!paid?.alipayTradeNo || paid.alipayTradeNo !== biz.trade_no)
    return {
      outcome: 'REJECTED_UNKNOWN_ORDER',
      detail: `${outRequestNo} is not of trade ${String(biz.trade_no)}`,
    };
  const failed = details.find((d) => d.state === 'FAIL');
  const succeeded = details.length > 0 && details.every((d) => d.state === 'SUCCESS');
  if (!failed && !succeeded) return { outcome: 'IGNORED', detail: `${outRequestNo}: still processing` };
  const now = deps.clock.now();
  const moved = await finishSettlementIfOpen(
    tx,
    ctx.order.id,
    failed
      ? { settleStatus: 'FAILED', settleLastError: String(failed.error_code ?? 'FAIL'), updatedAt: now }
      : { settleStatus: 'SUCCEEDED', settledAt: now, settleLastError: null, updatedAt: now },
  );
  if (!moved) return { outcome: 'ALREADY_APPLIED', detail: `${outRequestNo}: ${ctx.order.settleStatus}` };
  return { outcome: 'APPLIED', detail: `${outRequestNo}: ${failed ? 'FAILED' : 'SUCCEEDED'}` };
};
