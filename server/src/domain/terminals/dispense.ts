import type {
  DispenseReport,
  TerminalOrderAnswer,
  TerminalOrderItem,
} from '../../../../shared/gateway-api.js';
import { ensureRefund } from '../../db/repos/withholding/refunds.js';
import type { Executor } from '../../db/client.js';
import {
  findOrderOfTerminal,
  findPaymentById,
  lockOrder,
  updateOrder,
  type TerminalOrderRow,
} from '../../db/repos/terminals/orders.js';
import type { Deps } from '../../deps.js';
import { DomainError } from '../errors.js';
import { answerFor, failedFen, terminalOfClient, type TerminalClient } from './orders.js';
import { royaltyReturnsFor, wakeTerminalWork } from './refunds.js';
import { shareOfKept } from './royalty.js';
import { wakeSettlement } from './settle.js';

/**
 * The machine's report on a paid order (issue #15 "Orders" 3): OK, or FAILED with the lines that did not come
 * out (none named: nothing did). Failed items are refunded at once, once (`<order no>D`), with the operator's
 * royalty taken back in proportion; an AFTER_DISPENSE split is then settled on what was kept. The same report
 * again answers the same; a different one is DISPENSE_CONFLICT.
 */

type FailedLine = { index: number; quantity: number };

/** Every line of an order, whole: nothing came out. */
export function allLinesOf(items: TerminalOrderItem[]): FailedLine[] {
  return items.map((item, index) => ({ index, quantity: item.quantity }));
}

function failedLinesOf(items: TerminalOrderItem[], report: DispenseReport): FailedLine[] {
  if (report.result === 'OK') return [];
  if (!report.failedItems || report.failedItems.length === 0) return allLinesOf(items);
  const seen = new Set<number>();
  return report.failedItems.map((line, i) => {
    const field = `body.failedItems.${i}`;
    if (line.index >= items.length)
      throw new DomainError('VALIDATION_FAILED', `index must be below ${items.length}`, {
        field: `${field}.index`,
      });
    if (seen.has(line.index))
      throw new DomainError('VALIDATION_FAILED', 'each line may be named once', { field: `${field}.index` });
    seen.add(line.index);
    if (line.quantity > items[line.index].quantity)
      throw new DomainError('VALIDATION_FAILED', `quantity must be at most ${items[line.index].quantity}`, {
        field: `${field}.quantity`,
      });
    return { index: line.index, quantity: line.quantity };
  });
}

function sameLines(a: unknown, b: FailedLine[]): boolean {
  const key = (lines: FailedLine[]) =>
    JSON.stringify([...lines].sort((x, y) => x.index - y.index).map((l) => [l.index, l.quantity]));
  return key((a ?? []) as FailedLine[]) === key(b);
}

/** What a dispense result started that must run after its commit: the refund, the settlement. */
export interface DispenseRecorded {
  order: TerminalOrderRow;
  refundId: string | null;
  settle: boolean;
}

/**
 * Records the dispense result of a PAID order without one, locked by the caller in its transaction: the
 * failed lines' refund (`<order no>D`, the operator's ON_PAYMENT royalty taken back in proportion) and, for
 * AFTER_DISPENSE, the settlement of what was kept. The caller starts the work after its commit
 * (startDispenseWork).
 */
export async function recordDispense(
  tx: Executor,
  order: TerminalOrderRow,
  lines: FailedLine[],
  now: Date,
): Promise<DispenseRecorded> {
  const refundFen = failedFen({ items: order.items, failedItems: lines });
  const result = refundFen === 0 ? 'OK' : refundFen === order.amountFen ? 'FAILED' : 'PARTIAL';
  const settlement = settlementAfterDispense(order, refundFen);
  const updated = await updateOrder(tx, order.id, {
    dispenseResult: result,
    failedItems: lines,
    dispensedAt: now,
    ...(settlement
      ? {
          settleStatus: settlement.due ? ('PENDING' as const) : ('NOT_NEEDED' as const),
          settleFen: settlement.shareFen,
          settleOutRequestNo: `${order.orderNo}S`,
          settleNextAt: settlement.due ? now : null,
        }
      : {}),
    updatedAt: now,
  });
  // Stryker disable next-line BooleanLiteral: equivalent — waking the settle job for an order with no split due costs one empty run: claimSettlement takes only a PENDING or SENT settlement
  const settle = settlement?.due ?? false;
  if (refundFen === 0) return { order: updated, refundId: null, settle };
  const paidWith = await findPaymentById(tx, order.paidPaymentId!);
  const refund = await ensureRefund(tx, {
    schoolId: order.schoolId,
    kind: 'TERMINAL_DISPENSE',
    outTradeNo: paidWith!.outTradeNo,
    outRequestNo: `${order.orderNo}D`,
    amountFen: refundFen,
    reason: result === 'FAILED' ? 'nothing was dispensed' : 'some items were not dispensed',
    terminalOrderId: order.id,
    royaltyReturns: royaltyReturnsFor(order, 0, refundFen),
    nextAttemptAt: now,
  });
  return { order: updated, refundId: refund.id, settle };
}

/**
 * An AFTER_DISPENSE order's trade was paid frozen (royalty_freeze): once the goods are out, the operator's
 * share of what was kept is split off with royalty_finish, which also releases the rest to the school. When
 * the share comes to 0 but money was kept, the settle still goes out, with no receivers (分账完结 only), or the
 * school's money would stay frozen; when nothing was kept, the whole refund takes the frozen money back.
 */
function settlementAfterDispense(
  order: TerminalOrderRow,
  refundFen: number,
): { shareFen: number; due: boolean } | null {
  if (order.royaltyTiming !== 'AFTER_DISPENSE' || order.royaltyFen === null) return null;
  const keptFen = order.amountFen - refundFen;
  return { shareFen: shareOfKept(order.royaltyFen, order.amountFen, keptFen), due: keptFen > 0 };
}

export async function startDispenseWork(deps: Deps, recorded: DispenseRecorded): Promise<void> {
  if (recorded.refundId) await wakeTerminalWork(deps, { refundId: recorded.refundId });
  // Stryker disable next-line ConditionalExpression: equivalent — waking the settle job for an order with no split due costs one empty run: claimSettlement takes only a PENDING or SENT settlement (the `false` variant, disabled with it, is killed by the split tests)
  if (recorded.settle) await wakeSettlement(deps, recorded.order.id);
}

export async function reportDispense(
  deps: Deps,
  client: TerminalClient,
  outOrderNo: string,
  report: DispenseReport,
): Promise<TerminalOrderAnswer> {
  const { terminal } = await terminalOfClient(deps, client);
  const found = await findOrderOfTerminal(deps.db, terminal.id, outOrderNo);
  if (!found) throw new DomainError('TERMINAL_ORDER_NOT_FOUND');
  const lines = failedLinesOf(found.items as TerminalOrderItem[], report);
  const now = deps.clock.now();
  const done = await deps.db.transaction(async (tx) => {
    const order = await lockOrder(tx, found.id);
    if (order.status !== 'PAID') throw new DomainError('ORDER_NOT_PAID');
    if (order.dispenseResult) {
      if (!sameLines(order.failedItems, lines)) throw new DomainError('DISPENSE_CONFLICT');
      // Stryker disable next-line BooleanLiteral: equivalent — waking the settle job for an order with no split due costs one empty run: claimSettlement takes only a PENDING or SENT settlement
      return { order, refundId: null, settle: false };
    }
    return recordDispense(tx, order, lines, now);
  });
  await startDispenseWork(deps, done);
  return answerFor(deps, done.order);
}
