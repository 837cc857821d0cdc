import {
  finishChargeAttempt,
  releaseCampusCodeLease,
  type ChargeAttempt,
  type ClaimedCampusCodePayment,
} from '../../db/repos/campus-code/charges.js';
import type { SchoolRow } from '../../db/repos/schools/schools.js';
import type { Deps } from '../../deps.js';
import type { TradeState } from '../../integrations/alipay/alipay.js';
import { AlipayError } from '../../integrations/alipay/errors.js';
import { requireAlipay } from '../outside-errors.js';

/**
 * Charging an accepted campus-code payment at Alipay (seed 001 §5e, DESIGN §7.5, ALIPAY.md §4.4, §4.16):
 * `alipay.trade.pay` with scene=bar_code, auth_code = the code's final_data, the device's terminal_id, our
 * payment number as out_trade_no, on the school's app_auth_token. One call of `chargeCampusCodePayment` is
 * one attempt by the drainer that holds the payment's lease. The rules are the deduction collector's
 * (domain/withholding/deduction-collection.ts), with FAILED where it has ARREARS:
 *
 *   PENDING/RETRYING ──pay── 10000 ────────────────────────────────→ PAID
 *            │                10003 ──→ AWAITING_BUYER: query every pollInterval; paid → PAID;
 *            │                            closed → retry; still waiting after pollWindow → cancel, retry
 *            │                unknown (timeout, 20000, SYSTEM_ERROR) → query at once:
 *            │                            paid → PAID; waiting → AWAITING_BUYER;
 *            │                            closed unpaid → retry under a new out_trade_no (uses a slot);
 *            │                            no trade → never charged: charge again now (uses no slot);
 *            │                            query fails too → UNKNOWN, query again next time
 *            │                retryable (balance not enough …) → RETRYING at the school's next delay
 *            │                final (code invalid or expired at Alipay …), schedule used up,
 *            │                or the code's 10 days over → FAILED: the school's loss, the student's debt
 *
 * Never two charges: a new trade.pay is sent only when the previous one under the current out_trade_no is
 * known not to have taken money (a clean refusal, or a query that finds no trade); a closed out_trade_no is
 * never paid again, the next charge uses `<payment no>_<n>`, and only after the closure was confirmed.
 * Alipay itself takes a campus code under one trade only, and the upload accepts a code once.
 */

const SUBJECT = '校园码消费';
/** Alipay takes a campus code for 10 days after it was made (seed 001 §4); after that, charging is pointless. */
export const CAMPUS_CODE_LIFE_MS = 10 * 86_400_000;

export interface ChargeContext {
  school: SchoolRow;
}

type Step = Omit<ChargeAttempt, 'outTradeNo'> & { outTradeNo?: string };
type Failure = { outcome: string; code: string; subCode?: string | null };

function isPaid(trade: TradeState): boolean {
  return trade.status === 'TRADE_SUCCESS' || trade.status === 'TRADE_FINISHED';
}

/** `C…` → `C…_2` → `C…_3`: the next out_trade_no once the current one is closed for good. */
export function nextOutTradeNo(paymentNo: string, current: string): string {
  const suffix = current.startsWith(`${paymentNo}_`) ? Number(current.slice(paymentNo.length + 1)) : 1;
  return `${paymentNo}_${suffix + 1}`;
}

export async function chargeCampusCodePayment(
  deps: Deps,
  payment: ClaimedCampusCodePayment,
  context: ChargeContext,
): Promise<void> {
  const lease = payment.leaseUntil!;
  let step: Step;
  try {
    step = await attempt(deps, payment, context);
  } catch (error) {
    // A bug or our own database, not Alipay: give the row back and look again after a poll interval.
    deps.logger.error('campus-code charge failed unexpectedly', { paymentNo: payment.paymentNo, error });
    const now = deps.clock.now();
    await releaseCampusCodeLease(
      deps.db,
      payment.id,
      lease,
      new Date(now.getTime() + deps.config.deductions.pollIntervalMs),
      now,
    );
    return;
  }
  const finished = await finishChargeAttempt(
    deps.db,
    payment.id,
    lease,
    { ...step, outTradeNo: step.outTradeNo ?? payment.outTradeNo! },
    deps.clock.now(),
  );
  if (!finished) {
    deps.logger.warn('campus-code lease lost before the attempt ended', { paymentNo: payment.paymentNo });
    return;
  }
  if (step.status === 'PAID') deps.logger.info('campus-code payment paid', { paymentNo: payment.paymentNo });
  if (step.status === 'FAILED')
    deps.logger.warn('campus-code payment failed', {
      paymentNo: payment.paymentNo,
      code: step.lastErrorCode,
    });
}

async function attempt(deps: Deps, p: ClaimedCampusCodePayment, context: ChargeContext): Promise<Step> {
  // The claim marked a fresh row UNKNOWN for us (crash safety); it has not been sent yet.
  if (p.isFreshCharge || p.chargeState === null) return charge(deps, p, context);
  return resolveOpenTrade(deps, p, context);
}

function expiresAt(p: ClaimedCampusCodePayment): Date {
  return new Date((p.generatedAt ?? p.scannedAt).getTime() + CAMPUS_CODE_LIFE_MS);
}

function keepStatus(p: ClaimedCampusCodePayment): 'PENDING' | 'RETRYING' {
  return p.status === 'RETRYING' ? 'RETRYING' : 'PENDING';
}

function paid(trade: { tradeNo: string }, outcome: string): Step {
  return {
    outcome,
    isPayCall: false,
    status: 'PAID',
    nextAttemptAt: null,
    chargeState: null,
    chargeOpenSince: null,
    alipayTradeNo: trade.tradeNo,
    lastErrorCode: null,
  };
}

function failed(failure: Failure): Step {
  return {
    outcome: failure.outcome,
    alipayCode: failure.code,
    alipaySubCode: failure.subCode ?? null,
    isPayCall: false,
    status: 'FAILED',
    nextAttemptAt: null,
    chargeState: null,
    chargeOpenSince: null,
    lastErrorCode: failure.subCode ?? failure.code,
  };
}

/**
 * Alipay answered that the charge failed and it may be tried again: RETRYING at the school's next delay,
 * but never after the code's 10 days; FAILED when the schedule or the code's life is used up.
 */
function retryLater(deps: Deps, p: ClaimedCampusCodePayment, context: ChargeContext, failure: Failure): Step {
  const seconds = context.school.retryScheduleSeconds[p.retriesUsed];
  const now = deps.clock.now().getTime();
  // One last try shortly before the code expires beats giving up with days left on it.
  const lastChance = expiresAt(p).getTime() - deps.config.deductions.pollWindowMs - 60_000;
  const at =
    seconds === undefined
      ? null
      : Math.min(now + Math.round(seconds * 1000 * deps.config.deductions.retryScale), lastChance);
  if (at === null || at <= now) return { ...failed(failure), usesRetrySlot: true };
  return {
    ...failed(failure),
    usesRetrySlot: true,
    status: 'RETRYING',
    nextAttemptAt: new Date(at),
  };
}

/** Nothing was charged and nothing failed (the earlier call never reached Alipay's books): again, now. */
function chargeAgainNow(
  deps: Deps,
  p: ClaimedCampusCodePayment,
  outcome: string,
  cause: AlipayError | null,
): Step {
  return {
    outcome,
    alipayCode: cause?.code ?? null,
    alipaySubCode: cause?.subCode ?? null,
    isPayCall: false,
    status: keepStatus(p),
    nextAttemptAt: deps.clock.now(),
    chargeState: null,
    chargeOpenSince: null,
    lastErrorCode: p.lastErrorCode,
  };
}

function awaitingBuyer(deps: Deps, p: ClaimedCampusCodePayment, since: Date, outcome: string): Step {
  return {
    outcome,
    isPayCall: false,
    status: keepStatus(p),
    nextAttemptAt: new Date(deps.clock.now().getTime() + deps.config.deductions.pollIntervalMs),
    chargeState: 'AWAITING_BUYER',
    chargeOpenSince: since,
    lastErrorCode: p.lastErrorCode,
  };
}

function stillUnknown(
  deps: Deps,
  p: ClaimedCampusCodePayment,
  error: AlipayError | null,
  outcome: string,
): Step {
  return {
    outcome,
    alipayCode: error?.code ?? null,
    alipaySubCode: error?.subCode ?? null,
    isPayCall: false,
    status: keepStatus(p),
    nextAttemptAt: new Date(deps.clock.now().getTime() + deps.config.deductions.pollIntervalMs),
    chargeState: 'UNKNOWN',
    chargeOpenSince: p.chargeOpenSince ?? deps.clock.now(),
    lastErrorCode: error?.reason ?? p.lastErrorCode,
  };
}

async function charge(deps: Deps, p: ClaimedCampusCodePayment, context: ChargeContext): Promise<Step> {
  if (deps.clock.now() >= expiresAt(p) || !p.finalDataEnc)
    return failed({ outcome: 'CODE_EXPIRED', code: 'CODE_EXPIRED' });
  const alipay = requireAlipay(deps);
  const payCall = <T extends Step>(step: T): T => ({ ...step, isPayCall: true });
  // The row is already marked UNKNOWN (the claim): a crash from here on leaves it to be queried.
  const sentAt = deps.clock.now();
  try {
    const outcome = await alipay.payWithCode({
      outTradeNo: p.outTradeNo!,
      amountFen: p.amountFen,
      subject: SUBJECT,
      authCode: deps.protector.decrypt(p.finalDataEnc),
      terminalId: p.terminalId,
      appAuthToken: deps.schools.appAuthToken(context.school),
    });
    if (outcome.status === 'PAID') return payCall(paid(outcome, 'PAID'));
    return payCall(awaitingBuyer(deps, p, deps.clock.now(), 'AWAITING_BUYER'));
  } catch (error) {
    if (!(error instanceof AlipayError)) throw error;
    const subCode = error.subCode ?? '';
    if (error.kind === 'unknown' || subCode === 'ACQ.TRADE_HAS_SUCCESS') {
      // The money may have moved: ask before anything else (ALIPAY.md §4.4, §4.16).
      const resolved = await resolveOpenTrade(
        deps,
        { ...p, chargeState: 'UNKNOWN', chargeOpenSince: sentAt },
        context,
        error,
      );
      return payCall(resolved);
    }
    if (subCode === 'ACQ.TRADE_HAS_CLOSE') {
      // Closed earlier (cancelled, or timed out unpaid): no money under it. Charge under the next number now.
      return {
        ...chargeAgainNow(deps, p, 'TRADE_CLOSED', error),
        lastErrorCode: subCode,
        outTradeNo: nextOutTradeNo(p.paymentNo, p.outTradeNo!),
      };
    }
    if (error.kind === 'pending') return payCall(awaitingBuyer(deps, p, deps.clock.now(), 'AWAITING_BUYER'));
    const failure = { code: error.code, subCode: error.subCode ?? null };
    if (error.kind === 'retryable')
      return payCall(retryLater(deps, p, context, { ...failure, outcome: 'RETRYABLE' }));
    // Final: the code is invalid or expired at Alipay, or the request can never succeed.
    return payCall(failed({ ...failure, outcome: 'FINAL' }));
  }
}

/**
 * The trade under the current out_trade_no may exist: find out with trade.query and act on what it says.
 * A waiting trade is polled, then cancelled.
 */
async function resolveOpenTrade(
  deps: Deps,
  p: ClaimedCampusCodePayment,
  context: ChargeContext,
  cause: AlipayError | null = null,
): Promise<Step> {
  const alipay = requireAlipay(deps);
  const outTradeNo = p.outTradeNo!;
  let trade: TradeState | null;
  try {
    trade = await alipay.queryTrade({ outTradeNo, appAuthToken: deps.schools.appAuthToken(context.school) });
  } catch (error) {
    if (!(error instanceof AlipayError)) throw error;
    return stillUnknown(deps, p, error, 'QUERY_FAILED');
  }
  if (trade && isPaid(trade)) return paid(trade, cause ? 'PAID_FOUND_BY_QUERY' : 'PAID_ON_POLL');
  const code = cause?.code ?? 'QUERY';
  const subCode = cause?.subCode ?? null;
  if (!trade) {
    // Right after a pay whose answer was lost, "no such trade" may only mean it is still being created
    // (ALIPAY.md §4.5): ask again after a poll interval before believing it.
    const openSince = p.chargeOpenSince ?? deps.clock.now();
    if (deps.clock.now().getTime() - openSince.getTime() < deps.config.deductions.pollIntervalMs)
      return stillUnknown(deps, { ...p, chargeOpenSince: openSince }, cause, 'NO_TRADE_YET');
    return chargeAgainNow(deps, p, 'NO_TRADE', cause);
  }
  if (trade.status === 'TRADE_CLOSED') {
    return {
      ...retryLater(deps, p, context, { outcome: 'TRADE_CLOSED', code, subCode }),
      outTradeNo: nextOutTradeNo(p.paymentNo, outTradeNo),
    };
  }
  // WAIT_BUYER_PAY
  const since = p.chargeOpenSince ?? deps.clock.now();
  if (deps.clock.now().getTime() - since.getTime() < deps.config.deductions.pollWindowMs)
    return awaitingBuyer(deps, p, since, 'AWAITING_BUYER');
  return cancelWaitingTrade(deps, p, context);
}

async function cancelWaitingTrade(
  deps: Deps,
  p: ClaimedCampusCodePayment,
  context: ChargeContext,
): Promise<Step> {
  const alipay = requireAlipay(deps);
  const outTradeNo = p.outTradeNo!;
  try {
    const cancelled = await alipay.cancelTrade({
      outTradeNo,
      appAuthToken: deps.schools.appAuthToken(context.school),
    });
    if (cancelled.retry) return awaitingBuyer(deps, p, p.chargeOpenSince ?? deps.clock.now(), 'CANCEL_RETRY');
  } catch (error) {
    if (!(error instanceof AlipayError)) throw error;
    // Unknown whether it closed: keep asking; the query decides next time.
    return stillUnknown(deps, p, error, 'CANCEL_FAILED');
  }
  // Cancelled: closed unpaid, or (had the buyer just confirmed) refunded. Either way no money is held.
  return {
    ...retryLater(deps, p, context, { outcome: 'CANCELLED', code: 'WAIT_BUYER_PAY', subCode: null }),
    outTradeNo: nextOutTradeNo(p.paymentNo, outTradeNo),
  };
}
