/**
 * Turns whatever the `soap` client threw into a CardSystemError: a vendor fault by its ErrorCode, a transport
 * failure by how far the request got. The distinction that matters for money: could the vendor have acted?
 * A refused connection or a 503 means no; a timeout or a dropped connection after sending means maybe.
 */
import type { ErrorCode } from '../../../../../shared/errors.js';
import {
  CardSystemError,
  type CardSystemFailureClass,
  type CardSystemFailureReason,
  type CardSystemOperation,
} from '../card-system-error.js';

/** The vendor's refusals: final, whatever the operation. */
const REFUSALS: Record<string, { code: ErrorCode; reason: CardSystemFailureReason }> = {
  CARD_NOT_EXIST: { code: 'CARD_NOT_FOUND', reason: 'CARD_NOT_FOUND' },
  CARD_LOST: { code: 'CARD_NOT_NORMAL', reason: 'CARD_LOST' },
  CARD_FROZEN: { code: 'CARD_NOT_NORMAL', reason: 'CARD_FROZEN' },
  ALREADY_BOUND: { code: 'CARD_SYSTEM_REJECTED', reason: 'ALREADY_BOUND' },
  NOT_BOUND: { code: 'CARD_SYSTEM_REJECTED', reason: 'NOT_BOUND' },
  PASSWORD_ERROR: { code: 'CARD_SYSTEM_REJECTED', reason: 'WRONG_PASSWORD' },
  FLOW_NO_CONFLICT: { code: 'CARD_SYSTEM_REJECTED', reason: 'FLOW_NO_CONFLICT' },
  AMOUNT_INVALID: { code: 'AMOUNT_OUT_OF_RANGE', reason: 'AMOUNT_INVALID' },
  PARAM_ERROR: { code: 'CARD_SYSTEM_REJECTED', reason: 'INVALID_REQUEST' },
  AUTH_FAILED: { code: 'CARD_SYSTEM_REJECTED', reason: 'AUTH_FAILED' },
};

/** The vendor says it is overloaded and did nothing. */
const BUSY_CODES = new Set(['SYSTEM_BUSY']);

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
const TIMEOUT_CODES = new Set([
  'ECONNABORTED',
  'ETIMEDOUT',
  'ERR_CANCELED',
  'ABORT_ERR',
  'UND_ERR_CONNECT_TIMEOUT',
]);
const CONNECTION_LOST_CODES = new Set(['ECONNRESET', 'EPIPE', 'ERR_BAD_RESPONSE']);

export interface SoapFault {
  faultcode: string;
  faultstring: string;
  vendorCode: string | null;
}

function valueOf(node: unknown): string {
  if (typeof node === 'string') return node;
  if (node && typeof node === 'object' && '$value' in node)
    return String((node as { $value: unknown }).$value);
  return '';
}

export function soapFaultOf(error: unknown): SoapFault | null {
  const fault = (error as { root?: { Envelope?: { Body?: { Fault?: Record<string, unknown> } } } })?.root
    ?.Envelope?.Body?.Fault;
  if (!fault) return null;
  const detail = fault.detail as { CardServiceError?: { ErrorCode?: unknown } } | undefined;
  return {
    faultcode: valueOf(fault.faultcode),
    faultstring: valueOf(fault.faultstring),
    vendorCode: valueOf(detail?.CardServiceError?.ErrorCode) || null,
  };
}

/**
 * The call went out on a kept-alive connection (one an earlier call opened) and that connection died
 * before any answer came: most often the vendor had closed it while it sat idle and our request met the
 * close. Whether the vendor read the request is as unknown as for any dropped connection, so only a call
 * that is safe to send twice may be sent again (soap-card-system.ts); a fresh connection then tells
 * "refused" from "answered" as it always did.
 */
export function isLostKeptConnection(error: unknown): boolean {
  const failure = error as {
    code?: unknown;
    message?: unknown;
    response?: unknown;
    request?: { reusedSocket?: unknown };
  };
  if (failure?.request?.reusedSocket !== true || failure.response) return false;
  return (
    (typeof failure.code === 'string' && CONNECTION_LOST_CODES.has(failure.code)) ||
    /socket hang up/i.test(String(failure.message ?? ''))
  );
}

/**
 * The raw error carries the request (with the WS-Security password) and the answer (with holder names):
 * keep only its message so that logging a CardSystemError with its cause can never leak either.
 */
function causeOf(error: unknown): Error {
  const cause = new Error(error instanceof Error ? error.message : String(error));
  cause.name = error instanceof Error ? error.name : 'Error';
  return cause;
}

/**
 * @param mayHaveActed the request reached the vendor and changes something (Recharge, bind, unbind, loss):
 *   ambiguous failures are then `unknown` instead of `retryable`.
 */
export function classifySoapFailure(
  operation: CardSystemOperation,
  error: unknown,
  mayHaveActed: boolean,
): CardSystemError {
  const ambiguous: CardSystemFailureClass = mayHaveActed ? 'unknown' : 'retryable';
  const fail = (
    code: ErrorCode,
    classification: CardSystemFailureClass,
    reason: CardSystemFailureReason,
    message: string,
    vendorCode: string | null = null,
  ) =>
    new CardSystemError({
      code,
      classification,
      reason,
      operation,
      message,
      vendorCode,
      cause: causeOf(error),
    });

  const fault = soapFaultOf(error);
  if (fault) {
    const refusal = fault.vendorCode ? REFUSALS[fault.vendorCode] : undefined;
    const message = `card system fault ${fault.vendorCode ?? fault.faultcode}: ${fault.faultstring}`;
    if (refusal) return fail(refusal.code, 'final', refusal.reason, message, fault.vendorCode);
    if (fault.vendorCode && BUSY_CODES.has(fault.vendorCode)) {
      return fail('CARD_SYSTEM_UNAVAILABLE', 'retryable', 'BUSY', message, fault.vendorCode);
    }
    // soap:Client means "your request is wrong": asking again will not help. A server fault we do not know
    // may have come after the change was made.
    return /Client$/.test(fault.faultcode)
      ? fail('CARD_SYSTEM_REJECTED', 'final', 'VENDOR_ERROR', message, fault.vendorCode)
      : fail('CARD_SYSTEM_UNAVAILABLE', ambiguous, 'VENDOR_ERROR', message, fault.vendorCode);
  }

  const code = (error as { code?: unknown })?.code;
  const message = (error as Error)?.message ?? String(error);
  if (typeof code === 'string' && UNREACHABLE_CODES.has(code)) {
    return fail('CARD_SYSTEM_UNAVAILABLE', 'retryable', 'UNREACHABLE', `card system unreachable: ${code}`);
  }
  if ((typeof code === 'string' && TIMEOUT_CODES.has(code)) || (error as Error)?.name === 'TimeoutError') {
    return fail('CARD_SYSTEM_UNAVAILABLE', ambiguous, 'TIMEOUT', 'card system did not answer in time');
  }
  if ((typeof code === 'string' && CONNECTION_LOST_CODES.has(code)) || /socket hang up/i.test(message)) {
    return fail(
      'CARD_SYSTEM_UNAVAILABLE',
      ambiguous,
      'CONNECTION_LOST',
      `card system dropped the connection: ${message}`,
    );
  }

  const status = (error as { response?: { status?: unknown } })?.response?.status;
  if (typeof status === 'number') {
    if (status === 503 || status === 429) {
      return fail(
        'CARD_SYSTEM_UNAVAILABLE',
        'retryable',
        'SERVICE_UNAVAILABLE',
        `card system answered HTTP ${status}`,
      );
    }
    if (status === 401 || status === 403) {
      return fail('CARD_SYSTEM_REJECTED', 'final', 'AUTH_FAILED', `card system answered HTTP ${status}`);
    }
    if (status >= 400 && status < 500) {
      return fail('CARD_SYSTEM_REJECTED', 'final', 'INVALID_REQUEST', `card system answered HTTP ${status}`);
    }
    return fail(
      'CARD_SYSTEM_UNAVAILABLE',
      ambiguous,
      'SERVICE_UNAVAILABLE',
      `card system answered HTTP ${status}`,
    );
  }
  return fail('CARD_SYSTEM_UNAVAILABLE', ambiguous, 'VENDOR_ERROR', `card system call failed: ${message}`);
}
