import type {
  AdminOrderDetail,
  AdminOrderItem,
  AdminOrderKind,
  AdminOrdersResponse,
  InboxActionName,
  TimelineEntry,
} from '../../../../shared/admin-api.js';
import { findBinding } from '../../db/repos/cards/bindings.js';
import { listOutsideCalls } from '../../db/repos/orders/outside-calls.js';
import {
  searchDeductions,
  searchRecharges,
  searchRefunds,
  searchRepayments,
  type OrderFilter,
  type OrderRow,
} from '../../db/repos/orders/order-search.js';
import { listAuditOfTargets, listNotifications, listStatusChanges } from '../../db/repos/orders/timeline.js';
import { findRechargeOfSchool } from '../../db/repos/recharge/recharges.js';
import { findDeductionOfSchool, listAttempts } from '../../db/repos/withholding/deductions.js';
import { findRefund, findRefundOfSchool } from '../../db/repos/withholding/refunds.js';
import { findRepayment } from '../../db/repos/withholding/repayments.js';
import type { Deps } from '../../deps.js';
import { DomainError } from '../errors.js';
import { rechargeRefundRequestNo } from '../recharge/recharge-exceptions.js';
import type { Masking } from './masking.js';

/**
 * The admins' orders (issue 13): search one school's recharges, deductions, repayments and refunds, and
 * one order's whole timeline — every status change with its time (order_status_changes, written by
 * triggers), every Alipay and card-system call with its outcome and duration (outside_calls, from the
 * integrations' observers), the collector's attempts, the notifications received, and what admins did.
 */

const SEARCH = {
  RECHARGE: searchRecharges,
  DEDUCTION: searchDeductions,
  REPAYMENT: searchRepayments,
  REFUND: searchRefunds,
} as const;

function itemOf(row: OrderRow, mask: Masking): AdminOrderItem {
  return {
    kind: row.kind,
    id: row.id,
    orderNo: row.orderNo,
    status: row.status,
    amountFen: row.amountFen,
    cardNo: row.cardNo ? mask.card(row.cardNo) : null,
    txnNo: row.txnNo,
    detail: row.detail,
    createdAt: row.createdAt.toISOString(),
  };
}

function cursorOf(row: OrderRow): string {
  return Buffer.from(`${row.createdAt.toISOString()}|${row.id}`).toString('base64url');
}

function pageAfter(cursor: string | undefined): { at: Date; id: string } | undefined {
  if (!cursor) return undefined;
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const date = new Date(at);
  if (!id || !/^[0-9a-f-]{36}$/i.test(id) || Number.isNaN(date.getTime()))
    throw new DomainError('VALIDATION_FAILED', 'query.cursor: not one of ours', { field: 'query.cursor' });
  return { at: date, id };
}

export async function searchOrders(
  deps: Pick<Deps, 'db'>,
  schoolId: string,
  query: OrderFilter & { kind: AdminOrderKind; cursor?: string; limit: number },
  mask: Masking,
): Promise<AdminOrdersResponse> {
  const rows = await SEARCH[query.kind](deps.db, schoolId, query, {
    before: pageAfter(query.cursor),
    limit: query.limit,
  });
  return {
    items: rows.map((row) => itemOf(row, mask)),
    nextCursor: rows.length === query.limit ? cursorOf(rows[rows.length - 1]) : null,
  };
}

// ---- one order -----------------------------------------------------------------------------------------

interface LoadedOrder {
  order: AdminOrderDetail['order'];
  /** Numbers its status changes, calls and audit rows are filed under. */
  numbers: string[];
  /** out_trade_nos its notifications carry. */
  tradeNos: string[];
  /** For deductions: the collector's attempts. */
  attemptsOf?: string;
  actions: InboxActionName[];
}

async function loadOrder(
  deps: Deps,
  schoolId: string,
  kind: AdminOrderKind,
  id: string,
  mask: Masking,
): Promise<LoadedOrder> {
  const base = (o: Omit<AdminOrderDetail['order'], 'kind' | 'id'>) => ({ kind, id, ...o });
  if (kind === 'RECHARGE') {
    const r = await findRechargeOfSchool(deps.db, schoolId, id);
    if (!r) throw new DomainError('ORDER_NOT_FOUND');
    const binding = await findBinding(deps.db, r.bindingId);
    const refunding = await findRefund(deps.db, r.outTradeNo, rechargeRefundRequestNo(r));
    return {
      order: base({
        orderNo: r.outTradeNo,
        status: r.status,
        amountFen: r.amountFen,
        cardNo: mask.card(r.cardNo),
        txnNo: null,
        detail: r.lastError,
        createdAt: r.createdAt.toISOString(),
        holderName: binding ? mask.name(binding.holderName) : null,
        alipayTradeNo: r.alipayTradeNo,
        terminalId: null,
        attempts: r.creditAttempts,
        lastError: r.lastError,
        updatedAt: r.updatedAt.toISOString(),
      }),
      numbers: [r.outTradeNo],
      tradeNos: [r.outTradeNo],
      actions: r.status === 'CREDIT_FAILED' && !refunding ? ['retry-credit', 'refund'] : [],
    };
  }
  if (kind === 'DEDUCTION') {
    const d = await findDeductionOfSchool(deps.db, schoolId, id);
    if (!d || !d.cardNo) throw new DomainError('ORDER_NOT_FOUND');
    const attempts = await listAttempts(deps.db, d.id);
    const tradeNos = [
      ...new Set([d.deductionNo, ...attempts.flatMap((a) => (a.outTradeNo ? [a.outTradeNo] : []))]),
    ];
    const owed = (d.status === 'RETRYING' || d.status === 'ARREARS') && !d.repaymentId;
    return {
      order: base({
        orderNo: d.deductionNo,
        status: d.status,
        amountFen: d.amountFen,
        cardNo: mask.card(d.cardNo),
        txnNo: d.txnNo,
        detail: d.declineReason ?? d.lastErrorCode,
        createdAt: d.createdAt.toISOString(),
        holderName: null,
        alipayTradeNo: d.alipayTradeNo,
        terminalId: d.terminalId,
        attempts: d.attempts,
        lastError: d.lastErrorCode,
        updatedAt: d.updatedAt.toISOString(),
      }),
      numbers: [d.deductionNo, ...(d.refundOutRequestNo ? [d.refundOutRequestNo] : [])],
      tradeNos,
      attemptsOf: d.id,
      actions: owed ? (d.status === 'ARREARS' ? ['collect-now', 'waive'] : ['collect-now']) : [],
    };
  }
  if (kind === 'REPAYMENT') {
    const p = await findRepayment(deps.db, id);
    if (!p || p.schoolId !== schoolId) throw new DomainError('ORDER_NOT_FOUND');
    return {
      order: base({
        orderNo: p.outTradeNo,
        status: p.status,
        amountFen: p.amountFen,
        cardNo: null,
        txnNo: null,
        detail: null,
        createdAt: p.createdAt.toISOString(),
        holderName: null,
        alipayTradeNo: p.alipayTradeNo,
        terminalId: null,
        attempts: null,
        lastError: null,
        updatedAt: p.updatedAt.toISOString(),
      }),
      numbers: [p.outTradeNo],
      tradeNos: [p.outTradeNo],
      actions: [],
    };
  }
  const f = await findRefundOfSchool(deps.db, schoolId, id);
  if (!f) throw new DomainError('ORDER_NOT_FOUND');
  const isStuck =
    f.status !== 'SUCCEEDED' &&
    !f.handledAt &&
    (f.status === 'FAILED' || f.attempts >= deps.config.admin.refundInboxAfterAttempts);
  return {
    order: base({
      orderNo: f.outRequestNo,
      status: f.handledAt ? 'HANDLED' : f.status,
      amountFen: f.amountFen,
      cardNo: null,
      txnNo: null,
      detail: f.handledReason ?? f.reason,
      createdAt: f.createdAt.toISOString(),
      holderName: null,
      alipayTradeNo: null,
      terminalId: null,
      attempts: f.attempts,
      lastError: f.lastError,
      updatedAt: f.updatedAt.toISOString(),
    }),
    numbers: [f.outRequestNo],
    tradeNos: [],
    actions: isStuck ? ['retry-refund', 'mark-handled'] : [],
  };
}

const byTime = (a: TimelineEntry, b: TimelineEntry) => a.at.localeCompare(b.at);

export async function orderDetail(
  deps: Deps,
  schoolId: string,
  kind: AdminOrderKind,
  id: string,
  mask: Masking,
): Promise<AdminOrderDetail> {
  const loaded = await loadOrder(deps, schoolId, kind, id, mask);
  // Calls still in the recorder's buffer belong on the page the admin is about to read.
  await deps.calls.flush();
  const callNumbers = kind === 'REFUND' ? [] : loaded.numbers.slice(0, 1);
  const refund = kind === 'REFUND' ? await findRefundOfSchool(deps.db, schoolId, id) : undefined;
  const [changes, calls, notifications, audit, attempts] = await Promise.all([
    listStatusChanges(deps.db, loaded.numbers),
    listOutsideCalls(deps.db, refund ? [refund.outTradeNo] : callNumbers),
    listNotifications(deps.db, loaded.tradeNos),
    listAuditOfTargets(deps.db, schoolId, loaded.numbers),
    loaded.attemptsOf ? listAttempts(deps.db, loaded.attemptsOf) : Promise.resolve([]),
  ]);
  const timeline: TimelineEntry[] = [];
  const entry = (
    e: Partial<TimelineEntry> & Pick<TimelineEntry, 'at' | 'kind' | 'title'>,
  ): TimelineEntry => ({
    outcome: null,
    code: null,
    subCode: null,
    durationMs: null,
    detail: null,
    ...e,
  });
  if (kind === 'DEDUCTION') {
    // A swipe's decision is its row, not a status change (the hot path writes nothing else).
    timeline.push(
      entry({
        at: loaded.order.createdAt,
        kind: 'STATUS',
        title: loaded.order.detail && loaded.order.status === 'DECLINED' ? 'DECLINED' : 'APPROVED → PENDING',
        detail: loaded.order.status === 'DECLINED' ? loaded.order.detail : null,
      }),
    );
  }
  for (const c of changes) {
    timeline.push(
      entry({
        at: c.changedAt.toISOString(),
        kind: 'STATUS',
        title: c.fromStatus ? `${c.fromStatus} → ${c.toStatus}` : c.toStatus,
        detail: c.orderNo === loaded.order.orderNo ? null : c.orderNo,
      }),
    );
  }
  for (const c of calls) {
    if (refund && !c.operation.includes('refund')) continue;
    timeline.push(
      entry({
        at: c.startedAt.toISOString(),
        kind: 'CALL',
        title: c.system === 'CARDSYS' ? `一卡通 ${c.operation}` : c.operation,
        outcome: c.outcome,
        code: c.code,
        subCode: c.subCode,
        durationMs: c.durationMs,
        detail: c.reference,
      }),
    );
  }
  for (const a of attempts) {
    timeline.push(
      entry({
        at: a.createdAt.toISOString(),
        kind: 'ATTEMPT',
        title: `扣款尝试 #${a.attemptNo}`,
        outcome: a.outcome,
        code: a.alipayCode,
        subCode: a.alipaySubCode,
        detail: a.outTradeNo,
      }),
    );
  }
  for (const n of notifications) {
    timeline.push(
      entry({
        at: n.receivedAt.toISOString(),
        kind: 'NOTIFICATION',
        title: [n.notifyType, n.tradeStatus].filter(Boolean).join(' '),
        outcome: n.isVerified ? n.outcome : 'REJECTED_SIGNATURE',
        detail: n.detail,
      }),
    );
  }
  for (const a of audit) {
    timeline.push(
      entry({
        at: a.occurredAt.toISOString(),
        kind: 'ADMIN',
        title: a.action,
        detail: `${a.actorKind}:${a.actorId}${a.after?.reason ? ` — ${String(a.after.reason)}` : ''}`,
      }),
    );
  }
  timeline.sort(byTime);
  return { order: loaded.order, timeline, actions: loaded.actions };
}
