import type {
  TerminalExceptionKind,
  TerminalExceptionSummary,
  TerminalOrderAdminView,
  TerminalOrdersResponse,
} from '../../../../shared/admin-api.js';
import type { TerminalOrderItem } from '../../../../shared/gateway-api.js';
import { findSchool } from '../../db/repos/schools/schools.js';
import {
  countTerminalExceptions,
  findPaymentById,
  ordersOfSchool,
  refundsOfOrder,
  terminalExceptions,
  type TerminalOrderRow,
} from '../../db/repos/terminals/orders.js';
import type { TerminalRow } from '../../db/repos/terminals/terminals.js';
import type { Deps } from '../../deps.js';
import { DomainError } from '../errors.js';

/**
 * Terminal orders for the school's admins (issue #15): the list with each order's payment, dispense report,
 * callback, royalty and refunds; and the exceptions a person must look at — paid without a dispense report
 * after the school's window (terminal_dispense_window_minutes), refunds Alipay refused, callbacks the machine
 * never acknowledged, royalty splits that failed. (Issue #13's inbox is to list these kinds too once it
 * exists; until then this is their list.)
 */

export const TERMINAL_EXCEPTION_KINDS: readonly TerminalExceptionKind[] = [
  'NO_DISPENSE_REPORT',
  'REFUND_FAILED',
  'CALLBACK_GAVE_UP',
  'SETTLE_FAILED',
];

async function adminView(
  deps: Pick<Deps, 'db'>,
  order: TerminalOrderRow,
  terminal: TerminalRow,
): Promise<TerminalOrderAdminView> {
  const paidWith = order.paidPaymentId ? await findPaymentById(deps.db, order.paidPaymentId) : undefined;
  const refunds = await refundsOfOrder(deps.db, order.id);
  return {
    orderNo: order.orderNo,
    outOrderNo: order.outOrderNo,
    terminal: { id: terminal.id, terminalId: terminal.terminalId, name: terminal.name },
    status: order.status,
    amountFen: order.amountFen,
    items: order.items as TerminalOrderItem[],
    createdAt: order.createdAt.toISOString(),
    paidAt: order.paidAt?.toISOString() ?? null,
    channel: paidWith?.channel ?? null,
    alipayTradeNo: paidWith?.alipayTradeNo ?? null,
    closedAt: order.closedAt?.toISOString() ?? null,
    closeReason: order.closeReason,
    dispense: order.dispenseResult
      ? { result: order.dispenseResult, reportedAt: order.dispensedAt!.toISOString() }
      : null,
    callback: order.callbackStatus
      ? { status: order.callbackStatus, attempts: order.callbackAttempts, lastError: order.callbackLastError }
      : null,
    royalty:
      order.royaltyAccount && order.royaltyFen && order.royaltyTiming
        ? {
            account: order.royaltyAccount,
            shareFen: order.royaltyFen,
            timing: order.royaltyTiming,
            settle: order.settleStatus
              ? {
                  status: order.settleStatus,
                  settleNo: order.settleNo,
                  amountFen: order.settleFen,
                  lastError: order.settleLastError,
                }
              : null,
          }
        : null,
    sellerId: order.sellerId,
    refunds: refunds.map((r) => ({
      id: r.id,
      kind: r.kind as 'TERMINAL_DISPENSE' | 'TERMINAL_UNWANTED_PAYMENT',
      amountFen: r.amountFen,
      royaltyReturnedFen: ((r.royaltyReturns ?? []) as Array<{ amountFen: number }>).reduce(
        (sum, x) => sum + x.amountFen,
        0,
      ),
      status: r.status,
      reason: r.reason,
      lastError: r.lastError,
    })),
  };
}

async function page(
  deps: Pick<Deps, 'db'>,
  rows: Array<{ order: TerminalOrderRow; terminal: TerminalRow }>,
  limit: number,
): Promise<TerminalOrdersResponse> {
  const items = await Promise.all(rows.map((r) => adminView(deps, r.order, r.terminal)));
  return { items, nextBefore: rows.length === limit ? rows.at(-1)!.order.createdAt.toISOString() : null };
}

export async function schoolTerminalOrders(
  deps: Pick<Deps, 'db'>,
  schoolId: string,
  filter: { status?: TerminalOrderRow['status']; terminalRef?: string; before?: string; limit: number },
): Promise<TerminalOrdersResponse> {
  const rows = await ordersOfSchool(deps.db, schoolId, {
    status: filter.status,
    terminalRef: filter.terminalRef,
    beforeCreatedAt: filter.before ? new Date(filter.before) : undefined,
    limit: filter.limit,
  });
  return page(deps, rows, filter.limit);
}

/** Orders paid before this and not reported by the machine are NO_DISPENSE_REPORT. */
export async function dispenseDeadline(deps: Pick<Deps, 'db' | 'clock'>, schoolId: string): Promise<Date> {
  const school = await findSchool(deps.db, schoolId);
  if (!school) throw new DomainError('SCHOOL_NOT_FOUND');
  return new Date(deps.clock.now().getTime() - school.terminalDispenseWindowMinutes * 60_000);
}

export async function schoolTerminalExceptions(
  deps: Pick<Deps, 'db' | 'clock'>,
  schoolId: string,
  kind: TerminalExceptionKind,
  filter: { before?: string; limit: number },
): Promise<TerminalOrdersResponse> {
  const rows = await terminalExceptions(deps.db, schoolId, kind, {
    paidBefore: await dispenseDeadline(deps, schoolId),
    beforeCreatedAt: filter.before ? new Date(filter.before) : undefined,
    limit: filter.limit,
  });
  return page(deps, rows, filter.limit);
}

export async function terminalExceptionSummary(
  deps: Pick<Deps, 'db' | 'clock'>,
  schoolId: string,
): Promise<TerminalExceptionSummary> {
  const paidBefore = await dispenseDeadline(deps, schoolId);
  const counts = await Promise.all(
    TERMINAL_EXCEPTION_KINDS.map((kind) => countTerminalExceptions(deps.db, schoolId, kind, paidBefore)),
  );
  return Object.fromEntries(
    TERMINAL_EXCEPTION_KINDS.map((kind, i) => [kind, counts[i]]),
  ) as TerminalExceptionSummary;
}
