import type { InboxActionResponse } from '../../../../shared/admin-api.js';
import type { TerminalOrderItem } from '../../../../shared/gateway-api.js';
import type { Executor } from '../../db/client.js';
import {
  failedRefundsOfOrder,
  findOrderContext,
  findOrderOfSchool,
  findPaymentById,
  lockOrder,
  reopenFailedSettlement,
  reopenGaveUpCallback,
  type TerminalOrderRow,
} from '../../db/repos/terminals/orders.js';
import type { Deps } from '../../deps.js';
import type { SettlementState } from '../../integrations/alipay/alipay.js';
import { recordAudit, type Actor } from '../audit/audit.js';
import { DomainError } from '../errors.js';
import { alipayFailure, requireAlipay } from '../outside-errors.js';
import { markRefundAsHandled, retryRefund } from '../refunds/refund-exceptions.js';
import { wakeCallbacks } from './callbacks.js';
import { allLinesOf, recordDispense, startDispenseWork } from './dispense.js';
import { retryTerminalRefundNow } from './refunds.js';
import { attemptSettlement, nextSettleRequestNo } from './settle.js';

/**
 * What an admin does from the exceptions inbox about a terminal order (domain/inbox/kinds/terminals.ts). Each
 * looks the order up by school, goes through the code the jobs use, answers `changed: false` to a double tap,
 * and is audited in the transaction of its change. Refunds go through the inbox's one refund mechanism
 * (refund-exceptions.ts: same out_request_no, so Alipay refunds once however often it is tapped).
 */

/** The school's order the inbox item names (the database or the caller's transaction), or INBOX_ITEM_NOT_FOUND. */
async function orderOfSchool(db: Executor, schoolId: string, id: string): Promise<TerminalOrderRow> {
  const order = await findOrderOfSchool(db, schoolId, id);
  if (!order) throw new DomainError('INBOX_ITEM_NOT_FOUND');
  return order;
}

/** Several refunds of one order answered as one: REFUNDED only when every one went through. */
function together(results: InboxActionResponse[], done: string): InboxActionResponse {
  const open = results.find((r) => r.status !== done);
  return {
    changed: results.some((r) => r.changed),
    status: open?.status ?? done,
    message: results.map((r) => r.message).join('; '),
  };
}

/** Sends the order's refused refunds once more (a refund for items not given out, or an unwanted payment). */
export async function retryFailedTerminalRefunds(
  deps: Deps,
  actor: Actor,
  schoolId: string,
  orderId: string,
): Promise<InboxActionResponse> {
  const order = await orderOfSchool(deps.db, schoolId, orderId);
  const failed = await failedRefundsOfOrder(deps.db, order.id);
  if (failed.length === 0)
    return {
      changed: false,
      status: 'NO_FAILED_REFUND',
      message: 'no refund of this order waits for a retry',
    };
  const results: InboxActionResponse[] = [];
  for (const refund of failed) results.push(await retryRefund(deps, actor, schoolId, refund.id));
  return together(results, 'REFUNDED');
}

/** Takes the order's refused refunds out of the inbox with the admin's reason (paid back another way). */
export async function markTerminalRefundsHandled(
  deps: Deps,
  actor: Actor,
  schoolId: string,
  orderId: string,
  reason: string,
): Promise<InboxActionResponse> {
  const order = await orderOfSchool(deps.db, schoolId, orderId);
  const failed = await failedRefundsOfOrder(deps.db, order.id);
  if (failed.length === 0)
    return { changed: false, status: 'NO_FAILED_REFUND', message: 'no refund of this order is in the inbox' };
  const results: InboxActionResponse[] = [];
  for (const refund of failed)
    results.push(await markRefundAsHandled(deps, actor, schoolId, refund.id, reason));
  return together(results, 'HANDLED');
}

/** Calls the machine once more with the paid order (after it was fixed or came back online). */
export async function retryTerminalCallback(
  deps: Deps,
  actor: Actor,
  schoolId: string,
  orderId: string,
): Promise<InboxActionResponse> {
  const now = deps.clock.now();
  const reopened = await deps.db.transaction(async (tx) => {
    const order = await orderOfSchool(tx, schoolId, orderId);
    const row = await reopenGaveUpCallback(tx, order.id, now);
    if (row)
      await recordAudit(tx, {
        actor,
        schoolId,
        action: 'terminal-order.callback.retry',
        target: order.orderNo,
        before: { callbackStatus: order.callbackStatus, attempts: order.callbackAttempts },
        after: { callbackStatus: row.callbackStatus },
      });
    return row ? { row } : { order };
  });
  if (!('row' in reopened))
    return {
      changed: false,
      status: reopened.order.callbackStatus ?? 'NO_CALLBACK',
      message: 'the callback is not given up',
    };
  wakeCallbacks(deps);
  return { changed: true, status: 'PENDING', message: 'the machine is called again' };
}

/**
 * The machine never reported and the goods did not come out (the buyer or the operator says so): the order is
 * recorded as FAILED with every line, exactly as if the machine had reported it, so the whole amount is
 * refunded once (`<order no>D`) and the royalty taken back or released as for a machine's report. A machine's
 * report that comes afterwards and says otherwise is refused (DISPENSE_CONFLICT); the audit row says who
 * decided and why.
 */
export async function refundUndispensedOrder(
  deps: Deps,
  actor: Actor,
  schoolId: string,
  orderId: string,
  reason: string,
): Promise<InboxActionResponse> {
  const now = deps.clock.now();
  const done = await deps.db.transaction(async (tx) => {
    const order = await lockOrder(tx, (await orderOfSchool(tx, schoolId, orderId)).id);
    if (order.status !== 'PAID' || order.dispenseResult) return { order, recorded: null };
    const recorded = await recordDispense(tx, order, allLinesOf(order.items as TerminalOrderItem[]), now);
    await recordAudit(tx, {
      actor,
      schoolId,
      action: 'terminal-order.refund-undispensed',
      target: order.orderNo,
      before: { dispenseResult: null },
      after: { dispenseResult: recorded.order.dispenseResult, refundFen: order.amountFen, reason },
    });
    return { order, recorded };
  });
  if (!done.recorded)
    return {
      changed: false,
      status: done.order.dispenseResult ?? done.order.status,
      message: 'the order has a dispense result already',
    };
  const { refundId } = done.recorded;
  await startDispenseWork(deps, { ...done.recorded, refundId: null });
  // The refund is tried now, so the admin sees its outcome (the job would try it a moment later).
  const status = refundId ? await retryTerminalRefundNow(deps, { id: refundId, schoolId }) : 'REFUNDED';
  return { changed: true, status, message: 'the whole order is refunded to the payer' };
}

/**
 * A royalty split that failed, tried again. Alipay is asked first what became of the last request: done
 * (SUCCEEDED, nothing is sent), still running (SENT), refused for good (a new out_request_no, since Alipay
 * answers a repeat of a failed one with the same failure) or never received (the same out_request_no). Then
 * one attempt now, on the job's code and retry schedule.
 */
export async function retryFailedSettlement(
  deps: Deps,
  actor: Actor,
  schoolId: string,
  orderId: string,
): Promise<InboxActionResponse> {
  const alipay = requireAlipay(deps);
  const order = await orderOfSchool(deps.db, schoolId, orderId);
  const notFailed = (status: string | null): InboxActionResponse => ({
    changed: false,
    status: status ?? 'NO_SETTLEMENT',
    message: 'the royalty split has not failed',
  });
  if (order.settleStatus !== 'FAILED') return notFailed(order.settleStatus);
  const ctx = (await findOrderContext(deps.db, order.id))!;
  const paid = (await findPaymentById(deps.db, order.paidPaymentId!))!;
  let last: SettlementState | null;
  try {
    last = await alipay.querySettlement({
      tradeNo: paid.alipayTradeNo!,
      outRequestNo: order.settleOutRequestNo!,
      appAuthToken: deps.schools.appAuthToken(ctx.school),
    });
  } catch (error) {
    throw alipayFailure(error);
  }
  const now = deps.clock.now();
  const patch =
    last?.state === 'SUCCESS'
      ? { settleStatus: 'SUCCEEDED' as const, settledAt: now, settleNextAt: null, settleLastError: null }
      : last?.state === 'PROCESSING'
        ? { settleStatus: 'SENT' as const, settleNextAt: now }
        : {
            settleStatus: 'PENDING' as const,
            settleNextAt: now,
            settleAttempts: 0,
            settleOutRequestNo: last ? nextSettleRequestNo(order) : order.settleOutRequestNo,
          };
  const reopened = await deps.db.transaction(async (tx) => {
    const row = await reopenFailedSettlement(tx, order.id, { ...patch, updatedAt: now });
    if (row)
      await recordAudit(tx, {
        actor,
        schoolId,
        action: 'terminal-order.settle.retry',
        target: order.orderNo,
        before: {
          settleStatus: order.settleStatus,
          settleOutRequestNo: order.settleOutRequestNo,
          settleLastError: order.settleLastError,
        },
        after: { settleStatus: row.settleStatus, settleOutRequestNo: row.settleOutRequestNo },
      });
    return row;
  });
  if (!reopened) return notFailed((await orderOfSchool(deps.db, schoolId, order.id)).settleStatus);
  if (reopened.settleStatus !== 'SUCCEEDED') await attemptSettlement(deps, order.id);
  const after = await orderOfSchool(deps.db, schoolId, order.id);
  return {
    changed: true,
    status: after.settleStatus ?? 'PENDING',
    message:
      last?.state === 'SUCCESS'
        ? 'Alipay had made the split already'
        : `the split was sent again as ${after.settleOutRequestNo}`,
  };
}
