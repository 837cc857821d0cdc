import { and, asc, eq, getTableColumns, inArray, isNull, lte, min, or, sql } from 'drizzle-orm';
import type pg from 'pg';
import type { DeclineReason } from '../../../../../shared/gateway-api.js';
import { isoTimestampFormatter } from '../../../lib/iso-time.js';
import { wakeDrainers } from '../../wakeups.js';
import type { Executor } from '../../client.js';
import { deductionAttempts, deductions, withholdingAgreements, type CHARGE_STATES } from '../../schema.js';

export type DeductionRow = typeof deductions.$inferSelect;
export type ChargeState = (typeof CHARGE_STATES)[number];

export interface DecisionInput {
  clientId: string;
  nonce: string;
  nonceExpiresAt: Date;
  schoolId: string;
  txnNo: string;
  /** Exactly one of cardNo and dynamicCodeHash identifies the card. */
  cardNo: string | null;
  dynamicCodeHash: string | null;
  amountFen: number;
  terminalId: string;
  occurredAt: Date;
  deductionNo: string;
  now: Date;
}

export interface DecisionRow {
  outcome: 'NEW' | 'REPEAT' | 'CONFLICT' | 'REPLAY';
  deduction_id: string | null;
  deduction_no: string | null;
  decision: 'APPROVED' | 'DECLINED' | null;
  decline_reason: DeclineReason | null;
  status: string | null;
  /** The card decided on: the one asked, or the one the dynamic code stands for (null if none). */
  card_no: string | null;
}

/** A swipe's answer in its batch: ERROR when its own rules failed (the rest of the batch is decided). */
export interface SwipeDecisionRow extends Omit<DecisionRow, 'outcome'> {
  /** The swipe's position in the batch, from 1. */
  swipe: number;
  outcome: DecisionRow['outcome'] | 'ERROR';
  /** On ERROR: the SQLSTATE and message of what failed. */
  error: string | null;
}

/**
 * Decides a batch of swipes in one round trip and one transaction (one commit, one WAL flush): nonce,
 * idempotency, the dynamic code and every rule in the PL/pgSQL function `decide_deductions` (migration
 * …_decide_deductions.sql). A named statement, so each pooled connection plans it once. Rejects when the
 * transaction failed: then nothing of any swipe was written.
 */
// One formatter per field: each field's dates of a batch fall in one or two seconds (lib/iso-time.ts).
const nonceExpiryText = isoTimestampFormatter();
const occurredAtText = isoTimestampFormatter();
const decidedAtText = isoTimestampFormatter();

export async function decideSwipes(pool: pg.Pool, inputs: DecisionInput[]): Promise<SwipeDecisionRow[]> {
  const swipes = inputs.map((input) => ({
    client_id: input.clientId,
    nonce: input.nonce,
    nonce_expires_at: nonceExpiryText(input.nonceExpiresAt),
    school_id: input.schoolId,
    txn_no: input.txnNo,
    card_no: input.cardNo,
    dynamic_code_hash: input.dynamicCodeHash,
    amount_fen: input.amountFen,
    terminal_id: input.terminalId,
    occurred_at: occurredAtText(input.occurredAt),
    deduction_no: input.deductionNo,
    decided_at: decidedAtText(input.now),
  }));
  const { rows } = await pool.query<SwipeDecisionRow>({
    name: 'decide_deductions',
    text: 'select * from decide_deductions($1::jsonb)',
    values: [JSON.stringify(swipes)],
  });
  return rows;
}

/** Approvals announce themselves here; the collectors LISTEN (jobs/withholding/deduction-collect.ts). */
export const DEDUCTIONS_DUE_CHANNEL = 'deductions_due';

/** Wakes the collectors after an approval has committed (see db/wakeups.ts for why not inside it). */
export function signalDeductionsDue(pool: pg.Pool): void {
  wakeDrainers(pool, DEDUCTIONS_DUE_CHANNEL);
}

export async function findDeductionByTxn(
  db: Executor,
  schoolId: string,
  txnNo: string,
): Promise<DeductionRow | undefined> {
  const [row] = await db
    .select()
    .from(deductions)
    .where(and(eq(deductions.schoolId, schoolId), eq(deductions.txnNo, txnNo)));
  return row;
}

export async function findDeduction(db: Executor, id: string): Promise<DeductionRow | undefined> {
  const [row] = await db.select().from(deductions).where(eq(deductions.id, id));
  return row;
}

export async function listAttempts(db: Executor, deductionId: string) {
  return db
    .select()
    .from(deductionAttempts)
    .where(eq(deductionAttempts.deductionId, deductionId))
    .orderBy(asc(deductionAttempts.id));
}

// ---- collection -------------------------------------------------------------------------------------

export type ClaimedDeduction = DeductionRow & {
  agreementNo: string | null;
  /**
   * The claim found no charge open and no reversal asked, and marked the row UNKNOWN on the collector's
   * behalf: from the claim until the attempt is recorded, money may move (see claimDueDeductions).
   */
  isFreshCharge: boolean;
};

/**
 * Leases up to `limit` due deductions to this collector. SKIP LOCKED lets any number of collectors claim
 * side by side; the lease (not a held lock) marks a row in flight, so that no transaction stays open
 * while Alipay is called, and a collector that dies releases its rows when the lease runs out.
 * Rows pointing at a repayment are the repayment's to settle and are never charged again.
 */
export async function claimDueDeductions(
  db: Executor,
  opts: { now: Date; leaseUntil: Date; limit: number },
): Promise<ClaimedDeduction[]> {
  // A row with no charge open and no reversal asked is about to be charged: the claim marks it UNKNOWN in
  // the same statement (no extra round trip per charge), so that a collector that dies between trade.pay
  // and recording its answer leaves a row the next collector queries first, and that neither a reversal
  // nor a repayment treats as uncharged.
  const { rows } = await db.execute<{ id: string; fresh: boolean }>(sql`
    update deductions d
    set lease_until = ${opts.leaseUntil},
        charge_state = case when due.fresh then 'UNKNOWN' else d.charge_state end,
        awaiting_buyer_since = case when due.fresh then ${opts.now}::timestamptz else d.awaiting_buyer_since end
    from (
      select id, charge_state is null and reversal_requested_at is null as fresh from deductions
      where status in ('PENDING', 'RETRYING') and next_attempt_at <= ${opts.now}
        and repayment_id is null and (lease_until is null or lease_until < ${opts.now})
      order by next_attempt_at
      limit ${opts.limit}
      for update skip locked
    ) due
    where d.id = due.id
    returning d.id, due.fresh`);
  // Stryker disable next-line ConditionalExpression: equivalent (`false`) — drizzle's inArray of no ids is `false`, so the read-back returns no rows too; the shortcut only saves that round trip when nothing is due (the `true` variant, disabled with it, is killed by every collection test)
  if (rows.length === 0) return [];
  const fresh = new Map(rows.map((r) => [String(r.id), r.fresh === true]));
  const claimed = await db
    .select({ ...getTableColumns(deductions), agreementNo: withholdingAgreements.agreementNo })
    .from(deductions)
    .leftJoin(withholdingAgreements, eq(withholdingAgreements.id, deductions.agreementId))
    .where(inArray(deductions.id, [...fresh.keys()]));
  // Every row read back is one the update above returned: its freshness is in the map.
  return claimed.map((row) => ({ ...row, isFreshCharge: fresh.get(row.id)! }));
}

/** The earliest time a deduction will be due, for scheduling the collector's next run. */
export async function nextDueAt(db: Executor): Promise<Date | null> {
  const [row] = await db
    .select({ at: min(deductions.nextAttemptAt) })
    .from(deductions)
    .where(and(inArray(deductions.status, ['PENDING', 'RETRYING']), isNull(deductions.repaymentId)));
  // An aggregate without GROUP BY always returns its one row: null `at` when nothing is due.
  return row.at ? new Date(row.at) : null;
}

export interface AttemptResult {
  /** What the attempt found, recorded in deduction_attempts: PAID, AWAITING_BUYER, BALANCE_NOT_ENOUGH… */
  outcome: string;
  alipayCode?: string | null;
  alipaySubCode?: string | null;
  /** Whether this attempt made a trade.pay call (counted in `attempts`). */
  isPayCall: boolean;
  /** Whether Alipay answered this charge as failed: it uses a slot of the retry schedule. */
  usesRetrySlot?: boolean;
  status: 'PENDING' | 'RETRYING' | 'ARREARS' | 'COLLECTED' | 'REVERSED';
  nextAttemptAt: Date | null;
  chargeState: ChargeState | null;
  awaitingBuyerSince: Date | null;
  outTradeNo: string;
  alipayTradeNo?: string | null;
  lastErrorCode: string | null;
}

/**
 * Ends this collector's attempt: records it and moves the deduction in one statement, only while the
 * lease is still ours. Returns whether a reversal was asked for meanwhile (read under the row lock, so a
 * reversal either sees the lease or is seen here).
 */
export async function finishAttempt(
  db: Executor,
  id: string,
  lease: Date,
  result: AttemptResult,
  now: Date,
): Promise<{ reversalRequested: boolean; attempts: number } | undefined> {
  const collected = result.status === 'COLLECTED';
  const reversed = result.status === 'REVERSED';
  const { rows } = await db.execute<{ reversal_requested_at: Date | null; attempts: number }>(sql`
    with moved as (
      update deductions set
        status = ${result.status},
        attempts = attempts + ${result.isPayCall ? 1 : 0},
        retries_used = retries_used + ${result.usesRetrySlot ? 1 : 0},
        next_attempt_at = ${result.nextAttemptAt},
        charge_state = ${result.chargeState},
        awaiting_buyer_since = ${result.awaitingBuyerSince},
        out_trade_no = ${result.outTradeNo},
        alipay_trade_no = coalesce(${result.alipayTradeNo ?? null}, alipay_trade_no),
        last_error_code = ${result.lastErrorCode},
        collected_at = ${collected ? now : null}::timestamptz,
        reversed_at = case when ${reversed} then ${now}::timestamptz else reversed_at end,
        lease_until = null,
        updated_at = ${now}
      where id = ${id} and lease_until = ${lease}
      returning id, attempts, reversal_requested_at
    ), recorded as (
      insert into deduction_attempts (deduction_id, attempt_no, outcome, alipay_code, alipay_sub_code, out_trade_no, created_at)
      select id, attempts, ${result.outcome}, ${result.alipayCode ?? null}, ${result.alipaySubCode ?? null},
        ${result.outTradeNo}, ${now} from moved
    )
    select reversal_requested_at, attempts from moved`);
  const row = rows[0];
  return row ? { reversalRequested: row.reversal_requested_at !== null, attempts: row.attempts } : undefined;
}

/** Gives the row back untouched except for when to look again (an unexpected error in our own code). */
/** Gives a row back, only while this collector still holds it (its lease value). */
export async function releaseLease(
  db: Executor,
  id: string,
  lease: Date,
  nextAttemptAt: Date,
  now: Date,
): Promise<void> {
  await db
    .update(deductions)
    .set({ leaseUntil: null, nextAttemptAt, updatedAt: now })
    .where(and(eq(deductions.id, id), eq(deductions.leaseUntil, lease)));
}

// ---- reversal --------------------------------------------------------------------------------------

/** A reversal before its deduction: a tombstone that declines the late deduction (DESIGN §6.2). */
export async function insertReversalTombstone(
  db: Executor,
  input: { schoolId: string; txnNo: string; deductionNo: string; clientId: string; now: Date },
): Promise<DeductionRow | undefined> {
  const [row] = await db
    .insert(deductions)
    .values({
      deductionNo: input.deductionNo,
      schoolId: input.schoolId,
      txnNo: input.txnNo,
      gatewayClientId: input.clientId,
      decision: 'DECLINED',
      declineReason: 'REVERSED',
      status: 'REVERSED',
      reversedAt: input.now,
      reversalRequestedAt: input.now,
      createdAt: input.now,
      updatedAt: input.now,
    })
    .onConflictDoNothing({ target: [deductions.schoolId, deductions.txnNo] })
    .returning();
  return row;
}

/**
 * Marks the reversal asked for, and voids the deduction at once when nothing can have been charged: not
 * collected, no collector holding it, and no trade of unknown or waiting outcome under its out_trade_no.
 * A row with such a trade is made due now so that the collector resolves the trade first.
 */
export async function requestReversal(
  db: Executor,
  id: string,
  now: Date,
): Promise<DeductionRow | undefined> {
  // A debt inside an open repayment is not voided here: the repayment's trade already asks for it. If the
  // repayment is paid, the reversal is refunded from it (sweep); if it closes, the debt is voided then.
  const isVoidable = sql`(${deductions.status} in ('PENDING', 'RETRYING', 'ARREARS', 'WAIVED') and ${deductions.chargeState} is null and ${deductions.repaymentId} is null and (${deductions.leaseUntil} is null or ${deductions.leaseUntil} < ${now}))`;
  const [row] = await db
    .update(deductions)
    .set({
      reversalRequestedAt: sql`coalesce(${deductions.reversalRequestedAt}, ${now}::timestamptz)`,
      status: sql`case when ${isVoidable} then 'REVERSED' else ${deductions.status} end`,
      reversedAt: sql`case when ${isVoidable} then ${now}::timestamptz else ${deductions.reversedAt} end`,
      nextAttemptAt: sql`case when ${isVoidable} then null when ${deductions.chargeState} is not null and ${deductions.status} in ('PENDING', 'RETRYING') then ${now}::timestamptz else ${deductions.nextAttemptAt} end`,
      updatedAt: now,
    })
    .where(and(eq(deductions.id, id), eq(deductions.decision, 'APPROVED')))
    .returning();
  return row;
}

export async function setRefundRequestNo(
  db: Executor,
  id: string,
  outRequestNo: string,
  now: Date,
): Promise<void> {
  await db
    .update(deductions)
    .set({ refundOutRequestNo: outRequestNo, updatedAt: now })
    .where(eq(deductions.id, id));
}

/** COLLECTED or SETTLED → REVERSED once the refund went through (a row already REVERSED is left alone). */
export async function markRefunded(db: Executor, id: string, now: Date): Promise<void> {
  await db
    .update(deductions)
    .set({ status: 'REVERSED', refundedAt: now, reversedAt: now, updatedAt: now })
    .where(and(eq(deductions.id, id), inArray(deductions.status, ['COLLECTED', 'SETTLED'])));
}

/** Approved, reversal asked, still collected: refunds that have not gone through (for the sweep). */
export async function findUnrefundedReversals(db: Executor, before: Date, limit: number) {
  return db
    .select()
    .from(deductions)
    .where(
      and(
        inArray(deductions.status, ['COLLECTED', 'SETTLED']),
        lte(deductions.reversalRequestedAt, before),
        or(isNull(deductions.leaseUntil), lte(deductions.leaseUntil, before)),
      ),
    )
    .limit(limit);
}

/**
 * On shutdown: rows claimed but not started go back at once, each only if its lease is still ours. They
 * were never sent, so the claim's "possibly charged" mark comes off the fresh ones: the next collector
 * charges them straight away instead of asking Alipay about a trade that cannot exist.
 */
export async function releaseLeases(
  db: Executor,
  rows: Array<{ id: string; leaseUntil: Date | null; isFreshCharge?: boolean }>,
): Promise<void> {
  const held = rows.filter((row) => row.leaseUntil);
  // Stryker disable next-line ConditionalExpression: equivalent (`false`) — an update joined to empty arrays changes nothing; the shortcut only saves the round trip (the `true` variant, disabled with it, is killed by never-sent.test.ts)
  if (held.length === 0) return;
  // Array parameters, written as PostgreSQL array literals (ids, ISO times and booleans need no quoting).
  const ids = `{${held.map((r) => r.id).join(',')}}`;
  const leases = `{${held.map((r) => r.leaseUntil!.toISOString()).join(',')}}`;
  const fresh = `{${held.map((r) => (r.isFreshCharge ? 'true' : 'false')).join(',')}}`;
  await db.execute(sql`
    update deductions d set lease_until = null,
      charge_state = case when r.fresh then null else d.charge_state end,
      awaiting_buyer_since = case when r.fresh then null else d.awaiting_buyer_since end
    from unnest(${ids}::uuid[], ${leases}::timestamptz[], ${fresh}::boolean[]) as r(id, lease, fresh)
    where d.id = r.id and d.lease_until = r.lease`);
}

// ---- the admins' exceptions inbox (issue 13) -------------------------------------------------------------

export async function findDeductionOfSchool(
  db: Executor,
  schoolId: string,
  id: string,
  options: { lock?: boolean } = {},
): Promise<DeductionRow | undefined> {
  const query = db
    .select()
    .from(deductions)
    .where(and(eq(deductions.id, id), eq(deductions.schoolId, schoolId)));
  const [row] = options.lock ? await query.for('update') : await query;
  return row;
}

/**
 * An admin's "collect now": leases one RETRYING or ARREARS deduction of the school to the caller, exactly as
 * claimDueDeductions leases due rows to a collector (marked UNKNOWN when about to be charged, so a crash is
 * queried first). An ARREARS row goes back to RETRYING while it is tried, so that the collector finishes
 * the attempt if the caller dies; the attempt's own outcome decides where it ends. Undefined when the row is
 * leased already (a double tap), inside a repayment, or no longer owed.
 */
export async function claimDeductionNow(
  db: Executor,
  input: { schoolId: string; id: string; now: Date; leaseUntil: Date },
): Promise<ClaimedDeduction | undefined> {
  const { rows } = await db.execute<{ id: string; fresh: boolean }>(sql`
    update deductions d
    set lease_until = ${input.leaseUntil}, next_attempt_at = ${input.now}, status = 'RETRYING',
        charge_state = case when due.fresh then 'UNKNOWN' else d.charge_state end,
        awaiting_buyer_since = case when due.fresh then ${input.now}::timestamptz else d.awaiting_buyer_since end,
        updated_at = ${input.now}
    from (
      select id, charge_state is null and reversal_requested_at is null as fresh from deductions
      where id = ${input.id} and school_id = ${input.schoolId} and status in ('RETRYING', 'ARREARS')
        and repayment_id is null and (lease_until is null or lease_until < ${input.now})
      for update skip locked
    ) due
    where d.id = due.id
    returning d.id, due.fresh`);
  if (rows.length === 0) return undefined;
  const [claimed] = await db
    .select({ ...getTableColumns(deductions), agreementNo: withholdingAgreements.agreementNo })
    .from(deductions)
    .leftJoin(withholdingAgreements, eq(withholdingAgreements.id, deductions.agreementId))
    .where(eq(deductions.id, input.id));
  return { ...claimed, isFreshCharge: rows[0].fresh === true };
}

/**
 * ARREARS → WAIVED: the school gives the debt up (its loss). Only a debt nobody is charging or repaying:
 * no collector's lease, no trade of open outcome, no repayment. decide_deduction counts only RETRYING and
 * ARREARS as arrears, so the payer's swipes are approved again from the commit on.
 */
export async function waiveDeduction(
  db: Executor,
  input: { schoolId: string; id: string; reason: string; now: Date },
): Promise<DeductionRow | undefined> {
  const [row] = await db
    .update(deductions)
    .set({
      status: 'WAIVED',
      waivedAt: input.now,
      waiveReason: input.reason,
      nextAttemptAt: null,
      updatedAt: input.now,
    })
    .where(
      and(
        eq(deductions.id, input.id),
        eq(deductions.schoolId, input.schoolId),
        eq(deductions.status, 'ARREARS'),
        isNull(deductions.repaymentId),
        isNull(deductions.chargeState),
        or(isNull(deductions.leaseUntil), lte(deductions.leaseUntil, input.now)),
      ),
    )
    .returning();
  return row;
}

/** The reversed deduction a refund belongs to: charged under `outTradeNo` itself or through a repayment. */
export async function findDeductionOfRefund(
  db: Executor,
  refund: { schoolId: string; outTradeNo: string; outRequestNo: string },
): Promise<DeductionRow | undefined> {
  const { rows } = await db.execute<{ id: string }>(sql`
    select d.id from deductions d
    where d.school_id = ${refund.schoolId} and d.refund_out_request_no = ${refund.outRequestNo}
      and (d.out_trade_no = ${refund.outTradeNo}
           or d.repayment_id = (select p.id from repayments p where p.out_trade_no = ${refund.outTradeNo}))`);
  return rows[0] ? findDeduction(db, String(rows[0].id)) : undefined;
}
