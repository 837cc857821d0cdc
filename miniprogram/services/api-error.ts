import { messageForCode } from '../shared/messages-zh';

/**
 * Every failure a page can get from services/api.ts. `message` is already the Chinese sentence to show;
 * `code` is a stable code of shared/errors.ts (from the server) or shared/messages-zh.ts CLIENT_MESSAGES_ZH
 * (network, timeout, login); `field` names the request field the server rejected, when it said so.
 */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly code: string,
    readonly status?: number,
    readonly field?: string,
    readonly requestId?: string,
  ) {
    super(messageForCode(code));
  }
}

/** The sentence for any thrown value, so a page never shows "undefined" or an English stack. */
export function messageOf(error: unknown): string {
  return error instanceof ApiError ? error.message : messageForCode(null);
}

export function codeOf(error: unknown): string | null {
  return error instanceof ApiError ? error.code : null;
}
