import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { Executor } from '../../client.js';
import { deductions } from '../../schema.js';

/** Deductions the payer still owes: being retried, or given up on (arrears). */
export const OPEN_DEBT_STATUSES = ['RETRYING', 'ARREARS'] as const;

export async function hasOpenDebts(db: Executor, payerUserId: string): Promise<boolean> {
  const rows = await db
    .select({ one: sql<number>`1` })
    .from(deductions)
    .where(and(eq(deductions.payerUserId, payerUserId), inArray(deductions.status, [...OPEN_DEBT_STATUSES])))
    .limit(1);
  return rows.length > 0;
}

export async function debtSummary(
  db: Executor,
  payerUserId: string,
): Promise<{ totalFen: number; count: number }> {
  const [row] = await db
    .select({
      totalFen: sql<number>`coalesce(sum(${deductions.amountFen}), 0)::int`,
      count: sql<number>`count(*)::int`,
    })
    .from(deductions)
    .where(and(eq(deductions.payerUserId, payerUserId), inArray(deductions.status, [...OPEN_DEBT_STATUSES])));
  return row;
}

export type DebtRow = typeof deductions.$inferSelect;

/** The payer's owed deductions, oldest first. */
export async function listOpenDebts(db: Executor, payerUserId: string): Promise<DebtRow[]> {
  return db
    .select()
    .from(deductions)
    .where(and(eq(deductions.payerUserId, payerUserId), inArray(deductions.status, [...OPEN_DEBT_STATUSES])))
    .orderBy(asc(deductions.createdAt));
}
