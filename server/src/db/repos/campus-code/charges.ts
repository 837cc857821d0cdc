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

/**
 * Ends this drainer's attempt: records it and moves the payment in one statement, only while the lease is
 * still ours. A payment that is PAID or FAILED no longer needs its code: final_data is dropped then.
 */
export async function finishChargeAttempt(
  db: Executor,
  id: string,
  lease: Date,
  attempt: ChargeAttempt,
  now: Date,
): Promise<boolean> {
  const isDone = attempt.status === 'PAID' || attempt.status === 'FAILED';
  const { rows } = await db.execute<{ id: string }>(sql`
    with moved as (
      update campus_code_payments set
        status = ${attempt.status},
        attempts = attempts + ${attempt.isPayCall ? 1 : 0},
        retries_used = retries_used + ${attempt.usesRetrySlot ? 1 : 0},
        next_attempt_at = ${attempt.nextAttemptAt},
        charge_state = ${attempt.chargeState},
        charge_open_since = ${attempt.chargeOpenSince},
        out_trade_no = ${attempt.outTradeNo},
        alipay_trade_no = coalesce(${attempt.alipayTradeNo ?? null}, alipay_trade_no),
        last_error_code = ${attempt.lastErrorCode},
        paid_at = ${attempt.status === 'PAID' ? now : null}::timestamptz,
        failed_at = ${attempt.status === 'FAILED' ? now : null}::timestamptz,
        final_data_enc = case when ${isDone} then null else final_data_enc end,
        lease_until = null,
        updated_at = ${now}
      where id = ${id} and lease_until = ${lease}
      returning id, attempts
    ), recorded as (
      insert into campus_code_attempts (payment_id, attempt_no, outcome, alipay_code, alipay_sub_code, out_trade_no, created_at)
      select id, attempts, ${attempt.outcome}, ${attempt.alipayCode ?? null}, ${attempt.alipaySubCode ?? null},
        ${attempt.outTradeNo}, ${now} from moved
    )
    select id from moved`);
  return rows.length === 1;
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
