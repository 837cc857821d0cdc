import {
  finishAttempt,
  releaseLease,
  requestReversal,
  type AttemptResult,
  type ClaimedDeduction,
} from '../../db/repos/withholding/deductions.js';
import type { SchoolRow } from '../../db/repos/schools/schools.js';
import type { Deps } from '../../deps.js';
import { refusesAppAuthToken } from '../../integrations/alipay/alipay.js';
import { isAgreementGone } from '../../integrations/alipay/errors.js';
import { attemptCharge, stepFacts, type ChargeStep } from '../payments/trade-pay-charge.js';
import {
  authorizationHold,
  authorizationRecheckAt,
  isWaitingForAuthorization,
} from '../schools/suspension.js';
import { refundReversedDeduction } from './deduction-refunds.js';
import { requireAlipay } from '../outside-errors.js';
import { announceCollection } from '../messages/events.js';

/**
 * Collecting an approved swipe from Alipay (DESIGN §7.4, ALIPAY.md §4.4, §4.16): `alipay.trade.pay`
 * GENERAL_WITHHOLDING with the payer's agreement_no, our deduction number as out_trade_no. One call of
 * `collectDeduction` is one attempt by a collector that holds the deduction's lease. What may happen to the
 * charge, and how an unknown outcome is resolved before anything else (query first, poll and cancel a
 * waiting trade, a new out_trade_no only after a confirmed close, "no such trade" = charge again now), is
 * domain/payments/trade-pay-charge.ts, shared with the campus-code drainer. Here, what it means for a swipe:
 *
 *   PENDING/RETRYING ── paid ────────────────────────────────────→ COLLECTED
 *            │   ───── refused for now (balance …), a trade closed unpaid → RETRYING at the school's next
 *            │                                                      retry delay (uses a slot)
 *            │   ───── refused for good (agreement gone …), no agreement, schedule used up → ARREARS
 *            └── reversal asked → never charged again: void it, or resolve the open trade first
 *
 * The schedule: each charge Alipay answers as failed (a refusal, a trade that closed unpaid) uses the next
 * slot of the school's retry schedule (`retries_used`); used up → ARREARS. A charge whose outcome was
 * unknown and that a query then finds never happened (a timeout before Alipay saw it, a collector stopped
 * or killed between its claim and its trade.pay) was not a failure to collect: it is charged again at
 * once and uses no slot. So a deduction ends in ARREARS only because Alipay said no often enough.
 *
 * Nor is a school that withdrew its authorization (issue 10): while Alipay refuses the school's
 * app_auth_token, or the school is suspended for that reason, a swipe approved before is held — tried again
 * after the school's first retry delay, using no slot and never ARREARS for the payer — and collected once
 * the school authorizes again.
 */

const SUBJECT = '校园卡刷卡消费';

export interface CollectionContext {
  school: SchoolRow;
}

type Step = Omit<AttemptResult, 'outTradeNo'> & { outTradeNo?: string };

/** One attempt; resolves with its outcome (the attempt row's), or undefined when it could not end. */
export async function collectDeduction(
  deps: Deps,
  deduction: ClaimedDeduction,
  context: CollectionContext,
): Promise<string | undefined> {
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
  await announceCollection(deps, deduction, step).catch((error: unknown) =>
    deps.logger.warn('could not queue the payer’s message', { deductionNo: deduction.deductionNo, error }),
  );
  if (finished.reversalRequested) await finishReversal(deps, deduction.id);
  return step.outcome;
}

/** After an attempt on a deduction whose reversal was asked for while the attempt ran. */
async function finishReversal(deps: Deps, id: string): Promise<void> {
  const marked = await requestReversal(deps.db, id, deps.clock.now());
  // Refunds only what was collected (COLLECTED or SETTLED); a swipe voided or still owed is left as it is.
  if (marked) await refundReversedDeduction(deps, marked);
}

async function attempt(deps: Deps, d: ClaimedDeduction, context: CollectionContext): Promise<Step> {
  const isSendingNow =
    d.isFreshCharge ||
    // Stryker disable next-line ConditionalExpression: equivalent (`false`) — the claim marks a row fresh exactly when it has no charge open and no reversal asked (claimDueDeductions, claimDeductionNow), so a row that is not fresh never has both; the `true` variant, disabled with it, is killed by collection-leftovers.test.ts
    (d.chargeState === null && !d.reversalRequestedAt);
  if (isSendingNow && !d.agreementNo) return giveUp({ outcome: 'NO_AGREEMENT', code: 'NO_AGREEMENT' });
  // Nothing is open and Alipay would refuse the token: not worth a call (the claim's UNKNOWN mark is lifted).
  if (isSendingNow && !d.reversalRequestedAt && isWaitingForAuthorization(context.school))
    return holdForAuthorization(deps, d, context, null);
  const alipay = requireAlipay(deps);
  const appAuthToken = deps.schools.appAuthToken(context.school);
  // A fresh row is already marked UNKNOWN (claimDueDeductions): a crash from here on leaves it to be queried.
  const step = await attemptCharge(
    {
      reference: d.deductionNo,
      outTradeNo: d.outTradeNo!,
      chargeState: d.chargeState,
      openSince: d.awaitingBuyerSince,
      isFresh: d.isFreshCharge,
      isVoided: d.reversalRequestedAt !== null,
    },
    {
      pay: (outTradeNo) =>
        alipay.payWithAgreement({
          outTradeNo,
          amountFen: d.amountFen!,
          subject: SUBJECT,
          agreementNo: d.agreementNo!,
          appAuthToken,
        }),
      query: (outTradeNo) => alipay.queryTrade({ outTradeNo, appAuthToken }),
      cancel: (outTradeNo) => alipay.cancelTrade({ outTradeNo, appAuthToken }),
      now: () => deps.clock.now(),
      pollIntervalMs: deps.config.deductions.pollIntervalMs,
      pollWindowMs: deps.config.deductions.pollWindowMs,
    },
  );
  return toStep(deps, d, context, step);
}

function toStep(deps: Deps, d: ClaimedDeduction, context: CollectionContext, step: ChargeStep): Step {
  const base = stepFacts(step);
  const keep = d.status === 'RETRYING' ? 'RETRYING' : 'PENDING';
  switch (step.kind) {
    case 'PAID':
      return {
        ...base,
        status: 'COLLECTED',
        nextAttemptAt: null,
        chargeState: null,
        awaitingBuyerSince: null,
        alipayTradeNo: step.tradeNo,
        lastErrorCode: null,
      };
    case 'OPEN':
      // awaitingBuyerSince doubles as "open since": when the charge that may have moved money was sent.
      return {
        ...base,
        status: keep,
        nextAttemptAt: step.nextAt,
        chargeState: step.chargeState,
        awaitingBuyerSince: step.openSince,
        lastErrorCode: step.errorReason ?? d.lastErrorCode,
      };
    case 'CHARGE_NOW':
      return {
        ...base,
        status: keep,
        nextAttemptAt: deps.clock.now(),
        chargeState: null,
        awaitingBuyerSince: null,
        outTradeNo: step.outTradeNo,
        lastErrorCode: step.errorReason ?? d.lastErrorCode,
      };
    case 'FAILED': {
      const failure = { code: step.code, subCode: step.subCode };
      // A clean 20001 refusal of the school's token: nothing was charged, and it is not the payer's failure.
      if (step.isPayCall && refusesAppAuthToken(step.code, step.subCode))
        return holdForAuthorization(deps, d, context, failure);
      if (!step.retryable) {
        // Final: the agreement is gone or the request can never succeed. Retrying cannot help (ARREARS).
        const outcome = isAgreementGone(step.subCode ?? undefined) ? 'AGREEMENT_GONE' : step.outcome;
        return { ...giveUp({ ...failure, outcome }), isPayCall: step.isPayCall, outTradeNo: step.outTradeNo };
      }
      return {
        ...retryLater(deps, d, context, { ...failure, outcome: step.outcome }),
        isPayCall: step.isPayCall,
        outTradeNo: step.outTradeNo,
      };
    }
    case 'VOID':
      return {
        ...base,
        status: 'REVERSED',
        nextAttemptAt: null,
        chargeState: null,
        awaitingBuyerSince: null,
        lastErrorCode: d.lastErrorCode,
      };
  }
}

/**
 * Alipay answered that the charge failed and it may be tried again: RETRYING at the school's next delay,
 * or ARREARS when the schedule is used up. Uses one slot of the schedule (`retries_used`). The caller adds
 * whether the attempt made a trade.pay call (the failure may be the query's or the cancel's).
 */
function retryLater(
  deps: Deps,
  d: ClaimedDeduction,
  context: CollectionContext,
  failure: { outcome: string; code: string; subCode?: string | null },
): Omit<Step, 'isPayCall'> {
  const seconds = context.school.retryScheduleSeconds[d.retriesUsed];
  const base = {
    outcome: failure.outcome,
    alipayCode: failure.code,
    alipaySubCode: failure.subCode ?? null,
    usesRetrySlot: true,
    chargeState: null,
    awaitingBuyerSince: null,
    lastErrorCode: failure.subCode ?? failure.code,
  };
  if (seconds === undefined) return { ...base, status: 'ARREARS', nextAttemptAt: null };
  const delayMs = Math.round(seconds * 1000 * deps.config.deductions.retryScale);
  return { ...base, status: 'RETRYING', nextAttemptAt: new Date(deps.clock.now().getTime() + delayMs) };
}

/**
 * The school's authorization is gone (see the top): the same status, tried again after the school's first
 * retry delay, under the same out_trade_no (nothing was charged), without using a slot.
 */
function holdForAuthorization(
  deps: Deps,
  d: ClaimedDeduction,
  context: CollectionContext,
  refusal: { code: string; subCode: string | null } | null,
): Step {
  return {
    ...authorizationHold(refusal),
    status: d.status === 'RETRYING' ? 'RETRYING' : 'PENDING',
    nextAttemptAt: authorizationRecheckAt(
      context.school,
      deps.config.deductions.retryScale,
      deps.clock.now(),
    ),
    chargeState: null,
    awaitingBuyerSince: null,
  };
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
