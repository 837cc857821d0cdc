import { and, asc, desc, eq, getTableColumns, inArray, isNull, lt, lte, sql } from 'drizzle-orm';
import type pg from 'pg';
import { preparedPerDatabase, rawStatement, type Database, type Executor } from '../../client.js';
import {
  gatewayClients,
  refunds,
  schools,
  terminalOrders,
  terminalPayments,
  terminals,
} from '../../schema.js';
import { notificationValues, recordNotificationIf, type NotificationEntry } from '../notify/notify-log.js';
import type { SchoolRow } from '../schools/schools.js';
import { storeQrCodeIfNone } from './batched-writes.js';
import type { TerminalRow, TerminalVersions } from './terminals.js';

export type TerminalOrderRow = typeof terminalOrders.$inferSelect;
export type NewTerminalOrder = typeof terminalOrders.$inferInsert;
export type TerminalPaymentRow = typeof terminalPayments.$inferSelect;
export type NewTerminalPayment = typeof terminalPayments.$inferInsert;

/** What the machine is told of an order (domain/terminals/orders.ts orderAnswer). */
export type AnsweredOrder = Pick<
  TerminalOrderRow,
  | 'orderNo'
  | 'outOrderNo'
  | 'terminalId'
  | 'status'
  | 'amountFen'
  | 'items'
  | 'expiresAt'
  | 'qrCode'
  | 'paidAt'
  | 'closedAt'
  | 'dispenseResult'
  | 'failedItems'
  | 'dispensedAt'
>;

/** A paid order as its callback needs it: the answer, and the attempt and lease it is at. */
export type CallbackOrder = AnsweredOrder &
  Pick<TerminalOrderRow, 'id' | 'callbackAttempts' | 'callbackNextAt'>;

/** An order with what every rule about it needs: its terminal and its school. */
export interface OrderContext {
  order: TerminalOrderRow;
  terminal: TerminalRow;
  school: SchoolRow;
}

/** What a new order is made of (the rest are defaults: CREATED, nothing paid). */
export type OrderToMake = Pick<
  NewTerminalOrder,
  | 'orderNo'
  | 'schoolId'
  | 'terminalRef'
  | 'terminalId'
  | 'outOrderNo'
  | 'requestHash'
  | 'items'
  | 'amountFen'
  | 'subject'
  | 'expiresAt'
  | 'sellerId'
  | 'royaltyAccount'
  | 'royaltyFen'
  | 'royaltyTiming'
  | 'qrCode'
>;

/**
 * The order (with its QR, when Alipay gave one) and its 当面付 payment (seq 0, out_trade_no `qrOutTradeNo`) in
 * one statement, committed together: whether it was made. A new order is exactly `order` with the columns'
 * defaults (CREATED, nothing paid), so nothing is read back (a row of ~40 columns parsed and mapped per order).
 * Made only while the terminal and its school are ACTIVE and still the rows the caller read (`versions`):
 * the caller took the order's money fields, timeout and subject from them, possibly from a copy kept in
 * its process. Nothing is made (false) when (terminal, outOrderNo) exists already or the terminal or
 * school changed meanwhile; the caller reads again to tell which.
 */
export async function insertOrderWithQrPayment(
  db: Database,
  order: OrderToMake,
  qrOutTradeNo: string,
  versions: TerminalVersions,
): Promise<boolean> {
  const rows = await insertOrderQuery(db).execute(db, {
    ...order,
    items: JSON.stringify(order.items),
    sellerId: order.sellerId ?? null,
    royaltyAccount: order.royaltyAccount ?? null,
    royaltyFen: order.royaltyFen ?? null,
    royaltyTiming: order.royaltyTiming ?? null,
    qrCode: order.qrCode ?? null,
    qrOutTradeNo,
    terminalVersion: versions.terminal,
    schoolVersion: versions.school,
  });
  return rows.length > 0;
}

const insertOrderQuery = preparedPerDatabase((db) => {
  const value = (name: string) => sql.placeholder(name);
  const made = db.$with('made', { id: terminalOrders.id, schoolId: terminalOrders.schoolId }).as(sql`
    insert into terminal_orders (order_no, school_id, terminal_ref, terminal_id, out_order_no, request_hash, items,
                                 amount_fen, subject, expires_at, seller_id, royalty_account, royalty_fen, royalty_timing,
                                 qr_code)
    select ${value('orderNo')}::text, ${value('schoolId')}::uuid, ${value('terminalRef')}::uuid,
           ${value('terminalId')}::text, ${value('outOrderNo')}::text, ${value('requestHash')}::text,
           ${value('items')}::jsonb, ${value('amountFen')}::int, ${value('subject')}::text,
           ${value('expiresAt')}::timestamptz, ${value('sellerId')}::text, ${value('royaltyAccount')}::text,
           ${value('royaltyFen')}::int, ${value('royaltyTiming')}::text, ${value('qrCode')}::text
     where exists (select 1 from terminals t join schools s on s.id = t.school_id
                    where t.id = ${value('terminalRef')}::uuid and t.status = 'ACTIVE' and s.status = 'ACTIVE'
                      and t.xmin = ${value('terminalVersion')}::xid and s.xmin = ${value('schoolVersion')}::xid)
    on conflict do nothing
    returning id, school_id`);
  const payment = db.$with('payment', {}).as(sql`
    insert into terminal_payments (order_id, school_id, channel, seq, out_trade_no)
    select id, school_id, 'QR', 0, ${value('qrOutTradeNo')}::text from made`);
  return rawStatement('terminal_order_insert', db.with(made, payment).select({ id: made.id }).from(made));
});

/**
 * Stores the order's QR unless it has one already (another process's request was first): the order as
 * stored. The write is batched with other orders' (batched-writes.ts).
 */
export async function setQrCodeIfNone(
  deps: { db: Database; pool: pg.Pool },
  order: TerminalOrderRow,
  qrCode: string,
  now: Date,
): Promise<TerminalOrderRow> {
  if (await storeQrCodeIfNone(deps.pool, { id: order.id, qrCode, at: now }))
    return { ...order, qrCode, updatedAt: now };
  const [stored] = await deps.db.select().from(terminalOrders).where(eq(terminalOrders.id, order.id));
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

/** What the school's side of a paid order needs afterwards: its app_auth_token (SchoolConnections.appAuthToken). */
export type SchoolOfPayment = Pick<SchoolRow, 'id' | 'updatedAt' | 'alipayAppAuthTokenEnc'>;

/** A paid order as the common case leaves it, with what telling its machine and closing the rest need. */
export interface PaidOpenOrder {
  order: CallbackOrder;
  /** The order's other payments still CREATED (to close), as of the statement's start. */
  others: Array<Pick<TerminalPaymentRow, 'id' | 'channel' | 'outTradeNo'>>;
  paidWith: TerminalPaymentRow['channel'];
  callbackUrl: string | null;
  client: { id: string; secretEnc: string } | null;
  school: SchoolOfPayment;
}

/**
 * The common case of a confirmed payment, in one statement: while the payment (by out_trade_no) and its order
 * are both still CREATED and the notification's facts are the order's — `paidFen` its amount; `sellerId` the
 * account it collects into, when it has one; `authAppId` the school's authorized app, when both have one
 * (checkTradeFacts' rules) — the payment becomes PAID and pays the order, and the notification is recorded
 * in notify_log with it. When the terminal takes callbacks, the callback is PENDING and leased to the caller
 * until `callbackLeaseUntil`: it sends it at once, and the drainer takes it only if the lease runs out.
 * Locks the order row before the payment's, as applyTerminalPayment does. Undefined when anything differs
 * (the caller then decides in a transaction, which also rejects facts that do not match). The facts
 * conditions must stay no looser than checkTradeFacts (domain/notify/notifications.ts): a rule added there
 * needs its condition here, or this statement would pay what that function rejects.
 */
export async function payOrderIfOpen(
  db: Database,
  target: {
    outTradeNo: string;
    paidFen: number;
    sellerId: string | null;
    authAppId: string | null;
    callbackLeaseUntil: Date;
  },
  paid: { tradeNo: string; buyerId: string | null; at: Date },
  notification: NotificationEntry,
): Promise<PaidOpenOrder | undefined> {
  const [values] = await payOrderQuery(db).execute(db, {
    ...target,
    ...paid,
    ...notificationValues(notification),
  });
  if (!values) return undefined;
  const row = Object.fromEntries(PAID_FIELDS.map((field, i) => [field, values[i]])) as PaidRow;
  const {
    others,
    paidWith,
    callbackUrl,
    clientId,
    secretEnc,
    schoolId,
    schoolUpdatedAt,
    tokenEnc,
    ...order
  } = row;
  return {
    order,
    others,
    paidWith,
    callbackUrl,
    client: clientId && secretEnc ? { id: clientId, secretEnc } : null,
    school: { id: schoolId, updatedAt: schoolUpdatedAt, alipayAppAuthTokenEnc: tokenEnc },
  };
}

/** The columns of CallbackOrder, and the order's school: what the paying statement reads back. */
const paidColumns = (() => {
  const c = getTableColumns(terminalOrders);
  return {
    id: c.id,
    orderNo: c.orderNo,
    outOrderNo: c.outOrderNo,
    terminalId: c.terminalId,
    status: c.status,
    amountFen: c.amountFen,
    items: c.items,
    expiresAt: c.expiresAt,
    qrCode: c.qrCode,
    paidAt: c.paidAt,
    closedAt: c.closedAt,
    dispenseResult: c.dispenseResult,
    failedItems: c.failedItems,
    dispensedAt: c.dispensedAt,
    callbackAttempts: c.callbackAttempts,
    callbackNextAt: c.callbackNextAt,
    schoolId: c.schoolId,
  };
})();

/** What the paying statement answers, by field (pg's parsers make these types; PAID_FIELDS their order). */
type PaidRow = CallbackOrder & {
  schoolId: string;
  others: PaidOpenOrder['others'];
  paidWith: PaidOpenOrder['paidWith'];
  callbackUrl: string | null;
  clientId: string | null;
  secretEnc: string | null;
  schoolUpdatedAt: Date;
  tokenEnc: string | null;
};

/** The paying statement's fields in the order it selects them (its `select` below spreads them so). */
const PAID_FIELDS = [
  ...Object.keys(paidColumns),
  'others',
  'paidWith',
  'callbackUrl',
  'clientId',
  'secretEnc',
  'schoolUpdatedAt',
  'tokenEnc',
] as const;

const payOrderQuery = preparedPerDatabase((db) => {
  const value = (name: string) => sql.placeholder(name);
  const openOrder = db.$with('open_order', {}).as(sql`
    select o.id, p.id as payment_id, p.channel, nullif(t.callback_url, '') as callback_url,
           g.id as client_id, g.secret_enc, s.updated_at as school_updated_at,
           s.alipay_app_auth_token_enc as token_enc
      from terminal_payments p
      join terminal_orders o on o.id = p.order_id
      join terminals t on t.id = o.terminal_ref
      join schools s on s.id = o.school_id
      left join gateway_clients g on g.id = t.gateway_client_id
     where p.out_trade_no = ${value('outTradeNo')}::text and p.status = 'CREATED' and o.status = 'CREATED'
       and o.amount_fen = ${value('paidFen')}::int
       and (coalesce(o.seller_id, s.alipay_seller_id, '') = ''
            or coalesce(o.seller_id, s.alipay_seller_id) = ${value('sellerId')}::text)
       and (coalesce(s.alipay_auth_app_id, '') = '' or ${value('authAppId')}::text is null
            or s.alipay_auth_app_id = ${value('authAppId')}::text)
       for update of o`);
  const moved = db.$with('moved', {}).as(sql`
    update terminal_payments
       set status = 'PAID', alipay_trade_no = ${value('tradeNo')}::text, buyer_id = ${value('buyerId')}::text,
           paid_at = ${value('at')}::timestamptz, updated_at = ${value('at')}::timestamptz
     where id = (select payment_id from open_order) and status = 'CREATED'
    returning id`);
  const paidOrder = db.$with('paid', paidColumns).as(sql`
    update terminal_orders
       set status = 'PAID', paid_payment_id = (select id from moved), paid_at = ${value('at')}::timestamptz,
           updated_at = ${value('at')}::timestamptz,
           callback_status = case when (select callback_url from open_order) is null then callback_status
                                  else 'PENDING' end,
           callback_next_at = case when (select callback_url from open_order) is null then callback_next_at
                                   else ${value('callbackLeaseUntil')}::timestamptz end
     where id in (select id from open_order) and exists (select 1 from moved)
    returning ${sql.raw(
      Object.values(paidColumns)
        .map((column) => column.name)
        .join(', '),
    )}`);
  const recorded = db.$with('recorded', {}).as(recordNotificationIf(sql`exists (select 1 from paid)`));
  const open = (column: string) => sql.raw(`(select ${column} from open_order)`);
  const selection = {
    ...paidOrder._.selectedFields,
    others: sql`
        coalesce((select json_agg(json_build_object('id', id, 'channel', channel, 'outTradeNo', out_trade_no))
                    from terminal_payments
                   where order_id = (select id from open_order) and id <> (select id from moved)
                     and status = 'CREATED'), '[]')`,
    paidWith: sql`${open('channel')}`,
    callbackUrl: sql`${open('callback_url')}`,
    clientId: sql`${open('client_id')}`,
    secretEnc: sql`${open('secret_enc')}`,
    schoolUpdatedAt: sql`${open('school_updated_at')}`,
    tokenEnc: sql`${open('token_enc')}`,
  };
  if (Object.keys(selection).join() !== PAID_FIELDS.join())
    throw new Error('terminal_order_pay: PAID_FIELDS must list the selection in order');
  return rawStatement(
    'terminal_order_pay',
    db.with(openOrder, moved, paidOrder, recorded).select(selection).from(paidOrder),
  );
});

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

/** A leased callback with what sending it needs: where, the terminal's HMAC client, how it was paid. */
export interface DueCallback {
  /** The order's id. */
  id: string;
  order: CallbackOrder;
  callbackUrl: string | null;
  client: { id: string; secretEnc: string } | null;
  paidWith: TerminalPaymentRow['channel'] | null;
}

/**
 * Leases up to `limit` due callbacks (FOR UPDATE SKIP LOCKED: drainers side by side never take the same
 * row) and reads them with what sending needs, in one statement: their callback_next_at moves to
 * `leaseUntil`, so a drainer that dies gives them back then.
 */
export async function claimDueCallbacks(
  db: Database,
  opts: { now: Date; leaseUntil: Date; limit: number },
): Promise<DueCallback[]> {
  const rows = await claimCallbacksQuery(db).execute(opts);
  // The statement read the rows as they were before its own update: they carry the lease given now.
  return rows.map((row) => ({
    id: row.order.id,
    order: { ...row.order, callbackNextAt: opts.leaseUntil },
    callbackUrl: row.callbackUrl,
    client: row.clientId && row.secretEnc ? { id: row.clientId, secretEnc: row.secretEnc } : null,
    paidWith: row.paidWith,
  }));
}

const claimCallbacksQuery = preparedPerDatabase((db) => {
  const leased = db.$with('leased', { id: terminalOrders.id }).as(sql`
    update terminal_orders o set callback_next_at = ${sql.placeholder('leaseUntil')}
    from (
      select id from terminal_orders
      where callback_status = 'PENDING' and callback_next_at <= ${sql.placeholder('now')}
      order by callback_next_at
      limit ${sql.placeholder('limit')}
      for update skip locked
    ) due
    where o.id = due.id
    returning o.id`);
  return db
    .with(leased)
    .select({
      order: terminalOrders,
      callbackUrl: terminals.callbackUrl,
      clientId: gatewayClients.id,
      secretEnc: gatewayClients.secretEnc,
      paidWith: terminalPayments.channel,
    })
    .from(leased)
    .innerJoin(terminalOrders, eq(terminalOrders.id, leased.id))
    .innerJoin(terminals, eq(terminals.id, terminalOrders.terminalRef))
    .leftJoin(gatewayClients, eq(gatewayClients.id, terminals.gatewayClientId))
    .leftJoin(terminalPayments, eq(terminalPayments.id, terminalOrders.paidPaymentId))
    .prepare('terminal_callbacks_claim');
});

/** Gives back claimed callbacks not started (due now), each only while its lease is still the one given. */
export async function releaseCallbackLeases(
  db: Executor,
  rows: Array<Pick<TerminalOrderRow, 'id' | 'callbackNextAt'>>,
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

/** What one callback attempt came to (no row read back: the drainer is done with it). */
export async function recordCallbackAttempt(
  db: Executor,
  id: string,
  patch: Pick<
    Partial<NewTerminalOrder>,
    | 'callbackStatus'
    | 'callbackAttempts'
    | 'callbackNextAt'
    | 'callbackLastError'
    | 'callbackAcknowledgedAt'
    | 'updatedAt'
  >,
): Promise<void> {
  await db.update(terminalOrders).set(patch).where(eq(terminalOrders.id, id));
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
