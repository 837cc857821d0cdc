import { findRecharge, listRechargesOfCard, type RechargeRow } from '../../db/repos/recharge/recharges.js';
import { isUuid, step, type SourcedEntry, type StatementSource } from '../cards/statement/sources.js';

/** Our recharge orders on a card's statement: paid ones, with their state until the card system has them. */

const PLACE = '支付宝充值';

function entryOf(order: RechargeRow): SourcedEntry {
  return {
    id: `recharge:${order.id}`,
    occurredAt: (order.paidAt ?? order.createdAt).toISOString(),
    kind: 'RECHARGE',
    amountFen: order.amountFen,
    balanceAfterFen: null,
    place: PLACE,
    status: order.status,
    orderNo: order.outTradeNo,
    references: [order.outTradeNo],
  };
}

export const rechargeStatementSource: StatementSource = {
  name: 'recharge',

  async entries(deps, card, window) {
    return (await listRechargesOfCard(deps.db, card, window.from, window.to)).map(entryOf);
  },

  async receipt(deps, card, key) {
    const order = isUuid(key) ? await findRecharge(deps.db, key) : undefined;
    if (!order || order.schoolId !== card.schoolId || order.cardNo !== card.cardNo) return null;
    return {
      ...entryOf(order),
      alipayTradeNo: order.alipayTradeNo,
      vendorSerial: null,
      // The card system credits with our order number as its flow number.
      reference: order.outTradeNo,
      timeline: [
        ...step('CREATED', order.createdAt),
        ...step('PAID', order.paidAt),
        ...step('CREDITED', order.creditedAt),
        ...(order.status === 'CREDIT_FAILED' ? step('CREDIT_FAILED', order.updatedAt, order.lastError) : []),
        ...step('REFUNDED', order.refundedAt),
        ...step('CLOSED', order.closedAt),
      ],
    };
  },
};
