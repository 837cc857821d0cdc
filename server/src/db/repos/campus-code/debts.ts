import { and, asc, eq, inArray, isNull, ne, sql } from 'drizzle-orm';
import type { Executor } from '../../client.js';
import { bindings, campusCodePayments } from '../../schema.js';
import type { CampusCodePaymentRow } from './payments.js';

/**
 * A campus-code payment Alipay would not pay (FAILED) is the school's loss, and a debt of the student when
 * the student has a binding with us (DESIGN §7.5): every live binding of a card whose holder the code
 * names — the same school and the card system's student number (bindings.student_no) — sees it among its
 * user's debts and may repay it, like withholding arrears, through one repayment
 * (domain/withholding/debts.ts).
 */

export type CampusCodeDebtRow = CampusCodePaymentRow & { cardNo: string; holderName: string };

/** The user's live bindings of the payment's student. */
const ownedByUser = (userId: string) =>
  and(
    eq(bindings.userId, userId),
    eq(bindings.schoolId, campusCodePayments.schoolId),
    eq(bindings.studentNo, campusCodePayments.studentNo),
    ne(bindings.status, 'UNBOUND'),
  );

/** FAILED campus-code payments of the students whose cards the user has bound, oldest first. */
export async function listCampusCodeDebts(db: Executor, userId: string): Promise<CampusCodeDebtRow[]> {
  const rows = await db
    .selectDistinctOn([campusCodePayments.id], {
      payment: campusCodePayments,
      cardNo: bindings.cardNo,
      holderName: bindings.holderName,
    })
    .from(campusCodePayments)
    .innerJoin(bindings, ownedByUser(userId))
    .where(eq(campusCodePayments.status, 'FAILED'))
    .orderBy(asc(campusCodePayments.id));
  return rows
    .map((row) => ({ ...row.payment, cardNo: row.cardNo, holderName: row.holderName }))
    .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
}

/**
 * The user's campus-code debts at one school that a repayment may take: FAILED and not in an open
 * repayment. Locked until the caller's transaction ends, so that a second repayment cannot take them too.
 */
export async function lockRepayableCampusCodeDebts(db: Executor, userId: string, schoolId: string) {
  return db
    .select({ id: campusCodePayments.id, amountFen: campusCodePayments.amountFen })
    .from(campusCodePayments)
    .where(
      and(
        eq(campusCodePayments.schoolId, schoolId),
        eq(campusCodePayments.status, 'FAILED'),
        isNull(campusCodePayments.repaymentId),
        sql`exists (select 1 from ${bindings} where ${ownedByUser(userId)})`,
      ),
    )
    .for('update');
}

/** The debts now belong to the repayment until it is paid (SETTLED) or closed (owed again). */
export async function attachCampusCodeDebts(
  db: Executor,
  repaymentId: string,
  ids: string[],
  now: Date,
): Promise<void> {
  if (ids.length === 0) return;
  await db
    .update(campusCodePayments)
    .set({ repaymentId, updatedAt: now })
    .where(and(inArray(campusCodePayments.id, ids), eq(campusCodePayments.status, 'FAILED')));
}

/** The repayment was paid: its campus-code debts are SETTLED. */
export async function settleCampusCodeDebts(db: Executor, repaymentId: string, at: Date): Promise<number> {
  const rows = await db
    .update(campusCodePayments)
    .set({ status: 'SETTLED', settledAt: at, updatedAt: at })
    .where(and(eq(campusCodePayments.repaymentId, repaymentId), eq(campusCodePayments.status, 'FAILED')))
    .returning({ id: campusCodePayments.id });
  return rows.length;
}

/** The repayment closed unpaid: its campus-code debts are owed again. */
export async function releaseCampusCodeDebts(db: Executor, repaymentId: string, now: Date): Promise<void> {
  await db
    .update(campusCodePayments)
    .set({ repaymentId: null, updatedAt: now })
    .where(and(eq(campusCodePayments.repaymentId, repaymentId), eq(campusCodePayments.status, 'FAILED')));
}

/** What the user owes for campus codes, for the count on the card home. */
export async function campusCodeDebtSummary(db: Executor, userId: string) {
  const [row] = await db
    .select({
      totalFen: sql<number>`coalesce(sum(${campusCodePayments.amountFen}), 0)::int`,
      count: sql<number>`count(*)::int`,
    })
    .from(campusCodePayments)
    .where(
      and(
        eq(campusCodePayments.status, 'FAILED'),
        sql`exists (select 1 from ${bindings} where ${ownedByUser(userId)})`,
      ),
    );
  return row;
}
