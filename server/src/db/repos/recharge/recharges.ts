import { and, desc, eq, gte, inArray, lt, lte, sql } from 'drizzle-orm';
import type pg from 'pg';
import { wakeDrainers } from '../../wakeups.js';
import type { NewUserMessage } from '../messages/messages.js';
import { bodyToStore } from '../notify/notify-log.js';
import type { Executor } from '../../client.js';
import { rechargeOrders } from '../../schema.js';
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

/** What a notification of a recharge is checked against: the order's amount, its school's seller and app. */
export interface RechargeToNotify {
  order: Pick<RechargeRow, 'id' | 'outTradeNo' | 'amountFen'>;
  school: Pick<SchoolRow, 'alipaySellerId' | 'alipayAuthAppId'>;
}

/**
 * For many notifications at once (payment-batches.ts: those that arrive together), each order with the facts
 * of its school that the notification is checked against, answered in the order given (undefined: no such
 * order). One round trip for many: this read was the one statement every notification made on its own, the
 * most frequent statement of the payment's hot path (issue 18 §2). A prepared statement of only the columns
 * the checks read, planned once per connection.
 */
export async function findRechargesWithSchool(
  pool: pg.Pool,
  outTradeNos: string[],
): Promise<Array<RechargeToNotify | undefined>> {
  const { rows } = await pool.query<{
    n: string;
    id: string;
    out_trade_no: string;
    amount_fen: number;
    alipay_seller_id: string | null;
    alipay_auth_app_id: string | null;
  }>({ name: 'find_recharges_with_school', text: FIND_WITH_SCHOOL_SQL, values: [outTradeNos] });
  const byN = new Map(rows.map((row) => [Number(row.n), row]));
  return outTradeNos.map((_, i) => {
    const row = byN.get(i + 1);
    return row
      ? {
          order: { id: row.id, outTradeNo: row.out_trade_no, amountFen: row.amount_fen },
          school: { alipaySellerId: row.alipay_seller_id, alipayAuthAppId: row.alipay_auth_app_id },
        }
      : undefined;
  });
}

const FIND_WITH_SCHOOL_SQL = `
  select i.n, o.id, o.out_trade_no, o.amount_fen, s.alipay_seller_id, s.alipay_auth_app_id
    from unnest($1::text[]) with ordinality as i(out_trade_no, n)
    join recharge_orders o on o.out_trade_no = i.out_trade_no
    join schools s on s.id = o.school_id`;

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
 * due for crediting now. Returns the order's id when this call moved it; the caller then signals the
 * drainers (signalRechargesPaid). A notification's payment goes through markPaidNotifiedMany instead.
 */
export async function markPaidIfUnpaid(
  pool: pg.Pool,
  outTradeNo: string,
  paid: { tradeNo: string; buyerId: string | null; at: Date },
): Promise<string | undefined> {
  const { rows } = await pool.query<{ id: string | null }>({
    name: 'mark_recharge_paid',
    text: MARK_PAID_SQL,
    values: [outTradeNo, paid.tradeNo, paid.buyerId, paid.at],
  });
  return rows[0]?.id ?? undefined;
}

const MARK_PAID_SQL = `
  with moved as (
    update recharge_orders
       set status = 'PAID', alipay_trade_no = $2, buyer_id = $3, paid_at = $4,
           next_credit_at = $4, closed_at = null, updated_at = $4
     where out_trade_no = $1 and status in ('CREATED', 'CLOSED')
    returning id
  )
  select (select id from moved) as id`;

/** A verified payment notification of a recharge, to apply and record (payment-batches.ts). */
export interface NotifiedPayment {
  outTradeNo: string;
  tradeNo: string;
  buyerId: string | null;
  at: Date;
  form: Record<string, string>;
  detail?: string;
}

/**
 * markPaidIfUnpaid for many notifications in one statement (one round trip, one commit: the notifications
 * that arrive together, payment-batches.ts), each with its notify_log entry — APPLIED for the one that moved
 * its order, ALREADY_APPLIED otherwise — so a change and its record commit together or not at all. Answers,
 * in the order given, the order's id for each notification that moved it. Two notifications of one order
 * in one statement: the order moves once, by the first of them; the other is ALREADY_APPLIED.
 * A prepared statement: the payment's hot path (issue 18 §2).
 */
export async function markPaidNotifiedMany(
  pool: pg.Pool,
  payments: NotifiedPayment[],
): Promise<Array<string | undefined>> {
  const input = payments.map(({ outTradeNo, tradeNo, buyerId, at, form, detail }) => ({
    outTradeNo,
    tradeNo,
    buyerId,
    at: at.toISOString(),
    notifyType: form.notify_type ?? null,
    notifyId: form.notify_id ?? null,
    appId: form.app_id ?? null,
    detail: detail ?? null,
    body: bodyToStore(form, true),
  }));
  const { rows } = await pool.query<{ n: string; id: string | null }>({
    name: 'mark_recharges_paid_notified',
    text: MARK_PAID_NOTIFIED_SQL,
    values: [JSON.stringify(input)],
  });
  const idOf = new Map(rows.map((row) => [Number(row.n), row.id ?? undefined]));
  return payments.map((_, i) => idOf.get(i + 1));
}

const MARK_PAID_NOTIFIED_SQL = `
  with input as (
    select e.n, e.item->>'outTradeNo' as out_trade_no, e.item->>'tradeNo' as trade_no,
           e.item->>'buyerId' as buyer_id, (e.item->>'at')::timestamptz as at, e.item
      from jsonb_array_elements($1::jsonb) with ordinality as e(item, n)
  ), moved as (
    update recharge_orders o
       set status = 'PAID', alipay_trade_no = i.trade_no, buyer_id = i.buyer_id, paid_at = i.at,
           next_credit_at = i.at, closed_at = null, updated_at = i.at
      from (select distinct on (out_trade_no) * from input order by out_trade_no, n) i
     where o.out_trade_no = i.out_trade_no and o.status in ('CREATED', 'CLOSED')
    returning i.n, o.id
  ), logged as (
    insert into notify_log (received_at, notify_type, notify_id, out_trade_no, app_id, is_verified, outcome, detail, body)
    select i.at, i.item->>'notifyType', i.item->>'notifyId', i.out_trade_no, i.item->>'appId', true,
           case when m.n is not null then 'APPLIED' else 'ALREADY_APPLIED' end,
           i.item->>'detail', i.item->'body'
      from input i left join moved m on m.n = i.n
     order by i.n
  )
  select i.n, m.id from input i left join moved m on m.n = i.n`;

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

/** One credit to record: the order, when its vendor call succeeded, and the payer's message (none: no template). */
export interface CreditToRecord {
  id: string;
  at: Date;
  message?: NewUserMessage;
}

export interface RecordedCredit {
  /** This call moved the order PAID → CREDITED (false: it was not PAID any more). */
  isCredited: boolean;
  /** The membership cards whose points the credit raised (their wallet cards get the new total). */
  pointsCardIds: string[];
}

/**
 * PAID → CREDITED for many orders in one statement (one round trip, one commit: the credits whose vendor calls
 * end together, credit-batches.ts), answered in the order given. For each order this statement moved:
 * - the school's points per yuan recharged (membership_programs) go on the card's membership card in the same
 *   statement, so a recharge awards its points exactly once (DESIGN §6.4, docs/membercard.md). Credits of
 *   the same card add up (one update per card with their sum: `UPDATE … FROM` would apply one of them), and
 *   the cards are locked in a fixed order so that two batches never wait on each other in a circle;
 * - the payer's message goes into the outbox, only when this statement moved the order.
 * A prepared statement: planned once per connection, not once per credit (issue 18 §2).
 */
export async function markCreditedMany(pool: pg.Pool, credits: CreditToRecord[]): Promise<RecordedCredit[]> {
  const input = credits.map((credit) => ({
    id: credit.id,
    at: credit.at.toISOString(),
    message: credit.message ?? null,
  }));
  const { rows } = await pool.query<{ n: number; credited: boolean; cards: string[] | null }>({
    name: 'mark_recharges_credited',
    text: MARK_CREDITED_SQL,
    values: [JSON.stringify(input)],
  });
  const byN = new Map(rows.map((row) => [Number(row.n), row]));
  return credits.map((_, i) => {
    const row = byN.get(i + 1);
    return { isCredited: row?.credited === true, pointsCardIds: (row?.cards ?? []).map(String) };
  });
}

const MARK_CREDITED_SQL = `
  with input as (
    select e.n, (e.item->>'id')::uuid as id, (e.item->>'at')::timestamptz as at, e.item->'message' as message
      from jsonb_array_elements($1::jsonb) with ordinality as e(item, n)
  ), credited as (
    update recharge_orders o set
      status = 'CREDITED', credited_at = i.at, next_credit_at = null, last_error = null,
      credit_attempts = o.credit_attempts + 1, updated_at = i.at
    from input i
    where o.id = i.id and o.status = 'PAID'
    returning i.n, o.school_id, o.card_no, o.amount_fen, i.at
  ), earned as (
    select c.school_id, c.card_no, sum((c.amount_fen / 100) * p.points_per_yuan)::int as points,
           sum(c.amount_fen / 100)::int as yuan, max(c.at) as at
      from credited c join membership_programs p on p.school_id = c.school_id
     where p.points_per_yuan > 0 and c.amount_fen >= 100
     group by c.school_id, c.card_no
  ), locked as (
    select m.id, e.points, e.yuan, e.at
      from membership_cards m join earned e on m.school_id = e.school_id and m.card_no = e.card_no
     where m.status <> 'REMOVED'
     order by m.id
       for update of m
  ), awarded as (
    update membership_cards m set
      points = m.points + l.points,
      points_change_reason = '充值' || l.yuan || '元',
      next_sync_at = case when m.status = 'IN_WALLET' then l.at end,
      sync_failed_at = null, sync_attempts = 0, updated_at = l.at
    from locked l
    where m.id = l.id
    returning m.id, m.school_id, m.card_no
  ), queued as (
    insert into user_messages (user_id, school_id, kind, dedup_key, page, values, status, next_attempt_at, created_at, updated_at)
    select (i.message->>'userId')::uuid, (i.message->>'schoolId')::uuid, i.message->>'kind', i.message->>'dedupKey',
           i.message->>'page', i.message->'values', 'PENDING', i.at, i.at, i.at
      from input i join credited c on c.n = i.n
     where jsonb_typeof(i.message) = 'object'
    on conflict (dedup_key) do nothing
  )
  select i.n, c.n is not null as credited,
         (select array_agg(a.id::text) from awarded a where a.school_id = c.school_id and a.card_no = c.card_no) as cards
    from input i left join credited c on c.n = i.n`;

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

/**
 * Paid recharges of a card (through any of its bindings: an order keeps its binding's school and card number)
 * paid within the window, newest first.
 */
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
        eq(rechargeOrders.schoolId, card.schoolId),
        eq(rechargeOrders.cardNo, card.cardNo),
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
