import { and, eq } from 'drizzle-orm';
import { terminalPayments } from '../../db/schema.js';
import {
  dueSettlements,
  dueTerminalRefunds,
  expiredOrders,
  findOrderContext,
  findPaymentByOutTradeNo,
  lockOrder,
  paymentsOfOrder,
  unpaidOrders,
  updateOrder,
  type OrderContext,
  type TerminalOrderRow,
  type TerminalPaymentRow,
} from '../../db/repos/terminals/orders.js';
import type { Deps } from '../../deps.js';
import { isPaidStatus } from '../notify/notifications.js';
import { applyTerminalPayment, type PaidOutcome } from './payments.js';
import { attemptTerminalRefund } from './refunds.js';
import { attemptSettlement } from './settle.js';

/**
 * What happens to terminal orders without anyone asking (the `terminal.sweep` job, TERMINAL_SWEEP_EVERY_MS):
 * - an unpaid order older than TERMINAL_QUERY_AFTER_MS is asked about at Alipay, so a payment whose
 *   notification is late still pays it ("notify or query");
 * - an unpaid order past the machine's timeout is closed: each trade is asked about first (a paid one pays
 *   the order), then closed at Alipay — trade.close for a mini-program trade, trade.cancel for the precreate
 *   QR, whose trade may not exist yet but could once scanned (seed 002 §2) — and the order is CLOSED. A
 *   payment that still arrives afterwards is refunded (payments.ts);
 * - refunds and settlements whose job was lost are tried again when due (callbacks have their drainer).
 */

const BATCH = 100;

/**
 * Asks Alipay about one trade; paid, for the order's amount, it is applied (pays the order, or is refunded when
 * the order did not want it). Returns what became of it, or undefined when Alipay does not confirm it.
 */
async function applyIfPaid(
  deps: Deps,
  ctx: OrderContext,
  payment: TerminalPaymentRow,
): Promise<PaidOutcome | undefined> {
  const state = await deps.alipay!.queryTrade({
    outTradeNo: payment.outTradeNo,
    appAuthToken: deps.schools.appAuthToken(ctx.school),
  });
  if (!state || !isPaidStatus(state.status)) return undefined;
  if (state.totalFen !== ctx.order.amountFen) return undefined;
  const applied = await deps.db.transaction((tx) =>
    applyTerminalPayment(deps, tx, ctx, payment, {
      tradeNo: state.tradeNo,
      buyerId: state.buyer.openId ?? state.buyer.userId ?? null,
      at: deps.clock.now(),
    }),
  );
  await applied.after();
  return applied.outcome;
}

/** Asks Alipay about each open trade of an unpaid order; the first paid one pays it. Returns whether it is paid. */
async function paidAtAlipay(deps: Deps, ctx: OrderContext, payments: TerminalPaymentRow[]): Promise<boolean> {
  // Stryker disable next-line MethodExpression,ConditionalExpression: equivalent — a payment of an unpaid order that is not CREATED is CLOSED, its trade closed at Alipay (TRADE_CLOSED) or never made (a create refused): asking about it finds nothing paid, so the filter only saves queries (the `false` variant, disabled with it, is killed by the sweep tests)
  for (const payment of payments.filter((p) => p.status === 'CREATED')) {
    if ((await applyIfPaid(deps, ctx, payment)) === 'PAID') return true;
  }
  return false;
}

/**
 * The reconciliation's repair of a terminal trade Alipay has as paid and we do not (PAID_NOT_RECORDED, its
 * notification lost): the sweep's query applies it — to the order, or refunded when the order did not want it
 * (a payment of a closed order whose trade could not be closed). Returns whether Alipay confirmed it.
 */
export async function applyMissedTerminalPayment(deps: Deps, outTradeNo: string): Promise<boolean> {
  const payment = await findPaymentByOutTradeNo(deps.db, outTradeNo);
  const ctx = payment && (await findOrderContext(deps.db, payment.orderId));
  if (!payment || !ctx || !deps.alipay) return false;
  return (await applyIfPaid(deps, ctx, payment)) !== undefined;
}

/** Closes one unpaid order past its timeout, after making sure none of its trades was paid. */
export async function closeExpiredOrder(deps: Deps, order: TerminalOrderRow): Promise<void> {
  const ctx = await findOrderContext(deps.db, order.id);
  if (!ctx || !deps.alipay) return;
  const payments = await paymentsOfOrder(deps.db, order.id);
  if (await paidAtAlipay(deps, ctx, payments)) return;
  const appAuthToken = deps.schools.appAuthToken(ctx.school);
  // The machine has given up on the order whatever Alipay answers: a trade that could not be closed expires
  // there by itself (time_expire), and if it is paid before that, the payment is refunded.
  // Stryker disable next-line MethodExpression,ConditionalExpression: equivalent (`true`, no filter) — a payment of an unpaid order that is not CREATED is CLOSED, its trade closed at Alipay or never made: closing it again is refused or changes nothing, and only CREATED payments are marked below (the `false` variant, disabled with it, is killed by the closing tests)
  for (const payment of payments.filter((p) => p.status === 'CREATED')) {
    try {
      if (payment.channel === 'QR')
        await deps.alipay.cancelTrade({ outTradeNo: payment.outTradeNo, appAuthToken });
      else await deps.alipay.closeTrade({ outTradeNo: payment.outTradeNo, appAuthToken });
    } catch (error) {
      deps.logger.warn('terminal trade not closed at Alipay; a late payment will be refunded', {
        outTradeNo: payment.outTradeNo,
        error: (error as Error).message,
      });
    }
  }
  const now = deps.clock.now();
  await deps.db.transaction(async (tx) => {
    const locked = await lockOrder(tx, order.id);
    if (locked.status !== 'CREATED') return;
    await updateOrder(tx, order.id, {
      status: 'CLOSED',
      closedAt: now,
      closeReason: 'TIMEOUT',
      updatedAt: now,
    });
    await tx
      .update(terminalPayments)
      .set({ status: 'CLOSED', closedAt: now, updatedAt: now })
      .where(and(eq(terminalPayments.orderId, order.id), eq(terminalPayments.status, 'CREATED')));
  });
}

export async function sweepTerminalOrders(deps: Deps): Promise<void> {
  const now = deps.clock.now();
  const each = async <T>(rows: T[], what: string, work: (row: T) => Promise<unknown>) => {
    for (const row of rows) {
      try {
        await work(row);
      } catch (error) {
        deps.logger.warn(`terminal sweep: ${what} failed; the next sweep retries`, {
          error: (error as Error).message,
        });
      }
    }
  };
  // Stryker disable next-line ConditionalExpression: equivalent (`true`) — without Alipay, closeExpiredOrder returns at once and asking about an order fails on the missing client before anything is written (caught by `each`, a log line); the `false` variant, disabled with it, is killed by the sweep tests
  if (deps.alipay) {
    // Stryker disable next-line StringLiteral: log text — the label only names the work in each's warning
    await each(await expiredOrders(deps.db, now, BATCH), 'closing an order', (o) =>
      closeExpiredOrder(deps, o),
    );
    const askBefore = new Date(now.getTime() - deps.config.terminals.queryAfterMs);
    // Stryker disable next-line StringLiteral: log text — the label only names the work in each's warning
    await each(await unpaidOrders(deps.db, askBefore, BATCH), 'asking about an order', async (order) => {
      const ctx = await findOrderContext(deps.db, order.id);
      if (ctx) await paidAtAlipay(deps, ctx, await paymentsOfOrder(deps.db, order.id));
    });
  }
  // Stryker disable next-line StringLiteral: log text — the label only names the work in each's warning
  await each(await dueTerminalRefunds(deps.db, now, BATCH), 'a refund', (r) =>
    attemptTerminalRefund(deps, r.id),
  );
  // Stryker disable next-line StringLiteral: log text — the label only names the work in each's warning
  await each(await dueSettlements(deps.db, now, BATCH), 'a settlement', (o) => attemptSettlement(deps, o.id));
}
