import { ERRORS, type ErrorCode } from '../../../shared/errors.js';

/**
 * The one error type of the domain: a stable code from shared/errors.ts, a message for people, and where
 * relevant the input field at fault. The HTTP layer maps it to a status in one place (http/errors.ts).
 */
export class DomainError extends Error {
  override name = 'DomainError';
  readonly code: ErrorCode;
  readonly field?: string;
  readonly details?: unknown;

  constructor(
    code: ErrorCode,
    message?: string,
    extra: { field?: string; details?: unknown; cause?: unknown } = {},
  ) {
    super(message ?? ERRORS[code].message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.code = code;
    this.field = extra.field;
    this.details = extra.details;
  }

  get status(): number {
    return ERRORS[this.code].status;
  }
}

export function isDomainError(error: unknown, code?: ErrorCode): error is DomainError {
  return error instanceof DomainError && (code === undefined || error.code === code);
}
