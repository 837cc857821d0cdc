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

// ---- the admins' exceptions inbox (issue 13) -------------------------------------------------------------

export async function findRefundOfSchool(
  db: Executor,
  schoolId: string,
  id: string,
): Promise<RefundRow | undefined> {
  const [row] = await db
    .select()
    .from(refunds)
    .where(and(eq(refunds.id, id), eq(refunds.schoolId, schoolId)));
  return row;
}

export async function findRefund(
  db: Executor,
  outTradeNo: string,
  outRequestNo: string,
): Promise<RefundRow | undefined> {
  const [row] = await db
    .select()
    .from(refunds)
    .where(and(eq(refunds.outTradeNo, outTradeNo), eq(refunds.outRequestNo, outRequestNo)));
  return row;
}

/**
 * Takes a refund for an admin's retry with the same out_request_no: FAILED → PENDING, or a PENDING one not
 * touched since `idleBefore` (so that a double tap, or a retry racing the job's, sends one request).
 * Returns the row when it is the caller's to send.
 */
export async function takeRefundForRetry(
  db: Executor,
  id: string,
  at: { now: Date; idleBefore: Date },
): Promise<RefundRow | undefined> {
  const [row] = await db
    .update(refunds)
    .set({ status: 'PENDING', completedAt: null, updatedAt: at.now })
    .where(
      and(
        eq(refunds.id, id),
        sql`${refunds.handledAt} is null`,
        sql`(${refunds.status} = 'FAILED' or (${refunds.status} = 'PENDING' and ${refunds.updatedAt} < ${at.idleBefore}))`,
      ),
    )
    .returning();
  return row;
}

/** An admin takes a refund that will not go through out of the inbox: FAILED, handled, with the reason. */
export async function markRefundHandled(
  db: Executor,
  id: string,
  handled: { by: string; reason: string; now: Date },
): Promise<RefundRow | undefined> {
  const [row] = await db
    .update(refunds)
    .set({
      status: 'FAILED',
      completedAt: sql`coalesce(${refunds.completedAt}, ${handled.now}::timestamptz)`,
      handledAt: handled.now,
      handledBy: handled.by,
      handledReason: handled.reason,
      updatedAt: handled.now,
    })
    .where(and(eq(refunds.id, id), sql`${refunds.status} <> 'SUCCEEDED'`, sql`${refunds.handledAt} is null`))
    .returning();
  return row;
}
