import { and, desc, eq, gt, inArray, isNull, lt, sql } from 'drizzle-orm';
import type { Executor } from '../../client.js';
import { deductions, repayments } from '../../schema.js';
import { releaseCampusCodeDebts, settleCampusCodeDebts } from '../campus-code/debts.js';
import { OPEN_DEBT_STATUSES } from './debts.js';

export type RepaymentRow = typeof repayments.$inferSelect;

export async function findRepayment(db: Executor, id: string): Promise<RepaymentRow | undefined> {
  const [row] = await db.select().from(repayments).where(eq(repayments.id, id));
  return row;
}

export async function findRepaymentByOutTradeNo(
  db: Executor,
  outTradeNo: string,
): Promise<RepaymentRow | undefined> {
  const [row] = await db.select().from(repayments).where(eq(repayments.outTradeNo, outTradeNo));
  return row;
}

/** The payer's unpaid, unexpired repayment, if any (newest). */
/** The user's unpaid, unexpired repayment, at one school when given. */
export async function findOpenRepayment(
  db: Executor,
  userId: string,
  now: Date,
  schoolId?: string,
): Promise<RepaymentRow | undefined> {
  const [row] = await db
    .select()
    .from(repayments)
    .where(
      and(
        eq(repayments.userId, userId),
        eq(repayments.status, 'CREATED'),
        gt(repayments.expiresAt, now),
        schoolId ? eq(repayments.schoolId, schoolId) : undefined,
      ),
    )
    .orderBy(desc(repayments.createdAt))
    .limit(1);
  return row;
}

/**
 * The payer's debts at one school that a repayment may take: owed, not already in an open repayment, and
 * not being charged by a collector right now (a charge in flight may still succeed). Locked until the
 * caller's transaction ends, so that no collector claims them meanwhile.
 */
export async function lockRepayableDebts(db: Executor, userId: string, schoolId: string, now: Date) {
  return db
    .select({ id: deductions.id, amountFen: deductions.amountFen, repaymentId: deductions.repaymentId })
    .from(deductions)
    .where(
      and(
        eq(deductions.payerUserId, userId),
        eq(deductions.schoolId, schoolId),
        inArray(deductions.status, [...OPEN_DEBT_STATUSES]),
        // A debt whose charge may still be open at Alipay (a trade waiting for the buyer, or an answer that
        // never came) stays with the collector until that trade is settled: repaying it too could take the
        // money twice.
        isNull(deductions.chargeState),
        sql`(${deductions.leaseUntil} is null or ${deductions.leaseUntil} < ${now})`,
      ),
    )
    .for('update');
}

export async function insertRepayment(
  db: Executor,
  repayment: typeof repayments.$inferInsert,
): Promise<RepaymentRow> {
  const [row] = await db.insert(repayments).values(repayment).returning();
  return row;
}

/** The debts now belong to the repayment: they stop retrying (ARREARS) until it is paid or closed. */
export async function attachDebts(
  db: Executor,
  repaymentId: string,
  deductionIds: string[],
  now: Date,
): Promise<void> {
  await db
    .update(deductions)
    .set({ repaymentId, status: 'ARREARS', nextAttemptAt: null, updatedAt: now })
    .where(inArray(deductions.id, deductionIds));
}

export async function setRepaymentTradeNo(db: Executor, id: string, tradeNo: string, now: Date) {
  await db.update(repayments).set({ alipayTradeNo: tradeNo, updatedAt: now }).where(eq(repayments.id, id));
}

/** CREATED (or CLOSED: money that came late still settles) → PAID; its debts (both kinds) → SETTLED. */
export async function markRepaymentPaid(
  db: Executor,
  outTradeNo: string,
  paid: { tradeNo: string; at: Date },
): Promise<{ repayment: RepaymentRow; settled: number } | undefined> {
  const [repayment] = await db
    .update(repayments)
    .set({ status: 'PAID', alipayTradeNo: paid.tradeNo, paidAt: paid.at, closedAt: null, updatedAt: paid.at })
    .where(and(eq(repayments.outTradeNo, outTradeNo), inArray(repayments.status, ['CREATED', 'CLOSED'])))
    .returning();
  if (!repayment) return undefined;
  const settled = await db
    .update(deductions)
    .set({ status: 'SETTLED', settledAt: paid.at, nextAttemptAt: null, updatedAt: paid.at })
    .where(and(eq(deductions.repaymentId, repayment.id), inArray(deductions.status, [...OPEN_DEBT_STATUSES])))
    .returning({ id: deductions.id });
  const campusCodes = await settleCampusCodeDebts(db, repayment.id, paid.at);
  return { repayment, settled: settled.length + campusCodes };
}

/** CREATED → CLOSED; its debts are let go (still ARREARS) for a new repayment. */
export async function closeRepayment(db: Executor, id: string, now: Date): Promise<boolean> {
  const [row] = await db
    .update(repayments)
    .set({ status: 'CLOSED', closedAt: now, updatedAt: now })
    .where(and(eq(repayments.id, id), eq(repayments.status, 'CREATED')))
    .returning({ id: repayments.id });
  if (!row) return false;
  // Debts reversed while they were in the repayment are voided now; the others are owed again.
  await db
    .update(deductions)
    .set({
      repaymentId: null,
      status: sql`case when ${deductions.reversalRequestedAt} is not null then 'REVERSED' else ${deductions.status} end`,
      reversedAt: sql`case when ${deductions.reversalRequestedAt} is not null then ${now}::timestamptz else ${deductions.reversedAt} end`,
      updatedAt: now,
    })
    .where(and(eq(deductions.repaymentId, id), inArray(deductions.status, [...OPEN_DEBT_STATUSES])));
  await releaseCampusCodeDebts(db, id, now);
  return true;
}

export async function findRepaymentsToSweep(db: Executor, createdBefore: Date, limit: number) {
  return db
    .select()
    .from(repayments)
    .where(and(eq(repayments.status, 'CREATED'), lt(repayments.createdAt, createdBefore)))
    .orderBy(repayments.createdAt)
    .limit(limit);
}
