import type { InboxActionResponse } from '../../../../shared/admin-api.js';
import {
  failedRefundsOfOrder,
  findOrderOfSchool,
  reopenGaveUpCallback,
  type TerminalOrderRow,
} from '../../db/repos/terminals/orders.js';
import type { Deps } from '../../deps.js';
import { recordAudit, type Actor } from '../audit/audit.js';
import { DomainError } from '../errors.js';
import { markRefundAsHandled, retryRefund } from '../refunds/refund-exceptions.js';
import { wakeCallbacks } from './callbacks.js';

/**
 * What an admin does from the exceptions inbox about a terminal order (domain/inbox/kinds/terminals.ts). Each
 * looks the order up by school, goes through the code the jobs use, answers `changed: false` to a double tap,
 * and is audited in the transaction of its change. Refunds go through the inbox's one refund mechanism
 * (refund-exceptions.ts: same out_request_no, so Alipay refunds once however often it is tapped).
 */

async function orderOfSchool(deps: Deps, schoolId: string, id: string): Promise<TerminalOrderRow> {
  const order = await findOrderOfSchool(deps.db, schoolId, id);
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
  const order = await orderOfSchool(deps, schoolId, orderId);
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
  const order = await orderOfSchool(deps, schoolId, orderId);
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
    const order = await findOrderOfSchool(tx, schoolId, orderId);
    if (!order) throw new DomainError('INBOX_ITEM_NOT_FOUND');
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
