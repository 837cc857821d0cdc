import { and, desc, eq, gte, inArray, lt, lte, sql } from 'drizzle-orm';
import type pg from 'pg';
import { wakeDrainers } from '../../wakeups.js';
import { insertMessageWhere, type NewUserMessage } from '../messages/messages.js';
import { bodyToStore } from '../notify/notify-log.js';
import type { Executor } from '../../client.js';
import { bindings, rechargeOrders, schools } from '../../schema.js';
import type { SchoolRow } from '../schools/schools.js';

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

/** The order and the facts of its school that a notification is checked against, in one query. */
export async function findRechargeWithSchool(
  db: Executor,
  outTradeNo: string,
): Promise<{ order: RechargeRow; school: SchoolRow } | undefined> {
  const [row] = await db
    .select({ order: rechargeOrders, school: schools })
    .from(rechargeOrders)
    .innerJoin(schools, eq(schools.id, rechargeOrders.schoolId))
    .where(eq(rechargeOrders.outTradeNo, outTradeNo));
  return row;
}

export async function setTradeNo(db: Executor, id: string, tradeNo: string, now: Date): Promise<void> {
  await db
    .update(rechargeOrders)
    .set({ alipayTradeNo: tradeNo, updatedAt: now })
    .where(eq(rechargeOrders.id, id));
}

/** Paid orders are announced here to the credit drainers (jobs/recharge/recharge-credit.ts). */
export const RECHARGE_PAID_CHANNEL = 'recharge_paid';

/** Wakes the credit drainers once a payment has committed (see db/wakeups.ts for why not inside it). */
export function signalRechargesPaid(pool: pg.Pool): void {
  wakeDrainers(pool, RECHARGE_PAID_CHANNEL);
}

/**
 * CREATED → PAID (or CLOSED → PAID: money that arrived after we gave up on the order is still credited),
 * due for crediting now — and, when it comes from a notification, that notification's notify_log entry,
 * in one statement: the change and its record commit together or not at all, in one round trip. Returns
 * the order's id when this call moved it; the caller then signals the drainers (signalRechargesPaid).
 */
export async function markPaidIfUnpaid(
  db: Executor,
  outTradeNo: string,
  paid: { tradeNo: string; buyerId: string | null; at: Date },
  notification?: { form: Record<string, string>; detail?: string },
): Promise<string | undefined> {
  const log = notification
    ? sql`, logged as (
        insert into notify_log (received_at, notify_type, notify_id, out_trade_no, app_id, is_verified, outcome, detail, body)
        values (${paid.at}, ${notification.form.notify_type ?? null}, ${notification.form.notify_id ?? null}, ${outTradeNo},
                ${notification.form.app_id ?? null}, true,
                case when exists (select 1 from moved) then 'APPLIED' else 'ALREADY_APPLIED' end,
                ${notification.detail ?? null}, ${JSON.stringify(bodyToStore(notification.form, true))}::jsonb)
      )`
    : sql``;
  const result = await db.execute<{ id: string | null }>(sql`
    with moved as (
      update recharge_orders
         set status = 'PAID', alipay_trade_no = ${paid.tradeNo}, buyer_id = ${paid.buyerId}, paid_at = ${paid.at},
             next_credit_at = ${paid.at}, closed_at = null, updated_at = ${paid.at}
       where out_trade_no = ${outTradeNo} and status in ('CREATED', 'CLOSED')
      returning id
    )${log}
    select (select id from moved) as id`);
  return result.rows[0]?.id ?? undefined;
}

/**
 * Leases up to `limit` paid orders whose crediting is due, by moving their due time to the end of the
 * lease: a drainer that dies gives them back when it runs out (see jobs/leased-drainer.ts).
 */
export async function claimDueCredits(
  db: Executor,
  opts: { now: Date; leaseUntil: Date; limit: number },
): Promise<RechargeRow[]> {
  return db
    .update(rechargeOrders)
    .set({ nextCreditAt: opts.leaseUntil })
    .where(
      inArray(
        rechargeOrders.id,
        db
          .select({ id: rechargeOrders.id })
          .from(rechargeOrders)
          .where(and(eq(rechargeOrders.status, 'PAID'), lte(rechargeOrders.nextCreditAt, opts.now)))
          .orderBy(rechargeOrders.nextCreditAt)
          .limit(opts.limit)
          .for('update', { skipLocked: true }),
      ),
    )
    .returning();
}

/** Gives back orders claimed but not started, each only if its lease (its due time) is still ours. */
export async function releaseCreditLeases(
  db: Executor,
  orders: Array<{ id: string; nextCreditAt: Date | null }>,
  now: Date,
): Promise<void> {
  const held = orders.filter((order) => order.nextCreditAt);
  if (held.length === 0) return;
  const ids = `{${held.map((o) => o.id).join(',')}}`;
  const leases = `{${held.map((o) => o.nextCreditAt!.toISOString()).join(',')}}`;
  await db.execute(sql`
    update recharge_orders o set next_credit_at = ${now}
    from unnest(${ids}::uuid[], ${leases}::timestamptz[]) as r(id, lease)
    where o.id = r.id and o.status = 'PAID' and o.next_credit_at = r.lease`);
}

export async function nextCreditDueAt(db: Executor): Promise<Date | null> {
  const [row] = await db
    .select({ due: sql<Date | null>`min(${rechargeOrders.nextCreditAt})` })
    .from(rechargeOrders)
    .where(eq(rechargeOrders.status, 'PAID'));
  return row?.due ? new Date(row.due) : null;
}

/**
 * PAID → CREDITED. Returns whether this call moved the order, and the membership cards that earned points
 * by it: when the school gives points per yuan recharged (membership_programs), the card's wallet card gets
 * them in the same statement, so a recharge awards its points exactly once (DESIGN §6.4, docs/membercard.md).
 * The payer's message goes into the outbox in the same statement too, only when this call moved the order:
 * one round trip and one commit per credit (the crediting hot path, issue 18 §2).
 */
export async function markCredited(
  db: Executor,
  id: string,
  now: Date,
  message?: NewUserMessage,
): Promise<{ isCredited: boolean; pointsCardIds: string[] }> {
  const queued = message
    ? sql`, queued as (${insertMessageWhere(message, now, sql`exists (select 1 from credited)`)})`
    : sql``;
  const { rows } = await db.execute<{ credited: number; cards: string[] | null }>(sql`
    with credited as (
      update ${rechargeOrders} set
        status = 'CREDITED', credited_at = ${now}, next_credit_at = null, last_error = null,
        credit_attempts = credit_attempts + 1, updated_at = ${now}
      where id = ${id} and status = 'PAID'
      returning school_id, card_no, amount_fen
    ), awarded as (
      update membership_cards m set
        points = m.points + (c.amount_fen / 100) * p.points_per_yuan,
        points_change_reason = '充值' || (c.amount_fen / 100) || '元',
        next_sync_at = case when m.status = 'IN_WALLET' then ${now}::timestamptz end,
        sync_failed_at = null, sync_attempts = 0, updated_at = ${now}
      from credited c, membership_programs p
      where p.school_id = c.school_id and p.points_per_yuan > 0 and c.amount_fen >= 100
        and m.school_id = c.school_id and m.card_no = c.card_no and m.status <> 'REMOVED'
      returning m.id
    )${queued}
    select (select count(*) from credited)::int as credited, (select array_agg(id::text) from awarded) as cards`);
  return { isCredited: rows[0].credited === 1, pointsCardIds: (rows[0].cards ?? []).map(String) };
}

/**
 * Records a failed crediting attempt: the next one at `nextAt`, or CREDIT_FAILED when there is none. An
 * attempt without an answer (`isUnknown`) marks the order as possibly credited, for good.
 */
export async function recordCreditFailure(
  db: Executor,
  id: string,
  failure: { error: string; nextAt: Date | null; isUnknown: boolean; now: Date },
): Promise<RechargeRow | undefined> {
  const [row] = await db
    .update(rechargeOrders)
    .set({
      status: failure.nextAt ? 'PAID' : 'CREDIT_FAILED',
      nextCreditAt: failure.nextAt,
      lastError: failure.error,
      creditUnknownSince: failure.isUnknown
        ? sql`coalesce(${rechargeOrders.creditUnknownSince}, ${failure.now}::timestamptz)`
        : undefined,
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

/** The user's unpaid orders that can still be paid, and when the first of them expires. */
export async function openRechargesOf(
  db: Executor,
  userId: string,
  now: Date,
): Promise<{ count: number; firstExpiry: Date | null }> {
  const [row] = await db
    .select({
      count: sql<number>`count(*)::int`,
      firstExpiry: sql<Date | null>`min(${rechargeOrders.expiresAt})`,
    })
    .from(rechargeOrders)
    .where(
      and(
        eq(rechargeOrders.userId, userId),
        eq(rechargeOrders.status, 'CREATED'),
        gte(rechargeOrders.expiresAt, now),
      ),
    );
  return { count: row.count, firstExpiry: row.firstExpiry ? new Date(row.firstExpiry) : null };
}

/** Unpaid orders older than `createdBefore`: the sweep asks Alipay about them. */
export async function findUnpaidRecharges(
  db: Executor,
  opts: { createdBefore: Date; limit: number },
): Promise<RechargeRow[]> {
  return db
    .select()
    .from(rechargeOrders)
    .where(and(eq(rechargeOrders.status, 'CREATED'), lt(rechargeOrders.createdAt, opts.createdBefore)))
    .orderBy(rechargeOrders.createdAt)
    .limit(opts.limit);
}

/** Orders of a binding that moved money (or may have), in a time window, newest first. */
/** Paid recharges of a card (through any of its bindings) paid within the window, newest first. */
export async function listRechargesOfCard(
  db: Executor,
  card: { schoolId: string; cardNo: string },
  from: Date,
  to: Date,
): Promise<RechargeRow[]> {
  return db
    .select()
    .from(rechargeOrders)
    .where(
      and(
        inArray(
          rechargeOrders.bindingId,
          db
            .select({ id: bindings.id })
            .from(bindings)
            .where(and(eq(bindings.schoolId, card.schoolId), eq(bindings.cardNo, card.cardNo))),
        ),
        inArray(rechargeOrders.status, ['PAID', 'CREDITED', 'CREDIT_FAILED', 'REFUNDED']),
        gte(rechargeOrders.paidAt, from),
        lte(rechargeOrders.paidAt, to),
      ),
    )
    .orderBy(desc(rechargeOrders.paidAt));
}

// ---- the admins' exceptions inbox (issue 13) -------------------------------------------------------------

export async function findRechargeOfSchool(
  db: Executor,
  schoolId: string,
  id: string,
): Promise<RechargeRow | undefined> {
  const [row] = await db
    .select()
    .from(rechargeOrders)
    .where(and(eq(rechargeOrders.id, id), eq(rechargeOrders.schoolId, schoolId)));
  return row;
}

/** The school's order, locked for an admin's action (so that two actions on it take turns). */
export async function lockRechargeOfSchool(
  db: Executor,
  schoolId: string,
  id: string,
): Promise<RechargeRow | undefined> {
  const [row] = await db
    .select()
    .from(rechargeOrders)
    .where(and(eq(rechargeOrders.id, id), eq(rechargeOrders.schoolId, schoolId)))
    .for('update');
  return row;
}

/**
 * CREDIT_FAILED → PAID for one more crediting attempt that the caller makes itself at once: due only after
 * `leaseUntil`, so that no drainer takes it meanwhile (a drainer finds it then if the caller died).
 */
export async function reopenForCredit(
  db: Executor,
  id: string,
  at: { now: Date; leaseUntil: Date },
): Promise<RechargeRow | undefined> {
  const [row] = await db
    .update(rechargeOrders)
    .set({ status: 'PAID', nextCreditAt: at.leaseUntil, updatedAt: at.now })
    .where(and(eq(rechargeOrders.id, id), eq(rechargeOrders.status, 'CREDIT_FAILED')))
    .returning();
  return row;
}

/** CREDIT_FAILED → REFUNDED once Alipay has refunded the payer. */
export async function markRechargeRefunded(db: Executor, outTradeNo: string, now: Date): Promise<boolean> {
  const rows = await db
    .update(rechargeOrders)
    .set({ status: 'REFUNDED', refundedAt: now, nextCreditAt: null, updatedAt: now })
    .where(and(eq(rechargeOrders.outTradeNo, outTradeNo), eq(rechargeOrders.status, 'CREDIT_FAILED')))
    .returning({ id: rechargeOrders.id });
  return rows.length === 1;
}

/** CREDIT_FAILED → CREDITED: the vendor's records show the credit after all (an admin's refund asked). */
export async function markFailedFoundCredited(db: Executor, id: string, now: Date): Promise<boolean> {
  const rows = await db
    .update(rechargeOrders)
    .set({ status: 'CREDITED', creditedAt: now, nextCreditAt: null, updatedAt: now })
    .where(and(eq(rechargeOrders.id, id), eq(rechargeOrders.status, 'CREDIT_FAILED')))
    .returning({ id: rechargeOrders.id });
  return rows.length === 1;
}
