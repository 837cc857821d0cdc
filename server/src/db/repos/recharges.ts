import { and, desc, eq, gte, inArray, lt, lte, or, sql } from 'drizzle-orm';
import type { Executor } from '../client.js';
import { rechargeOrders } from '../schema.js';

export type RechargeRow = typeof rechargeOrders.$inferSelect;

export async function insertRecharge(
  db: Executor,
  order: typeof rechargeOrders.$inferInsert,
): Promise<RechargeRow> {
  const [row] = await db.insert(rechargeOrders).values(order).returning();
  return row;
}

export async function findRecharge(db: Executor, id: string): Promise<RechargeRow | undefined> {
  const [row] = await db.select().from(rechargeOrders).where(eq(rechargeOrders.id, id));
  return row;
}

export async function findRechargeByOutTradeNo(
  db: Executor,
  outTradeNo: string,
): Promise<RechargeRow | undefined> {
  const [row] = await db.select().from(rechargeOrders).where(eq(rechargeOrders.outTradeNo, outTradeNo));
  return row;
}

export async function setTradeNo(db: Executor, id: string, tradeNo: string, now: Date): Promise<void> {
  await db
    .update(rechargeOrders)
    .set({ alipayTradeNo: tradeNo, updatedAt: now })
    .where(eq(rechargeOrders.id, id));
}

/**
 * CREATED → PAID (or CLOSED → PAID: money that arrived after we gave up on the order is still credited).
 * Returns the row when this call moved it, undefined when it was already paid or beyond.
 */
export async function markPaidIfUnpaid(
  db: Executor,
  outTradeNo: string,
  paid: { tradeNo: string; buyerId: string | null; at: Date },
): Promise<RechargeRow | undefined> {
  const [row] = await db
    .update(rechargeOrders)
    .set({
      status: 'PAID',
      alipayTradeNo: paid.tradeNo,
      buyerId: paid.buyerId,
      paidAt: paid.at,
      nextCreditAt: paid.at,
      closedAt: null,
      updatedAt: paid.at,
    })
    .where(
      and(eq(rechargeOrders.outTradeNo, outTradeNo), inArray(rechargeOrders.status, ['CREATED', 'CLOSED'])),
    )
    .returning();
  return row;
}

export async function markCredited(db: Executor, id: string, now: Date): Promise<boolean> {
  const rows = await db
    .update(rechargeOrders)
    .set({
      status: 'CREDITED',
      creditedAt: now,
      nextCreditAt: null,
      lastError: null,
      creditAttempts: sql`${rechargeOrders.creditAttempts} + 1`,
      updatedAt: now,
    })
    .where(and(eq(rechargeOrders.id, id), eq(rechargeOrders.status, 'PAID')))
    .returning({ id: rechargeOrders.id });
  return rows.length === 1;
}

/** Records a failed crediting attempt: the next one at `nextAt`, or CREDIT_FAILED when there is none. */
export async function recordCreditFailure(
  db: Executor,
  id: string,
  failure: { error: string; nextAt: Date | null; now: Date },
): Promise<RechargeRow | undefined> {
  const [row] = await db
    .update(rechargeOrders)
    .set({
      status: failure.nextAt ? 'PAID' : 'CREDIT_FAILED',
      nextCreditAt: failure.nextAt,
      lastError: failure.error,
      creditAttempts: sql`${rechargeOrders.creditAttempts} + 1`,
      updatedAt: failure.now,
    })
    .where(and(eq(rechargeOrders.id, id), eq(rechargeOrders.status, 'PAID')))
    .returning();
  return row;
}

export async function markClosedIfCreated(
  db: Executor,
  id: string,
  now: Date,
  reason?: string,
): Promise<boolean> {
  const rows = await db
    .update(rechargeOrders)
    .set({ status: 'CLOSED', closedAt: now, updatedAt: now, lastError: reason ?? null })
    .where(and(eq(rechargeOrders.id, id), eq(rechargeOrders.status, 'CREATED')))
    .returning({ id: rechargeOrders.id });
  return rows.length === 1;
}

/** Orders the sweep looks at: unpaid ones older than `createdBefore`, and paid ones whose credit is overdue. */
export async function findRechargesToSweep(
  db: Executor,
  opts: { createdBefore: Date; creditDueBefore: Date; limit: number },
): Promise<RechargeRow[]> {
  return db
    .select()
    .from(rechargeOrders)
    .where(
      or(
        and(eq(rechargeOrders.status, 'CREATED'), lt(rechargeOrders.createdAt, opts.createdBefore)),
        and(eq(rechargeOrders.status, 'PAID'), lt(rechargeOrders.nextCreditAt, opts.creditDueBefore)),
      ),
    )
    .orderBy(rechargeOrders.createdAt)
    .limit(opts.limit);
}

/** Orders of a binding that moved money (or may have), in a time window, newest first. */
export async function listRechargesForStatement(
  db: Executor,
  bindingId: string,
  from: Date,
  to: Date,
): Promise<RechargeRow[]> {
  return db
    .select()
    .from(rechargeOrders)
    .where(
      and(
        eq(rechargeOrders.bindingId, bindingId),
        inArray(rechargeOrders.status, ['PAID', 'CREDITED', 'CREDIT_FAILED', 'REFUNDED']),
        gte(rechargeOrders.paidAt, from),
        lte(rechargeOrders.paidAt, to),
      ),
    )
    .orderBy(desc(rechargeOrders.paidAt));
}
