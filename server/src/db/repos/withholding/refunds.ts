import { and, eq, sql } from 'drizzle-orm';
import type { Executor } from '../../client.js';
import { refunds } from '../../schema.js';

export type RefundRow = typeof refunds.$inferSelect;

/** The refund for (out_trade_no, out_request_no), created PENDING the first time it is asked for. */
export async function ensureRefund(db: Executor, refund: typeof refunds.$inferInsert): Promise<RefundRow> {
  const [inserted] = await db.insert(refunds).values(refund).onConflictDoNothing().returning();
  if (inserted) return inserted;
  const [row] = await db
    .select()
    .from(refunds)
    .where(and(eq(refunds.outTradeNo, refund.outTradeNo), eq(refunds.outRequestNo, refund.outRequestNo)));
  return row;
}

export async function markRefundSucceeded(db: Executor, id: string, now: Date): Promise<void> {
  await db
    .update(refunds)
    .set({
      status: 'SUCCEEDED',
      completedAt: now,
      attempts: sql`${refunds.attempts} + 1`,
      lastError: null,
      updatedAt: now,
    })
    .where(and(eq(refunds.id, id), eq(refunds.status, 'PENDING')));
}

/** A failed attempt; FAILED (for the admins) when `isFinal`. Returns the attempts made so far. */
export async function recordRefundFailure(
  db: Executor,
  id: string,
  failure: { error: string; isFinal: boolean; now: Date },
): Promise<number> {
  const [row] = await db
    .update(refunds)
    .set({
      status: failure.isFinal ? 'FAILED' : 'PENDING',
      attempts: sql`${refunds.attempts} + 1`,
      lastError: failure.error,
      completedAt: failure.isFinal ? failure.now : null,
      updatedAt: failure.now,
    })
    .where(and(eq(refunds.id, id), eq(refunds.status, 'PENDING')))
    .returning({ attempts: refunds.attempts });
  return row?.attempts ?? 0;
}
