import { and, eq, inArray, min, sql } from 'drizzle-orm';
import type { Executor } from '../../client.js';
import { campusCodePayments, type CHARGE_STATES } from '../../schema.js';
import type { CampusCodePaymentRow } from './payments.js';

export type ChargeState = (typeof CHARGE_STATES)[number];

export type ClaimedCampusCodePayment = CampusCodePaymentRow & {
  /**
   * The claim found no charge open and marked the row UNKNOWN on the drainer's behalf: from the claim until
   * the attempt is recorded, money may move (the same crash safety as claimDueDeductions).
   */
  isFreshCharge: boolean;
};

/**
 * Leases up to `limit` due payments to this drainer (FOR UPDATE SKIP LOCKED: any number of drainers claim
 * side by side; the lease, not a held lock, marks a row in flight while Alipay is called). A row with no
 * charge open is about to be charged: the same statement marks it UNKNOWN, so that a drainer that dies
 * between trade.pay and recording the answer leaves a row the next one queries first.
 */
export async function claimDueCampusCodePayments(
  db: Executor,
  opts: { now: Date; leaseUntil: Date; limit: number },
): Promise<ClaimedCampusCodePayment[]> {
  const { rows } = await db.execute<{ id: string; fresh: boolean }>(sql`
    update campus_code_payments p
    set lease_until = ${opts.leaseUntil},
        charge_state = case when due.fresh then 'UNKNOWN' else p.charge_state end,
        charge_open_since = case when due.fresh then ${opts.now}::timestamptz else p.charge_open_since end
    from (
      select id, charge_state is null as fresh from campus_code_payments
      where status in ('PENDING', 'RETRYING') and next_attempt_at <= ${opts.now}
        and (lease_until is null or lease_until < ${opts.now})
      order by next_attempt_at
      limit ${opts.limit}
      for update skip locked
    ) due
    where p.id = due.id
    returning p.id, due.fresh`);
  if (rows.length === 0) return [];
  const fresh = new Map(rows.map((r) => [String(r.id), r.fresh === true]));
  const claimed = await db
    .select()
    .from(campusCodePayments)
    .where(inArray(campusCodePayments.id, [...fresh.keys()]));
  return claimed.map((row) => ({ ...row, isFreshCharge: fresh.get(row.id) ?? false }));
}

/** The earliest time a payment will be due, for scheduling the drainer's next run. */
export async function nextCampusCodeDueAt(db: Executor): Promise<Date | null> {
  const [row] = await db
    .select({ at: min(campusCodePayments.nextAttemptAt) })
    .from(campusCodePayments)
    .where(inArray(campusCodePayments.status, ['PENDING', 'RETRYING']));
  return row?.at ? new Date(row.at) : null;
}

export interface ChargeAttempt {
  /** What the attempt found, recorded in campus_code_attempts: PAID, AWAITING_BUYER, NO_TRADE… */
  outcome: string;
  alipayCode?: string | null;
  alipaySubCode?: string | null;
  /** This attempt made a trade.pay call (counted in `attempts`). */
  isPayCall: boolean;
  /** Alipay answered the charge as failed: it uses a slot of the retry schedule (`retries_used`). */
  usesRetrySlot?: boolean;
  status: 'PENDING' | 'RETRYING' | 'PAID' | 'FAILED';
  nextAttemptAt: Date | null;
  chargeState: ChargeState | null;
  chargeOpenSince: Date | null;
  outTradeNo: string;
  alipayTradeNo?: string | null;
  lastErrorCode: string | null;
}

/** One drainer attempt to record: the payment it worked on, under the lease it held, and what came of it. */
export interface FinishedChargeAttempt {
  id: string;
  lease: Date;
  attempt: ChargeAttempt;
  /** When the attempt ended (paid_at, failed_at, the attempt's time). */
  now: Date;
}

/**
 * Ends drainer attempts: records each and moves its payment, all in one statement (one commit however many
 * attempts: the drainer's bound was a commit per payment), each only while its lease is still the
 * drainer's. A payment that is PAID or FAILED no longer needs its code: final_data is dropped then. Answers
 * the ids of the payments that moved (a payment whose lease was lost is left to whoever holds it now).
 */
export async function finishChargeAttempts(
  db: Executor,
  finished: FinishedChargeAttempt[],
): Promise<Set<string>> {
  if (finished.length === 0) return new Set();
  const rows = finished.map(({ id, lease, attempt, now }) => {
    const isDone = attempt.status === 'PAID' || attempt.status === 'FAILED';
    return {
      id,
      lease: lease.toISOString(),
      status: attempt.status,
      pay_calls: attempt.isPayCall ? 1 : 0,
      retry_slots: attempt.usesRetrySlot ? 1 : 0,
      next_attempt_at: attempt.nextAttemptAt?.toISOString() ?? null,
      charge_state: attempt.chargeState,
      charge_open_since: attempt.chargeOpenSince?.toISOString() ?? null,
      out_trade_no: attempt.outTradeNo,
      alipay_trade_no: attempt.alipayTradeNo ?? null,
      last_error_code: attempt.lastErrorCode,
      paid_at: attempt.status === 'PAID' ? now.toISOString() : null,
      failed_at: attempt.status === 'FAILED' ? now.toISOString() : null,
      is_done: isDone,
      outcome: attempt.outcome,
      alipay_code: attempt.alipayCode ?? null,
      alipay_sub_code: attempt.alipaySubCode ?? null,
      ended_at: now.toISOString(),
    };
  });
  const { rows: moved } = await db.execute<{ id: string }>(sql`
    with finished as (
      select * from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as f(
        id uuid, lease timestamptz, status text, pay_calls int, retry_slots int, next_attempt_at timestamptz,
        charge_state text, charge_open_since timestamptz, out_trade_no text, alipay_trade_no text,
        last_error_code text, paid_at timestamptz, failed_at timestamptz, is_done boolean, outcome text,
        alipay_code text, alipay_sub_code text, ended_at timestamptz)
    ), moved as (
      update campus_code_payments p set
        status = f.status,
        attempts = p.attempts + f.pay_calls,
        retries_used = p.retries_used + f.retry_slots,
        next_attempt_at = f.next_attempt_at,
        charge_state = f.charge_state,
        charge_open_since = f.charge_open_since,
        out_trade_no = f.out_trade_no,
        alipay_trade_no = coalesce(f.alipay_trade_no, p.alipay_trade_no),
        last_error_code = f.last_error_code,
        paid_at = f.paid_at,
        failed_at = f.failed_at,
        final_data_enc = case when f.is_done then null else p.final_data_enc end,
        lease_until = null,
        updated_at = f.ended_at
      from finished f
      where p.id = f.id and p.lease_until = f.lease
      returning p.id, p.attempts, f.outcome, f.alipay_code, f.alipay_sub_code, f.out_trade_no, f.ended_at
    ), recorded as (
      insert into campus_code_attempts (payment_id, attempt_no, outcome, alipay_code, alipay_sub_code, out_trade_no, created_at)
      select id, attempts, outcome, alipay_code, alipay_sub_code, out_trade_no, ended_at from moved
    )
    select id from moved`);
  return new Set(moved.map((row) => String(row.id)));
}

/** Gives one row back, only while this drainer still holds it (an unexpected error in our own code). */
export async function releaseCampusCodeLease(
  db: Executor,
  id: string,
  lease: Date,
  nextAttemptAt: Date,
  now: Date,
): Promise<void> {
  await db
    .update(campusCodePayments)
    .set({ leaseUntil: null, nextAttemptAt, updatedAt: now })
    .where(and(eq(campusCodePayments.id, id), eq(campusCodePayments.leaseUntil, lease)));
}

/**
 * On shutdown: rows claimed but not started go back at once, each only if its lease is still ours. They
 * were never sent, so the claim's "possibly charged" mark comes off the fresh ones: the next drainer charges
 * them straight away instead of asking Alipay about a trade that cannot exist.
 */
export async function releaseCampusCodeLeases(db: Executor, rows: ClaimedCampusCodePayment[]): Promise<void> {
  const held = rows.filter((row) => row.leaseUntil);
  if (held.length === 0) return;
  const ids = `{${held.map((r) => r.id).join(',')}}`;
  const leases = `{${held.map((r) => r.leaseUntil!.toISOString()).join(',')}}`;
  const fresh = `{${held.map((r) => (r.isFreshCharge ? 'true' : 'false')).join(',')}}`;
  await db.execute(sql`
    update campus_code_payments p set lease_until = null,
      charge_state = case when r.fresh then null else p.charge_state end,
      charge_open_since = case when r.fresh then null else p.charge_open_since end
    from unnest(${ids}::uuid[], ${leases}::timestamptz[], ${fresh}::boolean[]) as r(id, lease, fresh)
    where p.id = r.id and p.lease_until = r.lease`);
}
