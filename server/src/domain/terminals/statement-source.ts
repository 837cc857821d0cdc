import {
  findPaymentWithOrder,
  paymentsOfCard,
  refundsOfOrder,
  type TerminalOrderRow,
  type TerminalPaymentRow,
} from '../../db/repos/terminals/orders.js';
import type { TerminalRow } from '../../db/repos/terminals/terminals.js';
import type { Deps } from '../../deps.js';
import { isUuid, step, type SourcedEntry, type StatementSource } from '../cards/statement/sources.js';
import { failedFen } from './orders.js';

/**
 * Vending-machine and window payments on the payer's card statement (issue #15): a mini-program payment is
 * recorded with the payer's own card at the school (a QR payer is anonymous and has none). The amount is what
 * the payment finally cost: the order less what the machine failed to give out; a payment that was not the
 * order's (late, or a second one) is refunded whole and shows as REFUNDED.
 */

type Row = { payment: TerminalPaymentRow; order: TerminalOrderRow; terminal: TerminalRow };

function refundedFen({ payment, order }: Row): number {
  return order.paidPaymentId === payment.id ? failedFen(order) : order.amountFen;
}

function statusOf(row: Row): string {
  const refunded = refundedFen(row);
  if (refunded === 0) return 'PAID';
  return refunded === row.order.amountFen ? 'REFUNDED' : 'PARTIALLY_REFUNDED';
}

function entryOf(row: Row): SourcedEntry {
  const { payment, order, terminal } = row;
  return {
    id: `terminal:${payment.id}`,
    occurredAt: payment.paidAt!.toISOString(),
    kind: 'TERMINAL_ORDER',
    amountFen: -(order.amountFen - refundedFen(row)),
    balanceAfterFen: null,
    place: [terminal.location, terminal.name].filter((part) => !!part).join(' '),
    status: statusOf(row),
    orderNo: payment.outTradeNo,
  };
}

export const terminalStatementSource: StatementSource = {
  name: 'terminal',

  async entries(deps: Deps, card, window) {
    return (await paymentsOfCard(deps.db, card, window.from, window.to)).map(entryOf);
  },

  async receipt(deps: Deps, card, key) {
    const row = isUuid(key) ? await findPaymentWithOrder(deps.db, key) : undefined;
    if (!row || row.payment.schoolId !== card.schoolId || row.payment.cardNo !== card.cardNo) return null;
    if (row.payment.status !== 'PAID') return null;
    const refunds = await refundsOfOrder(deps.db, row.order.id);
    const refunded = refunds.find((r) => r.outTradeNo === row.payment.outTradeNo && r.status === 'SUCCEEDED');
    return {
      ...entryOf(row),
      alipayTradeNo: row.payment.alipayTradeNo,
      vendorSerial: null,
      reference: row.order.outOrderNo,
      timeline: [
        ...step('CREATED', row.order.createdAt),
        ...step('PAID', row.payment.paidAt),
        ...step('REFUNDED', refunded?.completedAt, refunded?.reason ?? null),
      ],
    };
  },
};
