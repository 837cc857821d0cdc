import {
  finishChargeAttempts,
  releaseCampusCodeLease,
  type ChargeAttempt,
  type ClaimedCampusCodePayment,
  type FinishedChargeAttempt,
} from '../../db/repos/campus-code/charges.js';
import type { SchoolRow } from '../../db/repos/schools/schools.js';
import type { Deps } from '../../deps.js';
import { refusesAppAuthToken } from '../../integrations/alipay/alipay.js';
import { requireAlipay } from '../outside-errors.js';
import { attemptCharge, stepFacts, type ChargeStep } from '../payments/trade-pay-charge.js';
import {
  authorizationHold,
  authorizationRecheckAt,
  isWaitingForAuthorization,
} from '../schools/suspension.js';

/**
 * Charging an accepted campus-code payment at Alipay (seed 001 §5e, DESIGN §7.5, ALIPAY.md §4.4): one
 * `alipay.trade.pay` with scene=bar_code, auth_code = the code's final_data, the device's terminal_id, our
 * payment number as out_trade_no, on the school's app_auth_token. One call of `chargeCampusCodePayment` is one
 * attempt by the drainer that holds the payment's lease; what may happen to the charge and how an unknown
 * outcome is resolved is domain/payments/trade-pay-charge.ts, shared with the deduction collector. Here:
 *
 *   PENDING ── paid ─────────────────────────────────────────────→ PAID
 *      │   ─── Alipay refused for now (balance …), a trade closed unpaid
 *      │          → RETRYING at the school's next retry delay, never after the code's 10 days
 *      └── refused for good (the code is invalid or expired at Alipay …), the schedule used up, or the
 *          code's 10 days over before the next charge                → FAILED: the school's loss and
 *          the student's debt (db/repos/campus-code/debts.ts); final_data is dropped with PAID or FAILED.
 *
 * A school whose authorization is gone (Alipay refuses its app_auth_token, or it is suspended for that) is
 * not the student's failure: the payment is held — looked at again after the school's first retry delay,
 * using no slot of the schedule — and charged once the school authorizes again, as long as the code lives.
 */

const SUBJECT = '校园码消费';
/** Alipay takes a campus code for 10 days after it was made (seed 001 §4); after that, charging is pointless. */
export const CAMPUS_CODE_LIFE_MS = 10 * 86_400_000;

export interface ChargeContext {
  school: SchoolRow;
  /**
   * Makes the attempt's outcome durable; true when the payment moved (the lease was still ours). The
   * drainer groups the attempts that end together into one commit (jobs/campus-code/campus-code-pay.ts); by
   * default each is written on its own. Until it resolves the payment stays marked as possibly charged, so
   * a crash in between leads to a query, never a second charge.
   */
  finishAttempt?: (finished: FinishedChargeAttempt) => Promise<boolean>;
}

/** One attempt written on its own. */
async function finishAttemptAlone(deps: Pick<Deps, 'db'>, finished: FinishedChargeAttempt) {
  return (await finishChargeAttempts(deps.db, [finished])).has(finished.id);
}

type Attempt = Omit<ChargeAttempt, 'outTradeNo'> & { outTradeNo?: string };

/** Charges one payment (one attempt); answers the attempt's outcome (WAITING_FOR_AUTHORIZATION among them). */
export async function chargeCampusCodePayment(
  deps: Deps,
  payment: ClaimedCampusCodePayment,
  context: ChargeContext,
): Promise<string | undefined> {
  const lease = payment.leaseUntil!;
  let attempt: Attempt;
  try {
    attempt = await attemptOnce(deps, payment, context);
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
    return undefined;
  }
  const finish = context.finishAttempt ?? ((done) => finishAttemptAlone(deps, done));
  const finished = await finish({
    id: payment.id,
    lease,
    attempt: { ...attempt, outTradeNo: attempt.outTradeNo ?? payment.outTradeNo! },
    now: deps.clock.now(),
  });
  if (!finished) {
    deps.logger.warn('campus-code lease lost before the attempt ended', { paymentNo: payment.paymentNo });
    return undefined;
  }
  if (attempt.status === 'PAID')
    deps.logger.info('campus-code payment paid', { paymentNo: payment.paymentNo });
  if (attempt.status === 'FAILED')
    deps.logger.warn('campus-code payment failed', {
      paymentNo: payment.paymentNo,
      code: attempt.lastErrorCode,
    });
  return attempt.outcome;
}

function expiresAt(p: ClaimedCampusCodePayment): Date {
  return new Date((p.generatedAt ?? p.scannedAt).getTime() + CAMPUS_CODE_LIFE_MS);
}

function failed(outcome: string, code: string, subCode: string | null = null): Attempt {
  return {
    outcome,
    alipayCode: code,
    alipaySubCode: subCode,
    isPayCall: false,
    status: 'FAILED',
    nextAttemptAt: null,
    chargeState: null,
    chargeOpenSince: null,
    lastErrorCode: subCode ?? code,
  };
}

async function attemptOnce(
  deps: Deps,
  p: ClaimedCampusCodePayment,
  context: ChargeContext,
): Promise<Attempt> {
  const isSendingNow = p.isFreshCharge || p.chargeState === null;
  // A charge about to be sent for a code Alipay no longer takes: give up without sending (an open one is
  // still resolved first: it may have taken the money).
  if (isSendingNow && (deps.clock.now() >= expiresAt(p) || !p.finalDataEnc))
    return failed('CODE_EXPIRED', 'CODE_EXPIRED');
  // Nothing is open and Alipay would refuse the token: not worth a call.
  if (isSendingNow && isWaitingForAuthorization(context.school))
    return holdForAuthorization(deps, p, context, null);
  const alipay = requireAlipay(deps);
  const appAuthToken = deps.schools.appAuthToken(context.school);
  const step = await attemptCharge(
    {
      reference: p.paymentNo,
      outTradeNo: p.outTradeNo!,
      chargeState: p.chargeState,
      openSince: p.chargeOpenSince,
      isFresh: p.isFreshCharge,
    },
    {
      pay: (outTradeNo) =>
        alipay.payWithCode({
          outTradeNo,
          amountFen: p.amountFen,
          subject: SUBJECT,
          authCode: deps.protector.decrypt(p.finalDataEnc!),
          terminalId: p.terminalId,
          appAuthToken,
        }),
      query: (outTradeNo) => alipay.queryTrade({ outTradeNo, appAuthToken }),
      cancel: (outTradeNo) => alipay.cancelTrade({ outTradeNo, appAuthToken }),
      now: () => deps.clock.now(),
      pollIntervalMs: deps.config.deductions.pollIntervalMs,
      pollWindowMs: deps.config.deductions.pollWindowMs,
    },
  );
  return toAttempt(deps, p, context, step);
}

function toAttempt(
  deps: Deps,
  p: ClaimedCampusCodePayment,
  context: ChargeContext,
  step: ChargeStep,
): Attempt {
  const base = stepFacts(step);
  const keep = p.status === 'RETRYING' ? 'RETRYING' : 'PENDING';
  switch (step.kind) {
    case 'PAID':
      return {
        ...base,
        status: 'PAID',
        nextAttemptAt: null,
        chargeState: null,
        chargeOpenSince: null,
        alipayTradeNo: step.tradeNo,
        lastErrorCode: null,
      };
    case 'OPEN':
      return {
        ...base,
        status: keep,
        nextAttemptAt: step.nextAt,
        chargeState: step.chargeState,
        chargeOpenSince: step.openSince,
        lastErrorCode: step.errorReason ?? p.lastErrorCode,
      };
    case 'CHARGE_NOW':
      return {
        ...base,
        status: keep,
        nextAttemptAt: deps.clock.now(),
        chargeState: null,
        chargeOpenSince: null,
        outTradeNo: step.outTradeNo,
        lastErrorCode: step.errorReason ?? p.lastErrorCode,
      };
    case 'FAILED': {
      // A clean 20001 refusal of the school's token: nothing was charged, and it is not the student's failure.
      if (step.isPayCall && refusesAppAuthToken(step.code, step.subCode))
        return { ...holdForAuthorization(deps, p, context, step), outTradeNo: step.outTradeNo };
      const attempt = {
        ...failed(step.outcome, step.code, step.subCode),
        ...base,
        outTradeNo: step.outTradeNo,
      };
      if (!step.retryable) return attempt;
      const retryAt = nextRetryAt(deps, p, context);
      return retryAt
        ? { ...attempt, usesRetrySlot: true, status: 'RETRYING', nextAttemptAt: retryAt }
        : { ...attempt, usesRetrySlot: true };
    }
    case 'VOID':
      // Stryker disable next-line StringLiteral: unreachable, so its text is never seen — attemptCharge answers VOID only to a voided target, and the target above never is
      throw new Error('a campus-code payment is never voided');
  }
}

/** Held for the school's authorization (see above); past the code's last chance its life ends the payment. */
function holdForAuthorization(
  deps: Deps,
  p: ClaimedCampusCodePayment,
  context: ChargeContext,
  refusal: { code: string; subCode: string | null } | null,
): Attempt {
  const recheckAt = authorizationRecheckAt(
    context.school,
    deps.config.deductions.retryScale,
    deps.clock.now(),
  );
  const at = new Date(Math.min(recheckAt.getTime(), lastChanceAt(deps, p)));
  return {
    ...authorizationHold(refusal),
    status: p.status === 'RETRYING' ? 'RETRYING' : 'PENDING',
    // At or past the last chance: the next look finds the code expired (FAILED, CODE_EXPIRED).
    nextAttemptAt: at.getTime() > deps.clock.now().getTime() ? at : expiresAt(p),
    chargeState: null,
    chargeOpenSince: null,
  };
}

/** The last moment a charge is worth sending: one poll window and a minute before the code's 10 days end. */
function lastChanceAt(deps: Deps, p: ClaimedCampusCodePayment): number {
  return expiresAt(p).getTime() - deps.config.deductions.pollWindowMs - 60_000;
}

/**
 * The school's next retry delay after a failed charge, but never after the code's 10 days: one last try
 * shortly before it expires beats giving up with days left on it. Null: the schedule or the code's life is
 * used up.
 */
function nextRetryAt(deps: Deps, p: ClaimedCampusCodePayment, context: ChargeContext): Date | null {
  const seconds = context.school.retryScheduleSeconds[p.retriesUsed];
  // Stryker disable next-line ConditionalExpression: without it an undefined delay makes `at` NaN, and `NaN > now` is false, so null all the same
  if (seconds === undefined) return null;
  const now = deps.clock.now().getTime();
  const at = Math.min(
    now + Math.round(seconds * 1000 * deps.config.deductions.retryScale),
    lastChanceAt(deps, p),
  );
  return at > now ? new Date(at) : null;
}
