import { and, asc, between, eq, sql } from 'drizzle-orm';
import type { Executor } from '../../client.js';
import { deductions, refunds } from '../../schema.js';
import type { DeductionRow } from './deductions.js';
import type { RefundRow } from './refunds.js';

/** One card's withholding records for its statement: swipes paid by withholding, repayments, refunds. */

export interface CardKey {
  schoolId: string;
  cardNo: string;
}

/** Approved swipes of the card decided within the window (deductions_card_day_idx), oldest first. */
export async function listApprovedDeductionsOfCard(
  db: Executor,
  card: CardKey,
  from: Date,
  to: Date,
): Promise<DeductionRow[]> {
  return db
    .select()
    .from(deductions)
    .where(
      and(
        eq(deductions.schoolId, card.schoolId),
        eq(deductions.cardNo, card.cardNo),
        between(deductions.createdAt, from, to),
        eq(deductions.decision, 'APPROVED'),
      ),
    )
    .orderBy(asc(deductions.createdAt));
}

export interface CardRepayment {
  id: string;
  outTradeNo: string;
  alipayTradeNo: string | null;
  status: string;
  createdAt: Date;
  paidAt: Date | null;
  /** The part of the repayment that settled this card's swipes. */
  cardFen: number;
}

function repaymentsOfCard(db: Executor, card: CardKey, where: ReturnType<typeof sql>) {
  return db.execute<{
    id: string;
    out_trade_no: string;
    alipay_trade_no: string | null;
    status: string;
    created_at: Date;
    paid_at: Date | null;
    card_fen: number;
  }>(sql`
    select r.id, r.out_trade_no, r.alipay_trade_no, r.status, r.created_at, r.paid_at, sum(d.amount_fen) as card_fen
    from deductions d join repayments r on r.id = d.repayment_id
    where d.school_id = ${card.schoolId} and d.card_no = ${card.cardNo} and ${where}
    group by r.id`);
}

function toRepayment(row: Awaited<ReturnType<typeof repaymentsOfCard>>['rows'][number]): CardRepayment {
  return {
    id: String(row.id),
    outTradeNo: row.out_trade_no,
    alipayTradeNo: row.alipay_trade_no,
    status: row.status,
    createdAt: new Date(row.created_at),
    paidAt: row.paid_at ? new Date(row.paid_at) : null,
    cardFen: Number(row.card_fen),
  };
}

/** Paid repayments (within the window) that settled swipes of this card, with this card's part. */
export async function listRepaymentsOfCard(
  db: Executor,
  card: CardKey,
  from: Date,
  to: Date,
): Promise<CardRepayment[]> {
  const { rows } = await repaymentsOfCard(
    db,
    card,
    sql`r.status = 'PAID' and r.paid_at between ${from} and ${to}`,
  );
  return rows.map(toRepayment);
}

export async function findRepaymentOfCard(
  db: Executor,
  card: CardKey,
  repaymentId: string,
): Promise<CardRepayment | undefined> {
  const { rows } = await repaymentsOfCard(db, card, sql`r.id = ${repaymentId}`);
  return rows[0] ? toRepayment(rows[0]) : undefined;
}

/** Refunds of this card's withholding charges and recharges, asked for within the window. */
export async function listRefundsOfCard(
  db: Executor,
  card: CardKey,
  from: Date,
  to: Date,
): Promise<RefundRow[]> {
  return db
    .select()
    .from(refunds)
    .where(
      and(eq(refunds.schoolId, card.schoolId), between(refunds.createdAt, from, to), refundOfCard(card)),
    );
}

export async function findRefundOfCard(
  db: Executor,
  card: CardKey,
  refundId: string,
): Promise<RefundRow | undefined> {
  const [row] = await db
    .select()
    .from(refunds)
    .where(and(eq(refunds.id, refundId), eq(refunds.schoolId, card.schoolId), refundOfCard(card)));
  return row;
}

function refundOfCard(card: CardKey) {
  // A reversed swipe is refunded from its own trade or, once repaid, from the repayment's: the deduction
  // keeps the refund's request number either way.
  return sql`(exists (select 1 from deductions d where d.refund_out_request_no = ${refunds.outRequestNo}
                        and d.school_id = ${card.schoolId} and d.card_no = ${card.cardNo})
          or exists (select 1 from recharge_orders o where o.out_trade_no = ${refunds.outTradeNo}
                        and o.school_id = ${card.schoolId} and o.card_no = ${card.cardNo}))`;
}
