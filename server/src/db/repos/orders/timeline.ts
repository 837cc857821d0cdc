import { sql } from 'drizzle-orm';
import type { Executor } from '../../client.js';

/** The raw pieces of an order's timeline (domain/orders/order-detail.ts puts them in order). */

export interface StatusChangeRow {
  orderNo: string;
  fromStatus: string | null;
  toStatus: string;
  changedAt: Date;
}

/** Status changes of the orders with these numbers, and of the refunds of them. */
export async function listStatusChanges(db: Executor, orderNos: string[]): Promise<StatusChangeRow[]> {
  const { rows } = await db.execute<Record<string, unknown>>(sql`
    select order_no, from_status, to_status, changed_at from order_status_changes
    where order_no = any(${sql.param(orderNos)}::text[]) or parent_no = any(${sql.param(orderNos)}::text[])
    order by id`);
  return rows.map((r) => ({
    orderNo: String(r.order_no),
    fromStatus: (r.from_status as string | null) ?? null,
    toStatus: String(r.to_status),
    changedAt: new Date(r.changed_at as string),
  }));
}

export interface NotificationRow {
  receivedAt: Date;
  notifyType: string | null;
  isVerified: boolean;
  outcome: string;
  detail: string | null;
  tradeStatus: string | null;
}

/** The Alipay notifications received for these out_trade_nos / external agreement numbers. */
export async function listNotifications(db: Executor, outTradeNos: string[]): Promise<NotificationRow[]> {
  const { rows } = await db.execute<Record<string, unknown>>(sql`
    select received_at, notify_type, is_verified, outcome, detail, body->>'trade_status' as trade_status
    from notify_log where out_trade_no = any(${sql.param(outTradeNos)}::text[]) order by id`);
  return rows.map((r) => ({
    receivedAt: new Date(r.received_at as string),
    notifyType: (r.notify_type as string | null) ?? null,
    isVerified: r.is_verified === true,
    outcome: String(r.outcome),
    detail: (r.detail as string | null) ?? null,
    tradeStatus: (r.trade_status as string | null) ?? null,
  }));
}

export interface AdminActionRow {
  occurredAt: Date;
  actorKind: string;
  actorId: string;
  action: string;
  after: Record<string, unknown> | null;
}

/** What admins, the operator or the platform did to these orders (audit_log rows targeting them). */
export async function listAuditOfTargets(
  db: Executor,
  schoolId: string,
  targets: string[],
): Promise<AdminActionRow[]> {
  const { rows } = await db.execute<Record<string, unknown>>(sql`
    select occurred_at, actor_kind, actor_id, action, after from audit_log
    where school_id = ${schoolId} and target = any(${sql.param(targets)}::text[]) order by id`);
  return rows.map((r) => ({
    occurredAt: new Date(r.occurred_at as string),
    actorKind: String(r.actor_kind),
    actorId: String(r.actor_id),
    action: String(r.action),
    after: (r.after as Record<string, unknown> | null) ?? null,
  }));
}
