import type { CampusCodePaymentState, StatementEntry, StatementResponse } from '../../../../shared/api.js';
import { listStudentPayments } from '../../db/repos/campus-code/payments.js';
import { listRechargesForStatement } from '../../db/repos/recharge/recharges.js';
import type { Deps } from '../../deps.js';
import type { CardRecord } from '../../integrations/cardsys/index.js';
import { servingSchool, usableBinding } from './bindings.js';
import { DomainError } from '../errors.js';
import { cardSystemFailure } from '../outside-errors.js';

/**
 * A card's statement (seed 000 §2.4): the card system's consumption and recharge records merged with our
 * own recharge orders, newest first, paged. A recharge appears once: the card system's record of it
 * (matched by our order number, its flow number) carries our order's id; paid orders not yet on the card
 * appear from our side. Campus-code payments of the card's student (DESIGN §7.5: the device said "paid"
 * offline, Alipay is charged afterwards) come from our side too, with their state.
 */

export const STATEMENT_PAGE_SIZE = 20;
const DEFAULT_WINDOW_DAYS = 30;
const MAX_WINDOW_DAYS = 92;
const VENDOR_PAGE_SIZE = 100;
const MAX_VENDOR_PAGES = 20;
const DAY_MS = 86_400_000;

export interface StatementQuery {
  from?: Date;
  to?: Date;
  page: number;
}

export async function cardStatement(
  deps: Deps,
  userId: string,
  bindingId: string,
  query: StatementQuery,
): Promise<StatementResponse> {
  const binding = await usableBinding(deps, userId, bindingId);
  const to = query.to ?? deps.clock.now();
  const from = query.from ?? new Date(to.getTime() - DEFAULT_WINDOW_DAYS * DAY_MS);
  if (from > to)
    throw new DomainError('VALIDATION_FAILED', 'query.from: must not be after to', { field: 'query.from' });
  if (to.getTime() - from.getTime() > MAX_WINDOW_DAYS * DAY_MS) {
    throw new DomainError('VALIDATION_FAILED', `query.from: the window is at most ${MAX_WINDOW_DAYS} days`, {
      field: 'query.from',
    });
  }
  const school = await servingSchool(deps, binding.schoolId);
  const cardSystem = deps.schools.cardSystem(school);

  const records: CardRecord[] = [];
  // The card system works in whole seconds: widen the window outwards so nothing at its edges is lost.
  const vendorFrom = new Date(Math.floor(from.getTime() / 1000) * 1000);
  const vendorTo = new Date(Math.ceil(to.getTime() / 1000) * 1000);
  try {
    for (let page = 1; page <= MAX_VENDOR_PAGES; page += 1) {
      const result = await cardSystem.getStatement({
        cardNo: binding.cardNo,
        from: vendorFrom,
        to: vendorTo,
        page,
        pageSize: VENDOR_PAGE_SIZE,
      });
      records.push(...result.records);
      if (result.records.length < VENDOR_PAGE_SIZE || records.length >= result.total) break;
    }
  } catch (error) {
    throw cardSystemFailure(error);
  }
  const orders = await listRechargesForStatement(deps.db, binding.id, from, to);
  const ordersByNo = new Map(orders.map((order) => [order.outTradeNo, order]));

  const entries: StatementEntry[] = records.map((record) => {
    const order = record.referenceNo ? ordersByNo.get(record.referenceNo) : undefined;
    if (order) ordersByNo.delete(order.outTradeNo);
    return {
      id: `card:${record.vendorSerial}`,
      occurredAt: record.occurredAt.toISOString(),
      kind:
        record.kind === 'RECHARGE' ? 'RECHARGE' : record.channel === 'ALIPAY' ? 'WITHHOLDING' : 'CONSUMPTION',
      amountFen: record.kind === 'RECHARGE' ? record.amountFen : -record.amountFen,
      balanceAfterFen: record.balanceAfterFen,
      place: record.place ?? record.terminalId,
      ...(order ? { rechargeStatus: order.status, orderId: order.id } : {}),
    };
  });
  for (const order of ordersByNo.values()) {
    entries.push({
      id: `order:${order.id}`,
      occurredAt: (order.paidAt ?? order.createdAt).toISOString(),
      kind: 'RECHARGE',
      amountFen: order.amountFen,
      balanceAfterFen: null,
      place: '支付宝充值',
      rechargeStatus: order.status,
      orderId: order.id,
    });
  }
  const campusCodes = binding.studentNo
    ? await listStudentPayments(
        deps.db,
        { schoolId: binding.schoolId, studentNo: binding.studentNo },
        from,
        to,
      )
    : [];
  for (const payment of campusCodes) {
    entries.push({
      id: `campus-code:${payment.id}`,
      occurredAt: payment.scannedAt.toISOString(),
      kind: 'CAMPUS_CODE',
      amountFen: -payment.amountFen,
      balanceAfterFen: null,
      place: payment.terminalId,
      campusCodeStatus: payment.status as CampusCodePaymentState,
    });
  }
  entries.sort((a, b) => (a.occurredAt < b.occurredAt ? 1 : a.occurredAt > b.occurredAt ? -1 : 0));
  const start = (query.page - 1) * STATEMENT_PAGE_SIZE;
  return {
    entries: entries.slice(start, start + STATEMENT_PAGE_SIZE),
    page: query.page,
    pageSize: STATEMENT_PAGE_SIZE,
    hasMore: entries.length > start + STATEMENT_PAGE_SIZE,
    from: from.toISOString(),
    to: to.toISOString(),
  };
}
