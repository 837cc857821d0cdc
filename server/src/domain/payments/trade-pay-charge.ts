import type { PayOutcome, TradeState } from '../../integrations/alipay/alipay.js';
import { AlipayError } from '../../integrations/alipay/errors.js';

/**
 * One attempt at a charge made with `alipay.trade.pay` whose answer may be lost (ALIPAY.md §4.4, §4.16):
 * the rules shared by the deduction collector (withholding) and the campus-code drainer (bar code).
 *
 *   nothing open ──pay── 10000 ──────────────────────────────────→ PAID
 *        │               10003 ──→ OPEN AWAITING_BUYER: query every pollInterval;
 *        │                          paid → PAID; closed → FAILED (retryable); still waiting after
 *        │                          pollWindow (or voided) → cancel → FAILED (retryable)
 *        │               unknown (timeout, 20000, SYSTEM_ERROR, TRADE_HAS_SUCCESS) → query at once:
 *        │                          paid → PAID; waiting → OPEN AWAITING_BUYER;
 *        │                          closed unpaid → FAILED (retryable) under the next out_trade_no;
 *        │                          no trade → CHARGE_NOW (never charged: no failure to count);
 *        │                          query fails too → OPEN UNKNOWN, query again next time
 *        │               TRADE_HAS_CLOSE → CHARGE_NOW under the next out_trade_no
 *        │               refused: FAILED, retryable (balance …) or not (code invalid, agreement gone …)
 *        └── voided (a reversal was asked) and nothing open → VOID; an open trade is resolved first
 *
 * Never two charges: a new trade.pay goes out only when the previous one under the current out_trade_no is
 * known not to have taken money (a clean refusal, or a query that finds no trade). A closed out_trade_no is
 * never paid again (Alipay refuses it); the next charge uses `<reference>_<n>`, and only once the closure
 * was confirmed by a query or a cancel. What a failure means (retry on a schedule, give up) is the caller's.
 */

export type OpenChargeState = 'UNKNOWN' | 'AWAITING_BUYER';

export interface ChargeTarget {
  /** Our order number; later out_trade_nos are `<reference>_<n>`. */
  reference: string;
  outTradeNo: string;
  /** What may exist under outTradeNo: null = nothing was charged with it. */
  chargeState: OpenChargeState | null;
  /** When the open charge was sent, or began to wait for the buyer. */
  openSince: Date | null;
  /** The claim marked the row UNKNOWN on our behalf and nothing has been sent yet: charge it. */
  isFresh: boolean;
  /** A reversal was asked for: never charge again, cancel a waiting trade at once. */
  isVoided?: boolean;
}

export interface ChargeCalls {
  pay(outTradeNo: string): Promise<PayOutcome>;
  /** null when Alipay has no such trade. */
  query(outTradeNo: string): Promise<TradeState | null>;
  cancel(outTradeNo: string): Promise<{ retry: boolean }>;
  now(): Date;
  pollIntervalMs: number;
  pollWindowMs: number;
}

interface StepBase {
  /** What the attempt found, for the attempts log: PAID, AWAITING_BUYER, NO_TRADE, TRADE_CLOSED … */
  outcome: string;
  /** This attempt made a trade.pay call. */
  isPayCall: boolean;
  alipayCode?: string | null;
  alipaySubCode?: string | null;
}

export type ChargeStep = StepBase &
  (
    | { kind: 'PAID'; tradeNo: string }
    /** A trade may exist and its outcome is open: look again at `nextAt`. */
    | {
        kind: 'OPEN';
        chargeState: OpenChargeState;
        openSince: Date;
        nextAt: Date;
        errorReason: string | null;
      }
    /** Nothing was charged and nothing failed: charge now, under `outTradeNo`. */
    | { kind: 'CHARGE_NOW'; outTradeNo: string; errorReason: string | null }
    /** Alipay answered that the charge failed; the next one (if any) goes under `outTradeNo`. */
    | { kind: 'FAILED'; retryable: boolean; code: string; subCode: string | null; outTradeNo: string }
    /** Voided with nothing open: it will never be charged. */
    | { kind: 'VOID' }
  );

/** What every attempt records of its step, whatever the drainer makes of it (the attempts log's columns). */
export function stepFacts(step: ChargeStep) {
  return {
    outcome: step.outcome,
    isPayCall: step.isPayCall,
    alipayCode: step.alipayCode ?? null,
    alipaySubCode: step.alipaySubCode ?? null,
  };
}

/** `D…` → `D…_2` → `D…_3`: the next out_trade_no once the current one is closed for good. */
export function nextOutTradeNo(reference: string, current: string): string {
  const suffix = current.startsWith(`${reference}_`) ? Number(current.slice(reference.length + 1)) : 1;
  return `${reference}_${suffix + 1}`;
}

function isPaid(trade: TradeState): boolean {
  return trade.status === 'TRADE_SUCCESS' || trade.status === 'TRADE_FINISHED';
}

export async function attemptCharge(target: ChargeTarget, calls: ChargeCalls): Promise<ChargeStep> {
  if (target.isFresh) return charge(target, calls);
  if (target.chargeState !== null) return resolveOpenTrade(target, calls);
  if (target.isVoided) return { kind: 'VOID', outcome: 'REVERSED', isPayCall: false };
  return charge(target, calls);
}

function open(
  calls: ChargeCalls,
  chargeState: OpenChargeState,
  openSince: Date,
  outcome: string,
  error: AlipayError | null = null,
): ChargeStep {
  return {
    kind: 'OPEN',
    outcome,
    isPayCall: false,
    chargeState,
    openSince,
    nextAt: new Date(calls.now().getTime() + calls.pollIntervalMs),
    errorReason: error?.reason ?? null,
    alipayCode: error?.code ?? null,
    alipaySubCode: error?.subCode ?? null,
  };
}

async function charge(target: ChargeTarget, calls: ChargeCalls): Promise<ChargeStep> {
  const sentAt = calls.now();
  try {
    const paid = await calls.pay(target.outTradeNo);
    if (paid.status === 'PAID')
      return { kind: 'PAID', outcome: 'PAID', tradeNo: paid.tradeNo, isPayCall: true };
    return { ...open(calls, 'AWAITING_BUYER', calls.now(), 'AWAITING_BUYER'), isPayCall: true };
  } catch (error) {
    if (!(error instanceof AlipayError)) throw error;
    const subCode = error.subCode ?? null;
    if (error.kind === 'unknown' || subCode === 'ACQ.TRADE_HAS_SUCCESS') {
      // The money may have moved: ask before anything else (ALIPAY.md §4.4, §4.16).
      const resolved = await resolveOpenTrade(
        { ...target, chargeState: 'UNKNOWN', openSince: sentAt },
        calls,
        error,
      );
      return { ...resolved, isPayCall: true };
    }
    if (subCode === 'ACQ.TRADE_HAS_CLOSE') {
      // Closed earlier (cancelled, or timed out unpaid): no money under it. Charge under the next number now.
      return {
        kind: 'CHARGE_NOW',
        outcome: 'TRADE_CLOSED',
        isPayCall: false,
        alipayCode: error.code,
        alipaySubCode: subCode,
        errorReason: subCode,
        outTradeNo: nextOutTradeNo(target.reference, target.outTradeNo),
      };
    }
    if (error.kind === 'pending')
      return { ...open(calls, 'AWAITING_BUYER', calls.now(), 'AWAITING_BUYER'), isPayCall: true };
    return {
      kind: 'FAILED',
      outcome: error.kind === 'retryable' ? 'RETRYABLE' : 'FINAL',
      isPayCall: true,
      retryable: error.kind === 'retryable',
      code: error.code,
      subCode,
      alipayCode: error.code,
      alipaySubCode: subCode,
      outTradeNo: target.outTradeNo,
    };
  }
}

/**
 * The trade under the current out_trade_no may exist: find out with trade.query and act on what it says.
 * A waiting trade is polled, then cancelled; a voided one is cancelled at once.
 */
async function resolveOpenTrade(
  target: ChargeTarget,
  calls: ChargeCalls,
  cause: AlipayError | null = null,
): Promise<ChargeStep> {
  const openSince = target.openSince ?? calls.now();
  let trade: TradeState | null;
  try {
    trade = await calls.query(target.outTradeNo);
  } catch (error) {
    if (!(error instanceof AlipayError)) throw error;
    return open(calls, 'UNKNOWN', openSince, 'QUERY_FAILED', error);
  }
  if (trade && isPaid(trade))
    return {
      kind: 'PAID',
      outcome: cause ? 'PAID_FOUND_BY_QUERY' : 'PAID_ON_POLL',
      tradeNo: trade.tradeNo,
      isPayCall: false,
    };
  const code = cause?.code ?? 'QUERY';
  const subCode = cause?.subCode ?? null;
  if (!trade) {
    // Right after a pay whose answer was lost, "no such trade" may only mean it is still being created
    // (ALIPAY.md §4.5): ask again after a poll interval before believing it.
    if (calls.now().getTime() - openSince.getTime() < calls.pollIntervalMs)
      return open(calls, 'UNKNOWN', openSince, 'NO_TRADE_YET', cause);
    // No trade: the earlier call never took effect (or was never sent). Not charged, and not a failure.
    if (target.isVoided) return { kind: 'VOID', outcome: 'REVERSED', isPayCall: false };
    return {
      kind: 'CHARGE_NOW',
      outcome: 'NO_TRADE',
      isPayCall: false,
      alipayCode: cause?.code ?? null,
      alipaySubCode: subCode,
      errorReason: null,
      outTradeNo: target.outTradeNo,
    };
  }
  if (trade.status === 'TRADE_CLOSED') {
    // It existed and closed unpaid (the buyer never confirmed, or our cancel went through): a failure.
    if (target.isVoided) return { kind: 'VOID', outcome: 'REVERSED', isPayCall: false };
    return {
      kind: 'FAILED',
      outcome: 'TRADE_CLOSED',
      isPayCall: false,
      retryable: true,
      code,
      subCode,
      alipayCode: code,
      alipaySubCode: subCode,
      outTradeNo: nextOutTradeNo(target.reference, target.outTradeNo),
    };
  }
  // WAIT_BUYER_PAY
  if (!target.isVoided && calls.now().getTime() - openSince.getTime() < calls.pollWindowMs)
    return open(calls, 'AWAITING_BUYER', openSince, 'AWAITING_BUYER');
  return cancelWaitingTrade(target, calls, openSince);
}

async function cancelWaitingTrade(
  target: ChargeTarget,
  calls: ChargeCalls,
  openSince: Date,
): Promise<ChargeStep> {
  try {
    const cancelled = await calls.cancel(target.outTradeNo);
    if (cancelled.retry) return open(calls, 'AWAITING_BUYER', openSince, 'CANCEL_RETRY');
  } catch (error) {
    if (!(error instanceof AlipayError)) throw error;
    // Unknown whether it closed: keep asking; the query decides next time.
    return open(calls, 'UNKNOWN', openSince, 'CANCEL_FAILED', error);
  }
  // Cancelled: closed unpaid, or (had the buyer just confirmed) refunded. Either way no money is held.
  if (target.isVoided) return { kind: 'VOID', outcome: 'CANCELLED', isPayCall: false };
  return {
    kind: 'FAILED',
    outcome: 'CANCELLED',
    isPayCall: false,
    retryable: true,
    code: 'WAIT_BUYER_PAY',
    subCode: null,
    alipayCode: 'WAIT_BUYER_PAY',
    alipaySubCode: null,
    outTradeNo: nextOutTradeNo(target.reference, target.outTradeNo),
  };
}
