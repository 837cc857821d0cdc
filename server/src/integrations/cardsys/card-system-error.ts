/**
 * The one failure type of a CardSystem. `code` is our stable error code (shared/errors.ts) for the HTTP
 * surface; `classification` tells the caller what it may do next:
 *   retryable: the vendor did not act; try again later.
 *   final:     the vendor refused; trying again will not change the answer.
 *   unknown:   a change may or may not have happened (no answer to a Recharge, bind, unbind or loss).
 *              Every such call here is safe to repeat with the same inputs (Recharge with the same flow
 *              number) to learn the outcome.
 * `reason` is vendor-neutral and finer than `code`, for the domain to branch on.
 */
import type { ErrorCode } from '../../../../shared/errors.js';

export type CardSystemFailureClass = 'retryable' | 'final' | 'unknown';

export type CardSystemFailureReason =
  | 'CARD_NOT_FOUND'
  | 'CARD_LOST'
  | 'CARD_FROZEN'
  | 'ALREADY_BOUND'
  | 'NOT_BOUND'
  | 'WRONG_PASSWORD'
  | 'FLOW_NO_CONFLICT'
  | 'AMOUNT_INVALID'
  | 'INVALID_REQUEST'
  | 'AUTH_FAILED'
  | 'NOT_CONNECTED'
  | 'BUSY'
  | 'UNREACHABLE'
  | 'SERVICE_UNAVAILABLE'
  | 'TIMEOUT'
  | 'CONNECTION_LOST'
  | 'VENDOR_ERROR'
  | 'BAD_RESPONSE'
  | 'NOT_SUPPORTED';

export type CardSystemOperation =
  | 'prepare'
  | 'getCardHolder'
  | 'getBalance'
  | 'recharge'
  | 'findRecharge'
  | 'bindAlipay'
  | 'unbindAlipay'
  | 'getStatement'
  | 'reportLoss'
  | 'supportsCancelLoss'
  | 'cancelLoss';

/**
 * Refusals that are the state of the card or of its holder's input — what the user is told (no such card, it
 * is lost or frozen, bound elsewhere, a wrong password): the card system working as it should. The rest (a
 * binding we think exists and it does not, a flow number or amount it refuses, our credentials, the link)
 * may need an operator.
 */
const ABOUT_THE_CARD: ReadonlySet<CardSystemFailureReason> = new Set([
  'CARD_NOT_FOUND',
  'CARD_LOST',
  'CARD_FROZEN',
  'ALREADY_BOUND',
  'WRONG_PASSWORD',
]);

export class CardSystemError extends Error {
  override name = 'CardSystemError';
  readonly code: ErrorCode;
  readonly classification: CardSystemFailureClass;
  readonly reason: CardSystemFailureReason;
  readonly operation: CardSystemOperation;
  /** The vendor's own error code, when it sent one. */
  readonly vendorCode: string | null;

  constructor(input: {
    code: ErrorCode;
    classification: CardSystemFailureClass;
    reason: CardSystemFailureReason;
    operation: CardSystemOperation;
    message: string;
    vendorCode?: string | null;
    cause?: unknown;
  }) {
    super(input.message, input.cause === undefined ? undefined : { cause: input.cause });
    this.code = input.code;
    this.classification = input.classification;
    this.reason = input.reason;
    this.operation = input.operation;
    this.vendorCode = input.vendorCode ?? null;
  }

  get isRetryable(): boolean {
    return this.classification === 'retryable';
  }

  /** The card system's answer about the card, not a fault: logged for the record, not as a warning. */
  get isAboutTheCard(): boolean {
    return ABOUT_THE_CARD.has(this.reason);
  }
}

export function isCardSystemError(value: unknown): value is CardSystemError {
  return value instanceof CardSystemError;
}
