import { sql, type SQL } from 'drizzle-orm';
import type { Executor } from '../../client.js';

/**
 * The set-based comparisons of one school-day (domain/reconciliation/matching.ts says what they mean).
 * `ours` is the union of our record sources (domain/reconciliation/record-sources.ts), handed in as SQL so
 * that this file knows no record kind.
 */

export interface DayWindow {
  schoolId: string;
  billDate: string;
  /** The Beijing day as an instant range [from, to). */
  from: Date;
  to: Date;
}

/** A payment row of the bill, or a paid record of ours, that does not match the other side. */
export interface PaymentMismatch {
  side: 'BILL' | 'OURS';
  outTradeNo: string;
  tradeNo: string | null;
  recordKind: string | null;
  status: string | null;
  isPaid: boolean | null;
  oursFen: number | null;
  alipayFen: number | null;
  cardNo: string | null;
  /** The operator's share (分润) split off the trade: ours, and the bill's. */
  oursRoyaltyFen: number | null;
  alipayRoyaltyFen: number | null;
}

export interface RefundMismatch {
  side: 'BILL' | 'OURS';
  outTradeNo: string;
  outRequestNo: string;
  tradeNo: string | null;
  status: string | null;
  oursFen: number | null;
  /** Positive: the amount refunded. */
  alipayFen: number | null;
  /** The royalty the refund took back from the operator (positive): ours, and the bill's. */
  oursRoyaltyFen: number | null;
  alipayRoyaltyFen: number | null;
}

export interface KindTotal {
  kind: string;
  isRefund: boolean;
  rows: number;
  alipayFen: number;
  /** Our amounts for the bill's rows that we hold as paid (refunds: SUCCEEDED). */
  oursMatchedFen: number;
  feeFen: number;
  royaltyFen: number;
  /** Our royalty for the same rows (refund rows: negative, what was taken back), as the bill signs it. */
  oursRoyaltyFen: number;
}

export interface RechargeToCheck {
  outTradeNo: string;
  cardNo: string;
  amountFen: number;
  status: string;
}

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
const text = (v: unknown) => (v === null || v === undefined ? null : String(v));

/** A refund's royalty taken back from the operator (refund_royalty_parameters, terminal refunds). */
const royaltyTakenBack = sql`case when jsonb_typeof(royalty_returns) = 'array'
  then (select coalesce(sum((x ->> 'amountFen')::int), 0) from jsonb_array_elements(royalty_returns) x)
  else 0 end as royalty_fen`;

const billOfDay = (day: DayWindow) =>
  sql`select out_trade_no from bill_rows where school_id = ${day.schoolId} and bill_date = ${day.billDate}`;

/**
 * Ours = records in the day's bill, plus those paid within the day that no row of the bill names. Two
 * parts joined by `union all`, not one `in (bill) or paid that day` condition: PostgreSQL runs such an OR
 * subplan once per record unless the bill's numbers fit in work_mem (quadratic: 200,000 rows ran for
 * minutes). Each part is a semi-join or an anti-join.
 */
function oursOfDay(day: DayWindow, ours: (where: SQL) => SQL): SQL {
  return sql`${ours(sql`s.out_trade_no in (${billOfDay(day)})`)}
    union all
    ${ours(sql`s.is_paid and s.paid_at >= ${day.from} and s.paid_at < ${day.to}
               and not exists (select 1 from bill_rows b where b.school_id = ${day.schoolId}
                                  and b.bill_date = ${day.billDate} and b.out_trade_no = s.out_trade_no)`)}`;
}

/**
 * The CTEs `given_back` (out_trade_nos whose payment the same bill refunds in full) and `cancelled` (those of
 * them that are earlier numbers of our renumbered charges, SUPERSEDED in record-sources.ts: paid just
 * before our cancel, which refunded them). A cancelled charge is no difference on either side.
 */
function cancelledCharges(day: DayWindow, ours: (where: SQL) => SQL): SQL {
  // Only the numbers the bill refunds are grouped (few), not every row of the day.
  return sql`given_back as (
      select out_trade_no from bill_rows
       where school_id = ${day.schoolId} and bill_date = ${day.billDate}
         and out_trade_no in (select out_trade_no from bill_rows
                               where school_id = ${day.schoolId} and bill_date = ${day.billDate} and is_refund)
       group by out_trade_no
      having bool_or(not is_refund) and sum(amount_fen) = 0),
    cancelled as materialized (
      select out_trade_no from (${ours(sql`s.status = 'SUPERSEDED' and s.out_trade_no in (select out_trade_no from given_back)`)}) c)`;
}

export async function paymentMismatches(
  db: Executor,
  day: DayWindow,
  ours: (where: SQL) => SQL,
): Promise<PaymentMismatch[]> {
  const { rows } = await db.execute(sql`
    with ours as materialized (${oursOfDay(day, ours)}),
    bill as (select * from bill_rows where school_id = ${day.schoolId} and bill_date = ${day.billDate} and not is_refund),
    ${cancelledCharges(day, ours)}
    select 'BILL' as side, b.out_trade_no, b.trade_no, o.kind, o.status, o.is_paid, o.amount_fen as ours_fen,
           b.amount_fen as alipay_fen, o.card_no, o.royalty_fen as ours_royalty_fen,
           b.royalty_fen as alipay_royalty_fen
      from bill b left join ours o on o.out_trade_no = b.out_trade_no
     where (o.kind is null or not o.is_paid or o.amount_fen <> b.amount_fen or o.royalty_fen <> b.royalty_fen)
       and not exists (select 1 from cancelled c where c.out_trade_no = b.out_trade_no)
    union all
    select 'OURS', o.out_trade_no, o.trade_no, o.kind, o.status, o.is_paid, o.amount_fen, null, o.card_no,
           o.royalty_fen, null
      from ours o
     where o.is_paid and o.paid_at >= ${day.from} and o.paid_at < ${day.to}
       and not exists (select 1 from bill_rows b where b.school_id = ${day.schoolId}
                          and b.out_trade_no = o.out_trade_no and not b.is_refund)`);
  return rows.map((r) => ({
    side: r.side as 'BILL' | 'OURS',
    outTradeNo: String(r.out_trade_no),
    tradeNo: text(r.trade_no),
    recordKind: text(r.kind),
    status: text(r.status),
    isPaid: r.is_paid === null || r.is_paid === undefined ? null : Boolean(r.is_paid),
    oursFen: num(r.ours_fen),
    alipayFen: num(r.alipay_fen),
    cardNo: text(r.card_no),
    oursRoyaltyFen: num(r.ours_royalty_fen),
    alipayRoyaltyFen: num(r.alipay_royalty_fen),
  }));
}

export async function refundMismatches(
  db: Executor,
  day: DayWindow,
  ours: (where: SQL) => SQL,
): Promise<RefundMismatch[]> {
  // Our refunds named by the bill's refund rows, plus those completed within the day that it does not name
  // (a union of a semi-join and an anti-join, as oursOfDay).
  const { rows } = await db.execute(sql`
    with bill as (select * from bill_rows where school_id = ${day.schoolId} and bill_date = ${day.billDate} and is_refund),
    ours as materialized (
      select out_trade_no, out_request_no, amount_fen, status, completed_at, ${royaltyTakenBack} from refunds
       where school_id = ${day.schoolId}
         and (out_trade_no, out_request_no) in (select out_trade_no, refund_request_no from bill)
      union all
      select out_trade_no, out_request_no, amount_fen, status, completed_at, ${royaltyTakenBack} from refunds r
       where school_id = ${day.schoolId}
         and status = 'SUCCEEDED' and completed_at >= ${day.from} and completed_at < ${day.to}
         and not exists (select 1 from bill b where b.out_trade_no = r.out_trade_no
                                                and b.refund_request_no = r.out_request_no)
         -- a restricted-collection terminal's trade is the operator's: in its bill, not the school's
         and not exists (select 1 from terminal_orders t
                          where t.id = r.terminal_order_id and t.seller_id is not null)),
    ${cancelledCharges(day, ours)}
    select 'BILL' as side, b.out_trade_no, b.refund_request_no as out_request_no, b.trade_no, r.status,
           r.amount_fen as ours_fen, -b.amount_fen as alipay_fen, r.royalty_fen as ours_royalty_fen,
           -b.royalty_fen as alipay_royalty_fen
      from bill b left join ours r on r.out_trade_no = b.out_trade_no and r.out_request_no = b.refund_request_no
     where (r.status is distinct from 'SUCCEEDED' or r.amount_fen <> -b.amount_fen or r.royalty_fen <> -b.royalty_fen)
       and not exists (select 1 from cancelled c where c.out_trade_no = b.out_trade_no)
    union all
    select 'OURS', r.out_trade_no, r.out_request_no, null, r.status, r.amount_fen, null, r.royalty_fen, null
      from ours r
     where r.status = 'SUCCEEDED' and r.completed_at >= ${day.from} and r.completed_at < ${day.to}
       and not exists (select 1 from bill_rows b where b.school_id = ${day.schoolId} and b.is_refund
                          and b.out_trade_no = r.out_trade_no and b.refund_request_no = r.out_request_no)`);
  return rows.map((r) => ({
    side: r.side as 'BILL' | 'OURS',
    outTradeNo: String(r.out_trade_no),
    outRequestNo: String(r.out_request_no ?? ''),
    tradeNo: text(r.trade_no),
    status: text(r.status),
    oursFen: num(r.ours_fen),
    alipayFen: num(r.alipay_fen),
    oursRoyaltyFen: num(r.ours_royalty_fen),
    alipayRoyaltyFen: num(r.alipay_royalty_fen),
  }));
}

/**
 * The bill's rows by our record kind (UNKNOWN: none of ours), with our matching amounts beside them. A
 * cancelled charge's payment and refund are ours as Alipay shows them (they net to nothing).
 */
export async function billTotals(
  db: Executor,
  day: DayWindow,
  ours: (where: SQL) => SQL,
): Promise<KindTotal[]> {
  const { rows } = await db.execute(sql`
    with bill as (select * from bill_rows where school_id = ${day.schoolId} and bill_date = ${day.billDate}),
    ours as materialized (${ours(sql`s.out_trade_no in (select out_trade_no from bill)`)}),
    ${cancelledCharges(day, ours)},
    our_refunds as (
      select out_trade_no, out_request_no, amount_fen, ${royaltyTakenBack} from refunds
       where school_id = ${day.schoolId} and status = 'SUCCEEDED'
         and (out_trade_no, out_request_no) in (select out_trade_no, refund_request_no from bill where is_refund))
    select coalesce(o.kind, 'UNKNOWN') as kind, b.is_refund, count(*) as n,
           sum(b.amount_fen) as alipay_fen,
           sum(case when c.out_trade_no is not null then b.amount_fen
                    when b.is_refund then coalesce(-r.amount_fen, 0)
                    when o.is_paid then o.amount_fen else 0 end) as ours_fen,
           sum(b.fee_fen) as fee_fen, sum(b.royalty_fen) as royalty_fen,
           sum(case when c.out_trade_no is not null then b.royalty_fen
                    when b.is_refund then coalesce(-r.royalty_fen, 0)
                    when o.is_paid then o.royalty_fen else 0 end) as ours_royalty_fen
      from bill b
      left join ours o on o.out_trade_no = b.out_trade_no
      left join our_refunds r on b.is_refund and r.out_trade_no = b.out_trade_no and r.out_request_no = b.refund_request_no
      left join cancelled c on c.out_trade_no = b.out_trade_no
     group by 1, 2 order by 1, 2`);
  return rows.map((r) => ({
    kind: String(r.kind),
    isRefund: Boolean(r.is_refund),
    rows: Number(r.n),
    alipayFen: Number(r.alipay_fen),
    oursMatchedFen: Number(r.ours_fen),
    feeFen: Number(r.fee_fen),
    royaltyFen: Number(r.royalty_fen),
    oursRoyaltyFen: Number(r.ours_royalty_fen),
  }));
}

/** Recharges in the day's bill that we hold as credited: the ones whose credit the vendor must show. */
export async function creditedRechargesInBill(db: Executor, day: DayWindow): Promise<RechargeToCheck[]> {
  const { rows } = await db.execute(sql`
    select r.out_trade_no, r.card_no, r.amount_fen, r.status
      from recharge_orders r
     where r.school_id = ${day.schoolId} and r.status = 'CREDITED'
       and r.out_trade_no in (select out_trade_no from bill_rows
                               where school_id = ${day.schoolId} and bill_date = ${day.billDate} and not is_refund)
     order by r.card_no, r.out_trade_no`);
  return rows.map((r) => ({
    outTradeNo: String(r.out_trade_no),
    cardNo: String(r.card_no),
    amountFen: Number(r.amount_fen),
    status: String(r.status),
  }));
}
