import { sql, type SQL } from 'drizzle-orm';
import type { Executor } from '../../client.js';

/**
 * The queries behind the exceptions inbox (domain/inbox/): one per kind, each over a partial index of the
 * few rows that need a person, oldest first, paged by (since, id).
 */

export interface InboxRow {
  id: string;
  since: Date;
  orderNo: string | null;
  cardNo: string | null;
  amountFen: number | null;
  status: string;
  detail: string | null;
}

export interface InboxPage {
  after?: { since: Date; id: string };
  limit: number;
}

function rowsOf(rows: Array<Record<string, unknown>>): InboxRow[] {
  return rows.map((r) => ({
    id: String(r.id),
    since: new Date(r.since as string),
    orderNo: (r.order_no as string | null) ?? null,
    cardNo: (r.card_no as string | null) ?? null,
    amountFen: r.amount_fen === null || r.amount_fen === undefined ? null : Number(r.amount_fen),
    status: String(r.status),
    detail: (r.detail as string | null) ?? null,
  }));
}

function after(page: InboxPage, since: SQL, id: SQL): SQL {
  return page.after ? sql`and (${since}, ${id}) > (${page.after.since}, ${page.after.id}::uuid)` : sql``;
}

async function count(db: Executor, query: SQL): Promise<number> {
  const { rows } = await db.execute<{ n: number }>(query);
  return Number(rows[0]?.n ?? 0);
}

// CREDIT_FAILED recharges without a refund under way.
const creditFailedWhere = (schoolId: string) => sql`
  r.school_id = ${schoolId} and r.status = 'CREDIT_FAILED'
  and not exists (select 1 from refunds f where f.out_trade_no = r.out_trade_no)`;

export async function listCreditFailedRecharges(db: Executor, schoolId: string, page: InboxPage) {
  const { rows } = await db.execute(sql`
    select r.id, r.updated_at as since, r.out_trade_no as order_no, r.card_no, r.amount_fen, r.status,
           r.last_error as detail
    from recharge_orders r where ${creditFailedWhere(schoolId)} ${after(page, sql`r.updated_at`, sql`r.id`)}
    order by r.updated_at, r.id limit ${page.limit}`);
  return rowsOf(rows);
}

export function countCreditFailedRecharges(db: Executor, schoolId: string) {
  return count(
    db,
    sql`select count(*)::int as n from recharge_orders r where ${creditFailedWhere(schoolId)}`,
  );
}

// Refunds refused, or still not through after the retries: not handled by a person yet.
// Terminal refunds are the terminal orders' kind's (listTerminalOrderProblems below), with the order's other problems.
const stuckRefundsWhere = (schoolId: string, afterAttempts: number) => sql`
  f.school_id = ${schoolId} and f.status <> 'SUCCEEDED' and f.handled_at is null
  and (f.status = 'FAILED' or f.attempts >= ${afterAttempts}) and f.terminal_order_id is null`;

export async function listStuckRefunds(
  db: Executor,
  schoolId: string,
  afterAttempts: number,
  page: InboxPage,
) {
  const { rows } = await db.execute(sql`
    select f.id, f.created_at as since, f.out_trade_no as order_no, null as card_no, f.amount_fen,
           f.status, coalesce(f.last_error, f.kind) as detail, f.kind
    from refunds f where ${stuckRefundsWhere(schoolId, afterAttempts)}
      ${after(page, sql`f.created_at`, sql`f.id`)}
    order by f.created_at, f.id limit ${page.limit}`);
  return rowsOf(rows).map((row, i) => ({ ...row, refundKind: String(rows[i].kind) }));
}

export function countStuckRefunds(db: Executor, schoolId: string, afterAttempts: number) {
  return count(
    db,
    sql`select count(*)::int as n from refunds f where ${stuckRefundsWhere(schoolId, afterAttempts)}`,
  );
}

// Swipes Alipay has not paid: RETRYING (being retried) and ARREARS (given up), not inside a repayment.
const unpaidWhere = (schoolId: string) => sql`
  d.school_id = ${schoolId} and d.status in ('RETRYING', 'ARREARS') and d.repayment_id is null`;

export async function listUnpaidDeductions(db: Executor, schoolId: string, page: InboxPage) {
  const { rows } = await db.execute(sql`
    select d.id, d.created_at as since, d.deduction_no as order_no, d.card_no, d.amount_fen, d.status,
           d.last_error_code as detail
    from deductions d where ${unpaidWhere(schoolId)} ${after(page, sql`d.created_at`, sql`d.id`)}
    order by d.created_at, d.id limit ${page.limit}`);
  return rowsOf(rows);
}

export function countUnpaidDeductions(db: Executor, schoolId: string) {
  return count(db, sql`select count(*)::int as n from deductions d where ${unpaidWhere(schoolId)}`);
}

// Agreements Alipay has not confirmed to us for longer than the inbox's patience.
const stuckAgreementsWhere = (schoolId: string, before: Date) => sql`
  a.school_id = ${schoolId} and a.status = 'PENDING' and a.created_at < ${before}`;

export async function listStuckAgreements(db: Executor, schoolId: string, before: Date, page: InboxPage) {
  const { rows } = await db.execute(sql`
    select a.id, a.created_at as since, a.external_agreement_no as order_no, null as card_no,
           null::int as amount_fen, a.status, null as detail
    from withholding_agreements a where ${stuckAgreementsWhere(schoolId, before)}
      ${after(page, sql`a.created_at`, sql`a.id`)}
    order by a.created_at, a.id limit ${page.limit}`);
  return rowsOf(rows);
}

export function countStuckAgreements(db: Executor, schoolId: string, before: Date) {
  return count(
    db,
    sql`select count(*)::int as n from withholding_agreements a where ${stuckAgreementsWhere(schoolId, before)}`,
  );
}

// Cards the card system has not bound (or unbound) as their coverage says, for longer than that.
const outOfStep = (schoolId: string, before: Date) => sql`
  select b.id, greatest(c.updated_at, a.updated_at, b.updated_at) as since, b.card_no, 'NOT_BOUND' as status
  from agreement_cards c
  join withholding_agreements a on a.id = c.agreement_id
  join bindings b on b.id = c.binding_id
  where c.school_id = ${schoolId} and c.removed_at is null and a.status = 'ACTIVE' and a.user_id = b.user_id
    and b.status <> 'UNBOUND' and not b.is_withholding_payer
    and greatest(c.updated_at, a.updated_at, b.updated_at) < ${before}
  union all
  select b.id, b.updated_at as since, b.card_no, 'NOT_UNBOUND' as status from bindings b
  where b.school_id = ${schoolId} and b.is_withholding_payer and b.updated_at < ${before}
    and not exists (select 1 from agreement_cards c join withholding_agreements a on a.id = c.agreement_id
                    where c.binding_id = b.id and c.removed_at is null and a.status = 'ACTIVE'
                      and a.user_id = b.user_id)`;

export async function listCardsOutOfStep(db: Executor, schoolId: string, before: Date, page: InboxPage) {
  const { rows } = await db.execute(sql`
    select s.id, s.since, null as order_no, s.card_no, null::int as amount_fen, s.status, null as detail
    from (${outOfStep(schoolId, before)}) s
    where true ${after(page, sql`s.since`, sql`s.id`)}
    order by s.since, s.id limit ${page.limit}`);
  return rowsOf(rows);
}

export function countCardsOutOfStep(db: Executor, schoolId: string, before: Date) {
  return count(db, sql`select count(*)::int as n from (${outOfStep(schoolId, before)}) s`);
}

// Terminal orders a person must look at (issue 15), one row per order whose `status` lists its problems:
// NO_DISPENSE_REPORT (paid before `paidBefore`, the school's window, and the machine never said what came
// out), REFUND_FAILED (Alipay refused a refund of it), CALLBACK_GAVE_UP (the machine never acknowledged the
// paid callback), SETTLE_FAILED (the royalty split failed). Each part reads a partial index.
const terminalProblems = (schoolId: string, paidBefore: Date) => sql`
  select id as order_id, 1 as rank, 'NO_DISPENSE_REPORT' as problem from terminal_orders
   where school_id = ${schoolId} and status = 'PAID' and dispense_result is null and paid_at < ${paidBefore}
  union
  select terminal_order_id, 2, 'REFUND_FAILED' from refunds
   where school_id = ${schoolId} and status = 'FAILED' and handled_at is null and terminal_order_id is not null
  union
  select id, 3, 'CALLBACK_GAVE_UP' from terminal_orders where school_id = ${schoolId} and callback_status = 'GAVE_UP'
  union
  select id, 4, 'SETTLE_FAILED' from terminal_orders where school_id = ${schoolId} and settle_status = 'FAILED'`;

export async function listTerminalOrderProblems(
  db: Executor,
  schoolId: string,
  paidBefore: Date,
  page: InboxPage,
) {
  const since = sql`coalesce(o.paid_at, o.created_at)`;
  const { rows } = await db.execute(sql`
    select o.id, ${since} as since, o.order_no, null as card_no, o.amount_fen, p.problems as status,
           concat_ws(' · ', t.name || ' (' || t.terminal_id || ')',
             case when o.callback_status = 'GAVE_UP' then '回调: ' || o.callback_last_error end,
             case when o.settle_status = 'FAILED' then '分账: ' || o.settle_last_error end,
             (select '退款: ' || f.last_error from refunds f
               where f.terminal_order_id = o.id and f.status = 'FAILED' and f.handled_at is null
               order by f.created_at desc limit 1)) as detail
    from (select order_id, string_agg(problem, ',' order by rank) as problems
            from (${terminalProblems(schoolId, paidBefore)}) x group by order_id) p
    join terminal_orders o on o.id = p.order_id
    join terminals t on t.id = o.terminal_ref
    where o.school_id = ${schoolId} ${after(page, since, sql`o.id`)}
    order by ${since}, o.id limit ${page.limit}`);
  return rowsOf(rows);
}

export function countTerminalOrderProblems(db: Executor, schoolId: string, paidBefore: Date) {
  return count(
    db,
    sql`select count(distinct order_id)::int as n from (${terminalProblems(schoolId, paidBefore)}) x`,
  );
}
