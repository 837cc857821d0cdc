import { sql, type SQL } from 'drizzle-orm';
import type { Executor } from '../../client.js';

/**
 * The admins' orders search (issue 13): one school's recharges, deductions, repayments or refunds by card
 * number, order number, txnNo, status and time, newest first, paged by a cursor. Every filter rides an index:
 * card numbers the (school, card, time) indexes, order numbers the unique out_trade_no (and, for
 * deductions, the partial index of re-numbered ones), open statuses their partial indexes, and a plain time
 * range of deductions the time-ordered (uuidv7) primary key, so a page never sorts a school's history.
 */

export type OrderKind = 'RECHARGE' | 'DEDUCTION' | 'REPAYMENT' | 'REFUND';

export interface OrderFilter {
  cardNo?: string;
  orderNo?: string;
  txnNo?: string;
  status?: string;
  from?: Date;
  to?: Date;
}

export interface OrderPage {
  /** The last row of the previous page: its time and id. */
  before?: { at: Date; id: string };
  limit: number;
}

export interface OrderRow {
  kind: OrderKind;
  id: string;
  orderNo: string;
  status: string;
  amountFen: number | null;
  cardNo: string | null;
  txnNo: string | null;
  detail: string | null;
  createdAt: Date;
}

/** The smallest uuidv7 of a millisecond: deductions' ids sort by the time they were made. */
export function uuidv7Floor(at: Date): string {
  const ms = Math.max(0, at.getTime()).toString(16).padStart(12, '0');
  return `${ms.slice(0, 8)}-${ms.slice(8, 12)}-7000-8000-000000000000`;
}

const and = (parts: Array<SQL | undefined>): SQL =>
  sql.join(
    parts.filter((p): p is SQL => p !== undefined),
    sql` and `,
  );

function rows(kind: OrderKind, result: Array<Record<string, unknown>>): OrderRow[] {
  return result.map((r) => ({
    kind,
    id: String(r.id),
    orderNo: String(r.order_no),
    status: String(r.status),
    amountFen: r.amount_fen === null ? null : Number(r.amount_fen),
    cardNo: (r.card_no as string | null) ?? null,
    txnNo: (r.txn_no as string | null) ?? null,
    detail: (r.detail as string | null) ?? null,
    createdAt: new Date(r.created_at as string),
  }));
}

function timeAndPage(column: SQL, f: OrderFilter, page: OrderPage): Array<SQL | undefined> {
  return [
    f.from ? sql`${column} >= ${f.from}` : undefined,
    f.to ? sql`${column} < ${f.to}` : undefined,
    page.before ? sql`(${column}, id) < (${page.before.at}, ${page.before.id}::uuid)` : undefined,
  ];
}

export async function searchRecharges(db: Executor, schoolId: string, f: OrderFilter, page: OrderPage) {
  if (f.txnNo) return [];
  const { rows: result } = await db.execute(sql`
    select id, out_trade_no as order_no, status, amount_fen, card_no, null as txn_no, last_error as detail, created_at
    from recharge_orders
    where ${and([
      sql`school_id = ${schoolId}`,
      f.cardNo ? sql`card_no = ${f.cardNo}` : undefined,
      f.orderNo ? sql`out_trade_no = ${f.orderNo}` : undefined,
      f.status ? sql`status = ${f.status}` : undefined,
      ...timeAndPage(sql`created_at`, f, page),
    ])}
    order by created_at desc, id desc limit ${page.limit}`);
  return rows('RECHARGE', result);
}

export async function searchDeductions(db: Executor, schoolId: string, f: OrderFilter, page: OrderPage) {
  // Paged by the time-ordered id (uuidv7, made at the decision), which the primary key already sorts.
  const { rows: result } = await db.execute(sql`
    select id, deduction_no as order_no, status, amount_fen, card_no, txn_no,
           coalesce(decline_reason, last_error_code) as detail, created_at
    from deductions
    where ${and([
      sql`school_id = ${schoolId}`,
      sql`card_no is not null`,
      f.cardNo ? sql`card_no = ${f.cardNo}` : undefined,
      f.orderNo
        ? sql`(out_trade_no = ${f.orderNo} or (deduction_no = ${f.orderNo} and out_trade_no is distinct from deduction_no))`
        : undefined,
      f.txnNo ? sql`txn_no = ${f.txnNo}` : undefined,
      f.status ? sql`status = ${f.status}` : undefined,
      f.from ? sql`id >= ${uuidv7Floor(f.from)}::uuid` : undefined,
      f.to ? sql`id < ${uuidv7Floor(f.to)}::uuid` : undefined,
      page.before ? sql`id < ${page.before.id}::uuid` : undefined,
    ])}
    order by id desc limit ${page.limit}`);
  return rows('DEDUCTION', result);
}

export async function searchRepayments(db: Executor, schoolId: string, f: OrderFilter, page: OrderPage) {
  if (f.txnNo) return [];
  const { rows: result } = await db.execute(sql`
    select id, out_trade_no as order_no, status, amount_fen, null as card_no, null as txn_no, null as detail, created_at
    from repayments p
    where ${and([
      sql`school_id = ${schoolId}`,
      f.cardNo
        ? sql`id in (select repayment_id from deductions where school_id = ${schoolId} and card_no = ${f.cardNo} and repayment_id is not null)`
        : undefined,
      f.orderNo ? sql`out_trade_no = ${f.orderNo}` : undefined,
      f.status ? sql`status = ${f.status}` : undefined,
      ...timeAndPage(sql`created_at`, f, page),
    ])}
    order by created_at desc, id desc limit ${page.limit}`);
  return rows('REPAYMENT', result);
}

export async function searchRefunds(db: Executor, schoolId: string, f: OrderFilter, page: OrderPage) {
  if (f.txnNo) return [];
  const { rows: result } = await db.execute(sql`
    select id, out_request_no as order_no, status, amount_fen, null as card_no, null as txn_no,
           coalesce(handled_reason, last_error, out_trade_no) as detail, created_at
    from refunds
    where ${and([
      sql`school_id = ${schoolId}`,
      f.cardNo
        ? sql`out_trade_no in (select out_trade_no from recharge_orders where school_id = ${schoolId} and card_no = ${f.cardNo}
                               union all
                               select out_trade_no from deductions where school_id = ${schoolId} and card_no = ${f.cardNo} and out_trade_no is not null)`
        : undefined,
      f.orderNo ? sql`(out_trade_no = ${f.orderNo} or out_request_no = ${f.orderNo})` : undefined,
      f.status ? sql`status = ${f.status}` : undefined,
      ...timeAndPage(sql`created_at`, f, page),
    ])}
    order by created_at desc, id desc limit ${page.limit}`);
  return rows('REFUND', result);
}
