import {
  finishAttempt,
  releaseLease,
  requestReversal,
  type AttemptResult,
  type ClaimedDeduction,
} from '../../db/repos/withholding/deductions.js';
import type { SchoolRow } from '../../db/repos/schools/schools.js';
import type { Deps } from '../../deps.js';
import type { TradeState } from '../../integrations/alipay/alipay.js';
import { AlipayError, isAgreementGone } from '../../integrations/alipay/errors.js';
import { refundReversedDeduction } from './deduction-refunds.js';
import { requireAlipay } from '../outside-errors.js';

/**
 * Collecting an approved swipe from Alipay (DESIGN §7.4, ALIPAY.md §4.4, §4.16). One call of
 * `collectDeduction` is one attempt by a collector that holds the deduction's lease.
 *
 *   PENDING/RETRYING ──pay── 10000 ─────────────────────────────→ COLLECTED
 *            │                10003 ──→ AWAITING_BUYER: query every pollInterval
 *            │                            paid → COLLECTED; closed → retry; still waiting after
 *            │                            pollWindow → cancel, then retry
 *            │                unknown (timeout, 20000, SYSTEM_ERROR) → query at once:
 *            │                            paid → COLLECTED; waiting → AWAITING_BUYER;
 *            │                            closed unpaid → retry with a new out_trade_no (uses a slot);
 *            │                            no trade → never charged: charge again now (uses no slot);
 *            │                            query fails too → UNKNOWN, query again next time
 *            │                retryable (balance …) → RETRYING at the school's next retry delay
 *            │                final (agreement gone …) or schedule used up → ARREARS
 *            └── reversal asked → never charged again: void it, or resolve the open trade first
 *
 * The schedule: each charge Alipay answers as failed (a refusal, a trade that closed unpaid) uses the next
 * slot of the school's retry schedule (`retries_used`); used up → ARREARS. A charge whose outcome was
 * unknown and that a query then finds never happened (a timeout before Alipay saw it, a collector stopped
 * or killed between its claim and its trade.pay) was not a failure to collect: it is charged again at
 * once and uses no slot. So a deduction ends in ARREARS only because Alipay said no often enough.
 *
 * Never two charges: a new trade.pay is sent only when the previous one under the current out_trade_no
 * is known not to have taken money (a clean business refusal, or a query that finds no trade). A trade
 * known to be closed is never paid again (Alipay refuses a closed out_trade_no); the next charge uses
 * `<deduction no>_<n>`, and only after that closure was confirmed by a query or a cancel.
 */

const SUBJECT = '校园卡刷卡消费';

export interface CollectionContext {
  school: SchoolRow;
}

type Step = Omit<AttemptResult, 'outTradeNo'> & { outTradeNo?: string };

function isPaid(trade: TradeState | null): boolean {
  return !!trade && (trade.status === 'TRADE_SUCCESS' || trade.status === 'TRADE_FINISHED');
}

/** `D…` → `D…_2` → `D…_3`: the next out_trade_no once the current one is closed for good. */
export function nextOutTradeNo(deductionNo: string, current: string): string {
  const suffix = current.startsWith(`${deductionNo}_`) ? Number(current.slice(deductionNo.length + 1)) : 1;
  return `${deductionNo}_${suffix + 1}`;
}

export async function collectDeduction(
  deps: Deps,
  deduction: ClaimedDeduction,
  context: CollectionContext,
): Promise<void> {
  const now = deps.clock.now();
  const lease = deduction.leaseUntil!;
  let step: Step;
  try {
    step = await attempt(deps, deduction, context);
  } catch (error) {
    // A bug or our own database, not Alipay: give the row back and look again after a poll interval.
    deps.logger.error('collection attempt failed unexpectedly', {
      deductionNo: deduction.deductionNo,
      error,
    });
    await releaseLease(
      deps.db,
      deduction.id,
      lease,
      new Date(now.getTime() + deps.config.deductions.pollIntervalMs),
      deps.clock.now(),
    );
    return;
  }
  const finished = await finishAttempt(
    deps.db,
    deduction.id,
    lease,
    { ...step, outTradeNo: step.outTradeNo ?? deduction.outTradeNo! },
    deps.clock.now(),
  );
  if (!finished) {
    deps.logger.warn('collection lease lost before the attempt ended', {
      deductionNo: deduction.deductionNo,
    });
    return;
  }
  if (step.status === 'COLLECTED')
    deps.logger.info('deduction collected', { deductionNo: deduction.deductionNo, txnNo: deduction.txnNo });
  if (finished.reversalRequested) await finishReversal(deps, deduction.id);
}

/** After an attempt on a deduction whose reversal was asked for while the attempt ran. */
async function finishReversal(deps: Deps, id: string): Promise<void> {
  const marked = await requestReversal(deps.db, id, deps.clock.now());
  if (marked && (marked.status === 'COLLECTED' || marked.status === 'SETTLED'))
    await refundReversedDeduction(deps, marked);
}

async function attempt(deps: Deps, d: ClaimedDeduction, context: CollectionContext): Promise<Step> {
  // The claim marked a fresh row UNKNOWN for us (crash safety); it has not been sent yet.
  if (d.isFreshCharge) return charge(deps, d, context);
  if (d.chargeState !== null) return resolveOpenTrade(deps, d, context);
  if (d.reversalRequestedAt) return voided(d);
  return charge(deps, d, context);
}

function voided(d: ClaimedDeduction): Step {
  return {
    outcome: 'REVERSED',
    isPayCall: false,
    status: 'REVERSED',
    nextAttemptAt: null,
    chargeState: null,
    awaitingBuyerSince: null,
    lastErrorCode: d.lastErrorCode,
  };
}

function collected(trade: { tradeNo: string }, outcome: string): Step {
  return {
    outcome,
    isPayCall: false,
    status: 'COLLECTED',
    nextAttemptAt: null,
    chargeState: null,
    awaitingBuyerSince: null,
    alipayTradeNo: trade.tradeNo,
    lastErrorCode: null,
  };
}

/**
 * Alipay answered that the charge failed and it may be tried again: RETRYING at the school's next delay,
 * or ARREARS when the schedule is used up. Uses one slot of the schedule (`retries_used`).
 */
function retryLater(
  deps: Deps,
  d: ClaimedDeduction,
  context: CollectionContext,
  failure: { outcome: string; code: string; subCode?: string | null },
): Step {
  const seconds = context.school.retryScheduleSeconds[d.retriesUsed];
  const base = {
    outcome: failure.outcome,
    alipayCode: failure.code,
    alipaySubCode: failure.subCode ?? null,
    isPayCall: false,
    usesRetrySlot: true,
    chargeState: null,
    awaitingBuyerSince: null,
    lastErrorCode: failure.subCode ?? failure.code,
  };
  if (seconds === undefined) return { ...base, status: 'ARREARS', nextAttemptAt: null };
  const delayMs = Math.round(seconds * 1000 * deps.config.deductions.retryScale);
  return { ...base, status: 'RETRYING', nextAttemptAt: new Date(deps.clock.now().getTime() + delayMs) };
}

/** Retrying cannot help (the agreement is gone, the request can never succeed): ARREARS. */
function giveUp(failure: { outcome: string; code: string; subCode?: string | null }): Step {
  return {
    outcome: failure.outcome,
    alipayCode: failure.code,
    alipaySubCode: failure.subCode ?? null,
    isPayCall: false,
    status: 'ARREARS',
    nextAttemptAt: null,
    chargeState: null,
    awaitingBuyerSince: null,
    lastErrorCode: failure.subCode ?? failure.code,
  };
}

/**
 * Nothing was charged and nothing failed: the earlier trade.pay never reached Alipay's books. Charge
 * again now, under the same out_trade_no, without using a slot of the schedule.
 */
function chargeAgainNow(deps: Deps, d: ClaimedDeduction, outcome: string, cause: AlipayError | null): Step {
  return {
    outcome,
    alipayCode: cause?.code ?? null,
    alipaySubCode: cause?.subCode ?? null,
    isPayCall: false,
    status: d.status === 'RETRYING' ? 'RETRYING' : 'PENDING',
    nextAttemptAt: deps.clock.now(),
    chargeState: null,
    awaitingBuyerSince: null,
    lastErrorCode: d.lastErrorCode,
  };
}

function awaitingBuyer(deps: Deps, d: ClaimedDeduction, since: Date, outcome: string): Step {
  return {
    outcome,
    isPayCall: false,
    status: d.status === 'RETRYING' ? 'RETRYING' : 'PENDING',
    nextAttemptAt: new Date(deps.clock.now().getTime() + deps.config.deductions.pollIntervalMs),
    chargeState: 'AWAITING_BUYER',
    awaitingBuyerSince: since,
    lastErrorCode: d.lastErrorCode,
  };
}

function stillUnknown(deps: Deps, d: ClaimedDeduction, error: AlipayError | null, outcome: string): Step {
  // awaitingBuyerSince doubles as "open since": when the charge that may have moved money was sent.
  return {
    outcome,
    alipayCode: error?.code ?? null,
    alipaySubCode: error?.subCode ?? null,
    isPayCall: false,
    status: d.status === 'RETRYING' ? 'RETRYING' : 'PENDING',
    nextAttemptAt: new Date(deps.clock.now().getTime() + deps.config.deductions.pollIntervalMs),
    chargeState: 'UNKNOWN',
    awaitingBuyerSince: d.awaitingBuyerSince ?? deps.clock.now(),
    lastErrorCode: error?.reason ?? d.lastErrorCode,
  };
}

async function charge(deps: Deps, d: ClaimedDeduction, context: CollectionContext): Promise<Step> {
  const alipay = requireAlipay(deps);
  const payCall = <T extends Step>(step: T): T => ({ ...step, isPayCall: true });
  if (!d.agreementNo) return giveUp({ outcome: 'NO_AGREEMENT', code: 'NO_AGREEMENT' });
  // The row is already marked UNKNOWN (claimDueDeductions): a crash from here on leaves it to be queried.
  const sentAt = deps.clock.now();
  try {
    const paid = await alipay.payWithAgreement({
      outTradeNo: d.outTradeNo!,
      amountFen: d.amountFen!,
      subject: SUBJECT,
      agreementNo: d.agreementNo,
      appAuthToken: deps.schools.appAuthToken(context.school),
    });
    if (paid.status === 'PAID') return payCall(collected(paid, 'PAID'));
    return payCall(awaitingBuyer(deps, d, deps.clock.now(), 'AWAITING_BUYER'));
  } catch (error) {
    if (!(error instanceof AlipayError)) throw error;
    const subCode = error.subCode ?? '';
    if (error.kind === 'unknown' || subCode === 'ACQ.TRADE_HAS_SUCCESS') {
      // The money may have moved: ask before anything else (ALIPAY.md §4.4, §4.16).
      const resolved = await resolveOpenTrade(
        deps,
        { ...d, chargeState: 'UNKNOWN', awaitingBuyerSince: sentAt },
        context,
        error,
      );
      return { ...resolved, isPayCall: true };
    }
    if (subCode === 'ACQ.TRADE_HAS_CLOSE') {
      // Closed earlier (cancelled, or timed out unpaid): no money under it. Charge under the next number now.
      return {
        outcome: 'TRADE_CLOSED',
        alipayCode: error.code,
        alipaySubCode: subCode,
        isPayCall: false,
        status: d.status === 'RETRYING' ? 'RETRYING' : 'PENDING',
        nextAttemptAt: deps.clock.now(),
        chargeState: null,
        awaitingBuyerSince: null,
        outTradeNo: nextOutTradeNo(d.deductionNo, d.outTradeNo!),
        lastErrorCode: subCode,
      };
    }
    if (error.kind === 'pending') return payCall(awaitingBuyer(deps, d, deps.clock.now(), 'AWAITING_BUYER'));
    const failure = { code: error.code, subCode: error.subCode ?? null };
    if (error.kind === 'retryable')
      return payCall(retryLater(deps, d, context, { ...failure, outcome: 'RETRYABLE' }));
    // Final: the agreement is gone or the request can never succeed. Retrying cannot help (ARREARS).
    return payCall(
      giveUp({ ...failure, outcome: isAgreementGone(error.subCode) ? 'AGREEMENT_GONE' : 'FINAL' }),
    );
  }
}

/**
 * The trade under the current out_trade_no may exist: find out with trade.query and act on what it says.
 * A waiting trade is polled, then cancelled; a reversal asked for meanwhile cancels it at once.
 */
async function resolveOpenTrade(
  deps: Deps,
  d: ClaimedDeduction,
  context: CollectionContext,
  cause: AlipayError | null = null,
): Promise<Step> {
  const alipay = requireAlipay(deps);
  const appAuthToken = deps.schools.appAuthToken(context.school);
  const outTradeNo = d.outTradeNo!;
  let trade: TradeState | null;
  try {
    trade = await alipay.queryTrade({ outTradeNo, appAuthToken });
  } catch (error) {
    if (!(error instanceof AlipayError)) throw error;
    return stillUnknown(deps, d, error, 'QUERY_FAILED');
  }
  if (trade && isPaid(trade)) return collected(trade, cause ? 'PAID_FOUND_BY_QUERY' : 'PAID_ON_POLL');
  const code = cause?.code ?? 'QUERY';
  const subCode = cause?.subCode ?? null;
  if (!trade) {
    // Right after a pay whose answer was lost, "no such trade" may only mean it is still being created
    // (ALIPAY.md §4.5): ask again after a poll interval before believing it.
    const openSince = d.awaitingBuyerSince ?? deps.clock.now();
    if (deps.clock.now().getTime() - openSince.getTime() < deps.config.deductions.pollIntervalMs)
      return stillUnknown(deps, { ...d, awaitingBuyerSince: openSince }, cause, 'NO_TRADE_YET');
    // No trade: the earlier call never took effect (or was never sent). Not charged, and not a failure
    // to collect: the same out_trade_no is paid again now.
    if (d.reversalRequestedAt) return voided(d);
    return chargeAgainNow(deps, d, 'NO_TRADE', cause);
  }
  if (trade.status === 'TRADE_CLOSED') {
    // It existed and closed unpaid (the buyer never confirmed, or our cancel went through): a failure.
    if (d.reversalRequestedAt) return voided(d);
    return {
      ...retryLater(deps, d, context, { outcome: 'TRADE_CLOSED', code, subCode }),
      outTradeNo: nextOutTradeNo(d.deductionNo, outTradeNo),
    };
  }
  // WAIT_BUYER_PAY
  const since = d.awaitingBuyerSince ?? deps.clock.now();
  const waitedMs = deps.clock.now().getTime() - since.getTime();
  if (!d.reversalRequestedAt && waitedMs < deps.config.deductions.pollWindowMs)
    return awaitingBuyer(deps, d, since, 'AWAITING_BUYER');
  return cancelWaitingTrade(deps, d, context);
}

async function cancelWaitingTrade(
  deps: Deps,
  d: ClaimedDeduction,
  context: CollectionContext,
): Promise<Step> {
  const alipay = requireAlipay(deps);
  const outTradeNo = d.outTradeNo!;
  try {
    const cancelled = await alipay.cancelTrade({
      outTradeNo,
      appAuthToken: deps.schools.appAuthToken(context.school),
    });
    if (cancelled.retry)
      return awaitingBuyer(deps, d, d.awaitingBuyerSince ?? deps.clock.now(), 'CANCEL_RETRY');
  } catch (error) {
    if (!(error instanceof AlipayError)) throw error;
    // Unknown whether it closed: keep asking; the query decides next time.
    return stillUnknown(deps, d, error, 'CANCEL_FAILED');
  }
  // Cancelled: closed unpaid, or (had the buyer just confirmed) refunded. Either way no money is held.
  if (d.reversalRequestedAt) return { ...voided(d), outcome: 'CANCELLED' };
  return {
    ...retryLater(deps, d, context, { outcome: 'CANCELLED', code: 'WAIT_BUYER_PAY', subCode: null }),
    outTradeNo: nextOutTradeNo(d.deductionNo, outTradeNo),
  };
}
