import type { Middleware, Context } from 'koa';
import { ERRORS, type ErrorBody, type ErrorCode } from '../../../shared/errors.js';
import { DomainError } from '../domain/errors.js';
import type { Logger } from '../lib/logger.js';

interface HttpLikeError {
  status?: number;
  statusCode?: number;
  type?: string;
  expose?: boolean;
  message?: string;
}

/** Errors thrown by body parsing and routing carry an HTTP status; give them our stable codes. */
function fromHttpError(error: HttpLikeError): DomainError | undefined {
  const status = error.status ?? error.statusCode;
  if (!status || status >= 500) return undefined;
  if (status === 413) return new DomainError('BODY_TOO_LARGE');
  if (status === 415) return new DomainError('UNSUPPORTED_MEDIA_TYPE');
  if (status === 404) return new DomainError('NOT_FOUND');
  if (status === 405) return new DomainError('METHOD_NOT_ALLOWED');
  if (status === 400) {
    const message =
      error.type === 'entity.parse.failed' || /JSON/i.test(error.message ?? '')
        ? 'The body is not valid JSON'
        : error.message;
    return new DomainError('VALIDATION_FAILED', message, { field: 'body' });
  }
  return undefined;
}

/**
 * koa-body's `onError`: a body that cannot be read is the caller's fault, whatever broke — JSON, the form
 * encoding, the charset, or a Content-Encoding that does not decode (zlib errors carry no HTTP status).
 */
export function rejectUnreadableBody(error: Error & HttpLikeError): never {
  const status = error.status ?? error.statusCode;
  if (status === 413) throw new DomainError('BODY_TOO_LARGE');
  if (status === 415)
    throw new DomainError('UNSUPPORTED_MEDIA_TYPE', `Unsupported content type or encoding: ${error.message}`);
  const reason =
    error.type === 'entity.parse.failed' || /JSON/i.test(error.message ?? '')
      ? 'The body is not valid JSON'
      : 'The body could not be decoded';
  throw new DomainError('VALIDATION_FAILED', reason, { field: 'body' });
}

export function sendError(ctx: Context, error: DomainError): void {
  const body: ErrorBody = {
    error: {
      code: error.code,
      message: error.message,
      ...(error.field ? { field: error.field } : {}),
      ...(error.details !== undefined ? { details: error.details } : {}),
    },
    requestId: ctx.state.requestId,
  };
  ctx.status = error.status;
  ctx.body = body;
}

/** The one place where errors become responses (DESIGN §6): `{error:{code,message,field?},requestId}`. */
export function errorHandler(logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.body === undefined || ctx.body === null) {
        if (ctx.status === 404) sendError(ctx, new DomainError('NOT_FOUND'));
        else if (ctx.status === 405 || ctx.status === 501)
          sendError(ctx, new DomainError('METHOD_NOT_ALLOWED'));
      }
    } catch (error) {
      const known = error instanceof DomainError ? error : fromHttpError(error as HttpLikeError);
      if (known) {
        if (known.status >= 500)
          logger.warn('request failed', {
            requestId: ctx.state.requestId,
            code: known.code,
            error: known.message,
          });
        sendError(ctx, known);
        return;
      }
      logger.error('unhandled error', {
        requestId: ctx.state.requestId,
        method: ctx.method,
        path: ctx.path,
        error,
      });
      sendError(ctx, new DomainError('INTERNAL'));
    }
  };
}

export function statusOf(code: ErrorCode): number {
  return ERRORS[code].status;
}
