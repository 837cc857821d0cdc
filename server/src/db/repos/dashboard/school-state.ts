import { sql } from 'drizzle-orm';
import type { Executor } from '../../client.js';

/**
 * What a school's dashboard shows as it is right now: open work only, each read through a partial index
 * over the few rows that are not finished (never the school's settled history).
 */

export interface OpenCount {
  status: string;
  count: number;
  amountFen: number;
  oldest: Date | null;
}

function counts(rows: Array<{ status: string; n: number; fen: number; oldest: Date | null }>): OpenCount[] {
  return rows.map((r) => ({
    status: r.status,
    count: Number(r.n),
    amountFen: Number(r.fen),
    oldest: r.oldest ? new Date(r.oldest) : null,
  }));
}

/** RETRYING and ARREARS deductions: count, amount owed, oldest. */
export async function openDeductionDebts(db: Executor, schoolId: string): Promise<OpenCount[]> {
  const { rows } = await db.execute<{ status: string; n: number; fen: number; oldest: Date | null }>(sql`
    select status, count(*)::int as n, coalesce(sum(amount_fen), 0)::bigint as fen, min(created_at) as oldest
    from deductions where school_id = ${schoolId} and status in ('RETRYING', 'ARREARS') group by status`);
  return counts(rows);
}

/** Recharges waiting to be paid (CREATED), to be credited (PAID), or for a person (CREDIT_FAILED). */
export async function openRecharges(db: Executor, schoolId: string): Promise<OpenCount[]> {
  const { rows } = await db.execute<{ status: string; n: number; fen: number; oldest: Date | null }>(sql`
    select status, count(*)::int as n, coalesce(sum(amount_fen), 0)::bigint as fen,
           min(coalesce(paid_at, created_at)) as oldest
    from recharge_orders where school_id = ${schoolId} and status in ('CREATED', 'PAID', 'CREDIT_FAILED')
    group by status`);
  return counts(rows);
}

/** Refunds not (yet) through: PENDING and FAILED. */
export async function openRefunds(db: Executor, schoolId: string): Promise<OpenCount[]> {
  const { rows } = await db.execute<{ status: string; n: number; fen: number; oldest: Date | null }>(sql`
    select status, count(*)::int as n, coalesce(sum(amount_fen), 0)::bigint as fen, min(created_at) as oldest
    from refunds where school_id = ${schoolId} and status <> 'SUCCEEDED' and handled_at is null group by status`);
  return counts(rows);
}

export async function activeBindingCount(db: Executor, schoolId: string): Promise<number> {
  const { rows } = await db.execute<{ n: number }>(
    sql`select count(*)::int as n from bindings where school_id = ${schoolId} and status = 'ACTIVE'`,
  );
  return Number(rows[0].n);
}

/** ACTIVE and PENDING agreements. */
export async function openAgreements(db: Executor, schoolId: string): Promise<OpenCount[]> {
  const { rows } = await db.execute<{ status: string; n: number; fen: number; oldest: Date | null }>(sql`
    select status, count(*)::int as n, 0::bigint as fen, min(created_at) as oldest
    from withholding_agreements where school_id = ${schoolId} and status in ('ACTIVE', 'PENDING')
    group by status`);
  return counts(rows);
}

/**
 * The job backlog: how many of the school's deductions are due for collection and not yet charged, and
 * since when the oldest has waited; the same for paid recharges waiting for the card system.
 */
export async function dueWork(
  db: Executor,
  schoolId: string,
  now: Date,
): Promise<{
  deductionsDue: number;
  oldestDeductionDue: Date | null;
  creditsDue: number;
  oldestCreditDue: Date | null;
}> {
  const { rows } = await db.execute<{
    d_n: number;
    d_oldest: Date | null;
    r_n: number;
    r_oldest: Date | null;
  }>(sql`
    select
      (select count(*)::int from deductions
        where status in ('PENDING', 'RETRYING') and next_attempt_at <= ${now} and school_id = ${schoolId}) as d_n,
      (select min(next_attempt_at) from deductions
        where status in ('PENDING', 'RETRYING') and next_attempt_at <= ${now} and school_id = ${schoolId}) as d_oldest,
      (select count(*)::int from recharge_orders
        where school_id = ${schoolId} and status = 'PAID') as r_n,
      (select min(paid_at) from recharge_orders
        where school_id = ${schoolId} and status = 'PAID') as r_oldest`);
  const r = rows[0];
  return {
    deductionsDue: Number(r.d_n),
    oldestDeductionDue: r.d_oldest ? new Date(r.d_oldest) : null,
    creditsDue: Number(r.r_n),
    oldestCreditDue: r.r_oldest ? new Date(r.r_oldest) : null,
  };
}
