import type pg from 'pg';

/**
 * What `/metrics` reads from the database at each scrape (routes/metrics.ts): counts of the states that
 * need attention, and the backlog of each drainer and job. Each query stays on a partial index, so a
 * scrape costs milliseconds however many settled rows there are. A new drainer or open state adds a
 * query here and a gauge in lib/metrics.ts.
 */
export interface PlatformState {
  rechargesByStatus: Array<{ status: string; count: number }>;
  deductionsByStatus: Array<{ status: string; count: number }>;
  backlogs: Array<{ drainer: string; count: number; oldestDueAt: Date | null }>;
  jobsDue: Array<{ job: string; count: number; oldestDueAt: Date | null }>;
  refundsByStatus: Array<{ status: string; count: number }>;
}

export async function readPlatformState(pool: pg.Pool, now: Date): Promise<PlatformState> {
  const [recharges, deductions, credit, collect, jobs, refunds] = await Promise.all([
    pool.query<{ status: string; count: number }>(
      `select status, count(*)::int as count from recharge_orders
       where status in ('CREATED', 'PAID', 'CREDIT_FAILED') group by status`,
    ),
    pool.query<{ status: string; count: number }>(
      `select status, count(*)::int as count from deductions
       where status in ('PENDING', 'RETRYING', 'ARREARS') group by status
       union all
       select 'CHARGE_UNKNOWN', count(*)::int from deductions
       where status in ('PENDING', 'RETRYING') and charge_state = 'UNKNOWN'`,
    ),
    pool.query<{ count: number; oldest: Date | null }>(
      `select count(*)::int as count, min(next_credit_at) as oldest from recharge_orders
       where status = 'PAID' and next_credit_at <= $1`,
      [now],
    ),
    pool.query<{ count: number; oldest: Date | null }>(
      `select count(*)::int as count, min(next_attempt_at) as oldest from deductions
       where status in ('PENDING', 'RETRYING') and next_attempt_at <= $1 and repayment_id is null`,
      [now],
    ),
    pool.query<{ job: string; count: number; oldest: Date | null }>(
      `select name as job, count(*)::int as count, min(next_run_at) as oldest from agenda_jobs
       where next_run_at <= now() and locked_at is null and not coalesce(disabled, false) group by name`,
    ),
    pool.query<{ status: string; count: number }>(
      `select status, count(*)::int as count from refunds where status in ('PENDING', 'FAILED') group by status`,
    ),
  ]);
  return {
    rechargesByStatus: recharges.rows,
    deductionsByStatus: deductions.rows,
    backlogs: [
      { drainer: 'recharge.credit', count: credit.rows[0].count, oldestDueAt: credit.rows[0].oldest },
      { drainer: 'deduction.collect', count: collect.rows[0].count, oldestDueAt: collect.rows[0].oldest },
    ],
    jobsDue: jobs.rows.map((row) => ({ job: row.job, count: row.count, oldestDueAt: row.oldest })),
    refundsByStatus: refunds.rows,
  };
}
