/**
 * Every Alipay failure is classified once, here (ALIPAY.md §4.16), so the domain only asks one question:
 * may money have moved?
 * - `unknown`: the call may or may not have taken effect (network error, timeout, 20000, SYSTEM_ERROR).
 *   Query before doing anything else; never retry a payment with a new out_trade_no.
 * - `pending`: the trade exists and waits for the buyer (10003). Poll, then cancel.
 * - `retryable`: it did not take effect and may succeed later (balance, rate limits).
 * - `final`: it did not take effect and will not by retrying (parameters, contract, agreement).
 */
export type AlipayFailureKind = 'unknown' | 'pending' | 'retryable' | 'final';

export class AlipayError extends Error {
  override name = 'AlipayError';
  constructor(
    readonly kind: AlipayFailureKind,
    readonly method: string,
    readonly code: string,
    readonly subCode: string | undefined,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${method}: ${code}${subCode ? ` ${subCode}` : ''} ${message}`.trim(), options);
  }

  /** The code to record and show: the sub_code when Alipay gave one. */
  get reason(): string {
    return this.subCode ?? this.code;
  }
}

const RETRYABLE_SUB_CODES = new Set([
  'ACQ.BUYER_BALANCE_NOT_ENOUGH',
  'ACQ.BUYER_BANKCARD_BALANCE_NOT_ENOUGH',
  'ACQ.SELLER_BALANCE_NOT_ENOUGH',
  'ACQ.PAYMENT_FAIL',
  'ACQ.FREQUENCY_LIMITED',
  'ACQ.BUYER_PAYMENT_AMOUNT_DAY_LIMIT_ERROR',
  'ACQ.BUYER_PAYMENT_AMOUNT_MONTH_LIMIT_ERROR',
  'ACQ.NO_PAYMENT_INSTRUMENTS_AVAILABLE',
]);

const UNKNOWN_SUB_CODES = new Set([
  'ACQ.SYSTEM_ERROR',
  'AQC.SYSTEM_ERROR',
  'SYSTEM_ERROR',
  'isp.unknow-error',
  'aop.unknow-error',
]);

export function classifyFailure(code: string, subCode: string | undefined): AlipayFailureKind {
  if (code === '10003') return 'pending';
  if (code === '20000' || (subCode && UNKNOWN_SUB_CODES.has(subCode))) return 'unknown';
  if (code === '40005') return 'retryable';
  // 20001: the school's app_auth_token (or a user token) expired or was revoked. The school must authorize
  // again; nothing is wrong with the payer, so their debts must not turn final (ALIPAY.md §2.3).
  if (code === '20001') return 'retryable';
  if (subCode && RETRYABLE_SUB_CODES.has(subCode)) return 'retryable';
  return 'final';
}

/** Agreement problems mean the user must sign again (ALIPAY.md §4.4); Alipay spells them several ways. */
export function isAgreementGone(subCode: string | undefined): boolean {
  return (
    !!subCode && /AGREEMENT_(NOT_EXIST|NOT_EXSIT|INVALID|STATUS_NOT_NORMAL|ERROR|HAS_UNSIGNED)/.test(subCode)
  );
}
