import { and, asc, desc, eq, inArray, isNull, lt, lte, sql } from 'drizzle-orm';
import type { Database, Executor } from '../../client.js';
import { refunds, schools, terminalOrders, terminalPayments, terminals } from '../../schema.js';
import type { SchoolRow } from '../schools/schools.js';
import type { TerminalRow } from './terminals.js';

export type TerminalOrderRow = typeof terminalOrders.$inferSelect;
export type NewTerminalOrder = typeof terminalOrders.$inferInsert;
export type TerminalPaymentRow = typeof terminalPayments.$inferSelect;
export type NewTerminalPayment = typeof terminalPayments.$inferInsert;

/** An order with what every rule about it needs: its terminal and its school. */
export interface OrderContext {
  order: TerminalOrderRow;
  terminal: TerminalRow;
  school: SchoolRow;
}

/**
 * The order and its 当面付 payment (seq 0, out_trade_no `qrOutTradeNo(order)`), committed together; nothing
 * when (terminal, outOrderNo) exists already (the caller reads that one).
 */
export function insertOrderWithQrPayment(
  db: Database,
  order: NewTerminalOrder,
  qrOutTradeNo: (order: TerminalOrderRow) => string,
): Promise<TerminalOrderRow | undefined> {
  return db.transaction(async (tx) => {
    const [row] = await tx.insert(terminalOrders).values(order).onConflictDoNothing().returning();
    if (!row) return undefined;
    await tx.insert(terminalPayments).values({
      orderId: row.id,
      schoolId: row.schoolId,
      channel: 'QR',
      seq: 0,
      outTradeNo: qrOutTradeNo(row),
    });
    return row;
  });
}

/** Stores the order's QR unless it has one already (another process's request was first): the order as stored. */
export async function setQrCodeIfNone(
  db: Executor,
  id: string,
  qrCode: string,
  now: Date,
): Promise<TerminalOrderRow> {
  const [row] = await db
    .update(terminalOrders)
    .set({ qrCode, updatedAt: now })
    .where(and(eq(terminalOrders.id, id), isNull(terminalOrders.qrCode)))
    .returning();
  if (row) return row;
  const [stored] = await db.select().from(terminalOrders).where(eq(terminalOrders.id, id));
  return stored;
}

export async function findOrderOfTerminal(
  db: Executor,
  terminalRef: string,
  outOrderNo: string,
): Promise<TerminalOrderRow | undefined> {
  const [row] = await db
    .select()
    .from(terminalOrders)
    .where(and(eq(terminalOrders.terminalRef, terminalRef), eq(terminalOrders.outOrderNo, outOrderNo)));
  return row;
}

const withContext = (db: Executor) =>
  db
    .select({ order: terminalOrders, terminal: terminals, school: schools })
    .from(terminalOrders)
    .innerJoin(terminals, eq(terminals.id, terminalOrders.terminalRef))
    .innerJoin(schools, eq(schools.id, terminalOrders.schoolId));

export async function findOrderContext(db: Executor, id: string): Promise<OrderContext | undefined> {
  const [row] = await withContext(db).where(eq(terminalOrders.id, id));
  return row;
}

export async function findOrderContextByNo(db: Executor, orderNo: string): Promise<OrderContext | undefined> {
  const [row] = await withContext(db).where(eq(terminalOrders.orderNo, orderNo));
  return row;
}

/** The row locked for a read-modify-write in the caller's transaction. */
export async function lockOrder(tx: Executor, id: string): Promise<TerminalOrderRow> {
  const [row] = await tx.select().from(terminalOrders).where(eq(terminalOrders.id, id)).for('update');
  return row;
}

export async function updateOrder(
  db: Executor,
  id: string,
  patch: Partial<NewTerminalOrder>,
): Promise<TerminalOrderRow> {
  const [row] = await db.update(terminalOrders).set(patch).where(eq(terminalOrders.id, id)).returning();
  return row;
}

export async function insertPayment(db: Executor, payment: NewTerminalPayment): Promise<TerminalPaymentRow> {
  const [row] = await db.insert(terminalPayments).values(payment).returning();
  return row;
}

export async function findPaymentByOutTradeNo(
  db: Executor,
  outTradeNo: string,
): Promise<TerminalPaymentRow | undefined> {
  const [row] = await db.select().from(terminalPayments).where(eq(terminalPayments.outTradeNo, outTradeNo));
  return row;
}

export async function findPaymentById(db: Executor, id: string): Promise<TerminalPaymentRow | undefined> {
  const [row] = await db.select().from(terminalPayments).where(eq(terminalPayments.id, id));
  return row;
}

export function paymentsOfOrder(db: Executor, orderId: string): Promise<TerminalPaymentRow[]> {
  return db
    .select()
    .from(terminalPayments)
    .where(eq(terminalPayments.orderId, orderId))
    .orderBy(asc(terminalPayments.seq));
}

export async function updatePayment(
  db: Executor,
  id: string,
  patch: Partial<NewTerminalPayment>,
): Promise<TerminalPaymentRow> {
  const [row] = await db.update(terminalPayments).set(patch).where(eq(terminalPayments.id, id)).returning();
  return row;
}

/** The mini-program payments of one person, newest first (the "my payments" list). */
export function paymentsOfUser(
  db: Executor,
  userId: string,
  limit: number,
): Promise<Array<{ payment: TerminalPaymentRow; order: TerminalOrderRow; terminal: TerminalRow }>> {
  return db
    .select({ payment: terminalPayments, order: terminalOrders, terminal: terminals })
    .from(terminalPayments)
    .innerJoin(terminalOrders, eq(terminalOrders.id, terminalPayments.orderId))
    .innerJoin(terminals, eq(terminals.id, terminalOrders.terminalRef))
    .where(and(eq(terminalPayments.userId, userId), eq(terminalPayments.status, 'PAID')))
    .orderBy(desc(terminalPayments.paidAt))
    .limit(limit);
}

/** Unpaid (CREATED) orders whose `time` column is before `cutoff` (`lt` or `lte`), oldest first. */
function unpaidOrdersBefore(
  db: Executor,
  time: typeof terminalOrders.expiresAt | typeof terminalOrders.createdAt,
  before: typeof lt | typeof lte,
  cutoff: Date,
  limit: number,
): Promise<TerminalOrderRow[]> {
  return db
    .select()
    .from(terminalOrders)
    .where(and(eq(terminalOrders.status, 'CREATED'), before(time, cutoff)))
    .orderBy(asc(time))
    .limit(limit);
}

/** Unpaid orders past the machine's timeout, oldest first. */
export function expiredOrders(db: Executor, now: Date, limit: number): Promise<TerminalOrderRow[]> {
  return unpaidOrdersBefore(db, terminalOrders.expiresAt, lte, now, limit);
}

/** Unpaid orders older than `before`, still open: asked about at Alipay when a notification is late. */
export function unpaidOrders(db: Executor, before: Date, limit: number): Promise<TerminalOrderRow[]> {
  return unpaidOrdersBefore(db, terminalOrders.createdAt, lt, before, limit);
}

/** Orders whose royalty settlement is due (PENDING, or SENT and waiting for its result). */
export function dueSettlements(db: Executor, now: Date, limit: number): Promise<TerminalOrderRow[]> {
  return db
    .select()
    .from(terminalOrders)
    .where(
      and(inArray(terminalOrders.settleStatus, ['PENDING', 'SENT']), lte(terminalOrders.settleNextAt, now)),
    )
    .orderBy(asc(terminalOrders.settleNextAt))
    .limit(limit);
}

export function refundsOfOrder(db: Executor, orderId: string) {
  return db
    .select()
    .from(refunds)
    .where(eq(refunds.terminalOrderId, orderId))
    .orderBy(asc(refunds.createdAt));
}

/** Terminal refunds still PENDING and due (next_attempt_at reached). */
export function dueTerminalRefunds(db: Executor, now: Date, limit: number) {
  return db
    .select()
    .from(refunds)
    .where(
      and(
        eq(refunds.status, 'PENDING'),
        lte(refunds.nextAttemptAt, now),
        sql`${refunds.terminalOrderId} is not null`,
      ),
    )
    .orderBy(asc(refunds.nextAttemptAt))
    .limit(limit);
}

/** A school's orders for the admin list, newest first; `before` an order number for the next page. */
export function ordersOfSchool(
  db: Executor,
  schoolId: string,
  filter: {
    status?: TerminalOrderRow['status'];
    terminalRef?: string;
    beforeCreatedAt?: Date;
    limit: number;
  },
) {
  return db
    .select({ order: terminalOrders, terminal: terminals })
    .from(terminalOrders)
    .innerJoin(terminals, eq(terminals.id, terminalOrders.terminalRef))
    .where(
      and(
        eq(terminalOrders.schoolId, schoolId),
        filter.status ? eq(terminalOrders.status, filter.status) : undefined,
        filter.terminalRef ? eq(terminalOrders.terminalRef, filter.terminalRef) : undefined,
        filter.beforeCreatedAt ? lt(terminalOrders.createdAt, filter.beforeCreatedAt) : undefined,
      ),
    )
    .orderBy(desc(terminalOrders.createdAt))
    .limit(filter.limit);
}

/**
 * Claims a due terminal refund for one attempt: pushes next_attempt_at to `leaseUntil` so no other worker
 * takes it meanwhile. Undefined when it is not due (done, or another worker has it).
 */
export async function claimTerminalRefund(db: Executor, id: string, now: Date, leaseUntil: Date) {
  const [row] = await db
    .update(refunds)
    .set({ nextAttemptAt: leaseUntil, updatedAt: now })
    .where(and(eq(refunds.id, id), eq(refunds.status, 'PENDING'), lte(refunds.nextAttemptAt, now)))
    .returning();
  return row;
}

export async function setRefundNextAttempt(
  db: Executor,
  id: string,
  nextAttemptAt: Date | null,
): Promise<void> {
  await db.update(refunds).set({ nextAttemptAt }).where(eq(refunds.id, id));
}

/** Claims a due settlement (PENDING or SENT, settle_next_at reached). */
export async function claimSettlement(db: Executor, id: string, now: Date, leaseUntil: Date) {
  const [row] = await db
    .update(terminalOrders)
    .set({ settleNextAt: leaseUntil })
    .where(
      and(
        eq(terminalOrders.id, id),
        inArray(terminalOrders.settleStatus, ['PENDING', 'SENT']),
        lte(terminalOrders.settleNextAt, now),
      ),
    )
    .returning();
  return row;
}

export type TerminalExceptionKind =
  'NO_DISPENSE_REPORT' | 'REFUND_FAILED' | 'CALLBACK_GAVE_UP' | 'SETTLE_FAILED';

function exceptionCondition(kind: TerminalExceptionKind, paidBefore: Date) {
  switch (kind) {
    case 'NO_DISPENSE_REPORT':
      return and(
        eq(terminalOrders.status, 'PAID'),
        isNull(terminalOrders.dispenseResult),
        lt(terminalOrders.paidAt, paidBefore),
      );
    case 'CALLBACK_GAVE_UP':
      return eq(terminalOrders.callbackStatus, 'GAVE_UP');
    case 'SETTLE_FAILED':
      return eq(terminalOrders.settleStatus, 'FAILED');
    case 'REFUND_FAILED':
      return sql`exists (select 1 from ${refunds} where ${refunds.terminalOrderId} = ${terminalOrders.id} and ${refunds.status} = 'FAILED')`;
  }
}

/** Orders of one exception kind (README "Terminals": what the admins must look at), newest first. */
export function terminalExceptions(
  db: Executor,
  schoolId: string,
  kind: TerminalExceptionKind,
  page: { paidBefore: Date; beforeCreatedAt?: Date; limit: number },
) {
  return db
    .select({ order: terminalOrders, terminal: terminals })
    .from(terminalOrders)
    .innerJoin(terminals, eq(terminals.id, terminalOrders.terminalRef))
    .where(
      and(
        eq(terminalOrders.schoolId, schoolId),
        exceptionCondition(kind, page.paidBefore),
        page.beforeCreatedAt ? lt(terminalOrders.createdAt, page.beforeCreatedAt) : undefined,
      ),
    )
    .orderBy(desc(terminalOrders.createdAt))
    .limit(page.limit);
}

export async function countTerminalExceptions(
  db: Executor,
  schoolId: string,
  kind: TerminalExceptionKind,
  paidBefore: Date,
): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(terminalOrders)
    .where(and(eq(terminalOrders.schoolId, schoolId), exceptionCondition(kind, paidBefore)));
  return row.n;
}

/** NOTIFY channel of due callbacks (db/wakeups.ts): sent after a payment commits. */
export const TERMINAL_CALLBACKS_DUE_CHANNEL = 'terminal_callbacks_due';

/**
 * Leases up to `limit` due callbacks (FOR UPDATE SKIP LOCKED: drainers side by side never take the same
 * row): their callback_next_at moves to `leaseUntil`, so a drainer that dies gives them back then.
 */
export async function claimDueCallbacks(
  db: Executor,
  opts: { now: Date; leaseUntil: Date; limit: number },
): Promise<TerminalOrderRow[]> {
  const { rows } = await db.execute<{ id: string }>(sql`
    update terminal_orders o set callback_next_at = ${opts.leaseUntil}
    from (
      select id from terminal_orders
      where callback_status = 'PENDING' and callback_next_at <= ${opts.now}
      order by callback_next_at
      limit ${opts.limit}
      for update skip locked
    ) due
    where o.id = due.id
    returning o.id`);
  if (rows.length === 0) return [];
  return db
    .select()
    .from(terminalOrders)
    .where(
      inArray(
        terminalOrders.id,
        rows.map((r) => String(r.id)),
      ),
    );
}

/** Gives back claimed callbacks not started (due now), each only while its lease is still the one given. */
export async function releaseCallbackLeases(
  db: Executor,
  rows: TerminalOrderRow[],
  now: Date,
): Promise<void> {
  for (const row of rows)
    await db
      .update(terminalOrders)
      .set({ callbackNextAt: now })
      .where(
        and(
          eq(terminalOrders.id, row.id),
          eq(terminalOrders.callbackStatus, 'PENDING'),
          eq(terminalOrders.callbackNextAt, row.callbackNextAt!),
        ),
      );
}

export async function nextCallbackDueAt(db: Executor): Promise<Date | null> {
  const [row] = await db
    .select({ at: sql<Date | null>`min(${terminalOrders.callbackNextAt})` })
    .from(terminalOrders)
    .where(eq(terminalOrders.callbackStatus, 'PENDING'));
  return row?.at ? new Date(row.at) : null;
}

/** The paid terminal payments made for a card (the payer's own card at the school), in a time window. */
export function paymentsOfCard(
  db: Executor,
  card: { schoolId: string; cardNo: string },
  from: Date,
  to: Date,
): Promise<Array<{ payment: TerminalPaymentRow; order: TerminalOrderRow; terminal: TerminalRow }>> {
  return db
    .select({ payment: terminalPayments, order: terminalOrders, terminal: terminals })
    .from(terminalPayments)
    .innerJoin(terminalOrders, eq(terminalOrders.id, terminalPayments.orderId))
    .innerJoin(terminals, eq(terminals.id, terminalOrders.terminalRef))
    .where(
      and(
        eq(terminalPayments.schoolId, card.schoolId),
        eq(terminalPayments.cardNo, card.cardNo),
        eq(terminalPayments.status, 'PAID'),
        sql`${terminalPayments.paidAt} between ${from} and ${to}`,
      ),
    );
}

export async function findPaymentWithOrder(db: Executor, paymentId: string) {
  const [row] = await db
    .select({ payment: terminalPayments, order: terminalOrders, terminal: terminals })
    .from(terminalPayments)
    .innerJoin(terminalOrders, eq(terminalOrders.id, terminalPayments.orderId))
    .innerJoin(terminals, eq(terminals.id, terminalOrders.terminalRef))
    .where(eq(terminalPayments.id, paymentId));
  return row;
}

// ---- the exceptions inbox (issue 13's, the terminal orders' kind) -------------------------------------------

export async function findOrderOfSchool(
  db: Executor,
  schoolId: string,
  id: string,
): Promise<TerminalOrderRow | undefined> {
  const [row] = await db
    .select()
    .from(terminalOrders)
    .where(and(eq(terminalOrders.id, id), eq(terminalOrders.schoolId, schoolId)));
  return row;
}

/** The order's refunds Alipay refused that no admin has taken out of the inbox. */
export function failedRefundsOfOrder(db: Executor, orderId: string) {
  return db
    .select()
    .from(refunds)
    .where(and(eq(refunds.terminalOrderId, orderId), eq(refunds.status, 'FAILED'), isNull(refunds.handledAt)))
    .orderBy(asc(refunds.createdAt));
}

/** A callback that gave up is due again now, for one more attempt (its schedule is spent). */
export async function reopenGaveUpCallback(
  db: Executor,
  id: string,
  now: Date,
): Promise<TerminalOrderRow | undefined> {
  const [row] = await db
    .update(terminalOrders)
    .set({ callbackStatus: 'PENDING', callbackNextAt: now, updatedAt: now })
    .where(and(eq(terminalOrders.id, id), eq(terminalOrders.callbackStatus, 'GAVE_UP')))
    .returning();
  return row;
}

/** A FAILED settlement set going again (an admin's retry); undefined when it is not FAILED (any more). */
export async function reopenFailedSettlement(
  db: Executor,
  id: string,
  patch: Partial<NewTerminalOrder>,
): Promise<TerminalOrderRow | undefined> {
  const [row] = await db
    .update(terminalOrders)
    .set(patch)
    .where(and(eq(terminalOrders.id, id), eq(terminalOrders.settleStatus, 'FAILED')))
    .returning();
  return row;
}

/** A settlement's result, unless it has one already (PENDING or SENT only): whether it moved. */
export async function finishSettlementIfOpen(
  db: Executor,
  id: string,
  patch: Pick<Partial<NewTerminalOrder>, 'settleStatus' | 'settleLastError' | 'settledAt' | 'updatedAt'>,
): Promise<boolean> {
  const rows = await db
    .update(terminalOrders)
    .set({ ...patch, settleNextAt: null })
    .where(and(eq(terminalOrders.id, id), inArray(terminalOrders.settleStatus, ['PENDING', 'SENT'])))
    .returning({ id: terminalOrders.id });
  return rows.length > 0;
}
