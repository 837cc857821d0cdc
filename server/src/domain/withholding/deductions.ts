import type { DeductionAnswer } from '../../../../shared/gateway-api.js';
import { DecisionBatchFailed, DecisionBatches } from '../../db/repos/withholding/decision-batches.js';
import {
  findDeductionByTxn,
  insertReversalTombstone,
  listAttempts,
  requestReversal,
  signalDeductionsDue,
  type DeductionRow,
} from '../../db/repos/withholding/deductions.js';
import type { Deps } from '../../deps.js';
import { newOrderNo } from '../../lib/ids.js';
import { deductionDecisions } from '../../lib/metrics.js';
import { DomainError } from '../errors.js';
import { presentedCodeHash } from '../membercard/dynamic-codes.js';
import { refundReversedDeduction } from './deduction-refunds.js';

/**
 * Canteen swipes paid by withholding (seed 000 §2.3, §2.7; DESIGN §6.2, §7.4). The POS gateway asks, we
 * answer at once, and the money is collected from Alipay afterwards (deduction-collection.ts).
 *
 * The decision, in this order (the first rule that fails is the decline reason):
 *   0. the school is not SUSPENDED (DESIGN §7.0)                  else SCHOOL_SUSPENDED
 *   1. the school has withholding switched on (and is active)     else WITHHOLDING_DISABLED
 *   2. occurredAt within the school's window (default 24 h back,
 *      5 min ahead: swipe_max_age/ahead_minutes)                  else OUTSIDE_TIME_WINDOW
 *   3. the card has a withholding payer (a live binding)          else NOT_BOUND
 *   4. that binding is not reported lost                          else CARD_LOST
 *   5. the payer's ACTIVE agreement with this school covers the
 *      card (agreement_cards: families, one agreement per payer)  else NOT_SIGNED
 *   6. the payer has no RETRYING or ARREARS deduction             else IN_ARREARS (seed 000 §2.3 step 3)
 *   7. amount ≤ the per-transaction limit (the payer's for this
 *      card, at most the school's)                                else OVER_TXN_LIMIT
 *   8. today's (Beijing day) approved, unreversed total of the
 *      card + amount ≤ the daily limit (likewise)                 else OVER_DAILY_LIMIT
 * A txnNo reversed before it arrived is DECLINED with REVERSED.
 *
 * A swipe may name the card by a membership-card dynamic code instead of its number (DESIGN §6.4). The code
 * is resolved first — never issued (CODE_UNKNOWN), used before (CODE_USED) or expired (CODE_EXPIRED) — and
 * spent; then the card's decision above follows. A code without the school's signature is refused as bad
 * input before anything is decided (dynamic-codes.ts).
 *
 * All of it, with the nonce and the (school, txnNo) idempotency, runs in PL/pgSQL (migration
 * …_decide_deductions.sql), for all the swipes that arrive together in one call and one transaction
 * (db/repos/withholding/decision-batches.ts): one commit, one WAL flush for many decisions. Declines are
 * stored too, so a repeated txnNo always gets its first answer.
 */

export interface DeductionRequest {
  txnNo: string;
  /** Exactly one of cardNo and dynamicCode (the route's schema says so). */
  cardNo?: string;
  dynamicCode?: string;
  amountFen: number;
  terminalId: string;
  occurredAt: Date;
}

/** The authenticated gateway client and the request's nonce, spent by the decision itself. */
export interface GatewayCaller {
  clientId: string;
  schoolId: string;
  nonce: string;
  nonceExpiresAt: Date;
}

/** The process's batches of decisions (one per app: the swipes it receives together are decided together). */
export function swipeDecisionBatches(deps: Pick<Deps, 'pool' | 'config'>): DecisionBatches {
  return new DecisionBatches(deps.pool, deps.config.deductions.decisionBatches);
}

export async function decideDeduction(
  deps: Pick<Deps, 'pool' | 'clock' | 'protector'>,
  batches: DecisionBatches,
  caller: GatewayCaller,
  request: DeductionRequest,
): Promise<DeductionAnswer> {
  const { dynamicCode } = request;
  // Field by field rather than spread from the request and the caller: this runs for every swipe.
  const row = await batches
    .decide({
      clientId: caller.clientId,
      nonce: caller.nonce,
      nonceExpiresAt: caller.nonceExpiresAt,
      schoolId: caller.schoolId,
      txnNo: request.txnNo,
      cardNo: request.cardNo ?? null,
      dynamicCodeHash: dynamicCode ? presentedCodeHash(deps.protector, caller.schoolId, dynamicCode) : null,
      amountFen: request.amountFen,
      terminalId: request.terminalId,
      occurredAt: request.occurredAt,
      deductionNo: newOrderNo('deduction', deps.clock),
      now: deps.clock.now(),
    })
    .catch((error: unknown) => {
      // Nothing of this swipe was written (nor of its batch): the POS asks again with the same txnNo.
      if (error instanceof DecisionBatchFailed)
        throw new DomainError(
          'SERVICE_UNAVAILABLE',
          'The decision could not be made and nothing was recorded: send the swipe again with the same txnNo',
          { cause: error },
        );
      throw error;
    });
  if (row.outcome === 'REPLAY') throw new DomainError('GATEWAY_AUTH_FAILED');
  if (row.outcome === 'CONFLICT') throw new DomainError('TXN_CONFLICT', undefined, { field: 'body.txnNo' });
  if (row.outcome === 'NEW') {
    deductionDecisions.inc({ decision: row.decision!, reason: row.decline_reason ?? '' });
    if (row.decision === 'APPROVED') signalDeductionsDue(deps.pool);
  }
  return {
    txnNo: request.txnNo,
    deductionId: row.deduction_no!,
    decision: row.decision!,
    ...(row.decline_reason ? { reason: row.decline_reason } : {}),
    status: row.status!,
    // The card a code stood for, so the till can record the sale on it; never for a code that was refused
    // (used, expired): the till must not fall back to that card's balance on a stale code.
    ...(dynamicCode && row.card_no && !row.decline_reason?.startsWith('CODE_')
      ? { cardNo: row.card_no }
      : {}),
  };
}

export interface DeductionDetail extends Omit<DeductionAnswer, 'cardNo'> {
  /** Null on a reversal that came first, and on a dynamic code that named no card. */
  cardNo: string | null;
  /** The swipe presented a membership-card dynamic code instead of the card number. */
  byDynamicCode: boolean;
  amountFen: number | null;
  terminalId: string | null;
  occurredAt: string | null;
  attempts: Array<{ attemptNo: number; outcome: string; code: string | null; at: string }>;
  collectedAt: string | null;
  reversal: { requestedAt: string; refund: 'NOT_NEEDED' | 'PENDING' | 'REFUNDED' } | null;
}

function refundState(row: DeductionRow): 'NOT_NEEDED' | 'PENDING' | 'REFUNDED' {
  if (row.refundedAt) return 'REFUNDED';
  return row.status === 'COLLECTED' || row.status === 'SETTLED' ? 'PENDING' : 'NOT_NEEDED';
}

export async function deductionDetail(
  deps: Pick<Deps, 'db'>,
  schoolId: string,
  txnNo: string,
): Promise<DeductionDetail> {
  const row = await findDeductionByTxn(deps.db, schoolId, txnNo);
  if (!row) throw new DomainError('DEDUCTION_NOT_FOUND');
  const attempts = await listAttempts(deps.db, row.id);
  return {
    txnNo: row.txnNo,
    deductionId: row.deductionNo,
    decision: row.decision,
    ...(row.declineReason ? { reason: row.declineReason } : {}),
    status: row.status,
    cardNo: row.cardNo,
    byDynamicCode: row.dynamicCodeHash !== null,
    amountFen: row.amountFen,
    terminalId: row.terminalId,
    occurredAt: row.occurredAt?.toISOString() ?? null,
    attempts: attempts.map((a) => ({
      attemptNo: a.attemptNo,
      outcome: a.outcome,
      code: a.alipaySubCode ?? a.alipayCode,
      at: a.createdAt.toISOString(),
    })),
    collectedAt: row.collectedAt?.toISOString() ?? null,
    reversal: row.reversalRequestedAt
      ? { requestedAt: row.reversalRequestedAt.toISOString(), refund: refundState(row) }
      : null,
  };
}

/**
 * Voids a swipe the card system paid from the card balance after all (timeouts, a cancelled sale).
 * Idempotent, and accepted whatever the deduction's state:
 * - not seen yet → a tombstone, so the late deduction is DECLINED with REVERSED;
 * - declined → nothing to do;
 * - approved, nothing charged and no collector on it → REVERSED at once;
 * - a collector is charging it, or a charge of unknown outcome is open → marked; the collector finishes,
 *   then voids it (and refunds if the charge went through);
 * - collected (or settled by a repayment) → refunded through Alipay with a stable out_request_no; retried
 *   by the job `deduction.refund` until Alipay answers.
 */
export async function reverseDeduction(
  deps: Deps,
  caller: Pick<GatewayCaller, 'clientId' | 'schoolId'>,
  txnNo: string,
): Promise<DeductionDetail> {
  const now = deps.clock.now();
  const tombstone = await insertReversalTombstone(deps.db, {
    schoolId: caller.schoolId,
    txnNo,
    deductionNo: newOrderNo('deduction', deps.clock),
    clientId: caller.clientId,
    now,
  });
  // Stryker disable next-line ConditionalExpression: equivalent (`true`) — after a tombstone was just written, the lookup finds that tombstone (DECLINED) and does nothing: one extra query; the `false` variant, disabled with it, is killed by the reversal tests
  if (!tombstone) {
    const existing = await findDeductionByTxn(deps.db, caller.schoolId, txnNo);
    if (existing?.decision === 'APPROVED') {
      const marked = await requestReversal(deps.db, existing.id, now);
      if (marked && (marked.status === 'COLLECTED' || marked.status === 'SETTLED')) {
        await refundReversedDeduction(deps, marked);
      } else if (marked?.chargeState) {
        signalDeductionsDue(deps.pool);
      }
    }
  }
  return deductionDetail(deps, caller.schoolId, txnNo);
}
