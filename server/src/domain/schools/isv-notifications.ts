import { recordNotification } from '../../db/repos/notify/notify-log.js';
import type { Deps } from '../../deps.js';
import { systemActor } from '../audit/audit.js';
import type { NotificationResult, SelfRecordingHandler } from '../notify/notifications.js';
import { authorizationCancelled, authorizationNotified } from './isv-authorization.js';

/**
 * What Alipay tells the app gateway about schools' authorizations (DESIGN §6.5, ALIPAY-M2.md §4):
 * `open_app_auth_notify` (authorized or re-authorized, with the tokens) and the
 * `alipay.open.auth.appauth.cancelled` message. Both are verified and checked for our app_id by
 * notify/notifications.ts; they record themselves because applying them calls Alipay (`.query`) and
 * commits on its own.
 */

function bizContent(form: Record<string, string>): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(form.biz_content ?? '');
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : typeof value === 'number' ? String(value) : null;
}

function seconds(value: unknown): number | null {
  const n = Number(value);
  return value === undefined || value === null || value === '' || !Number.isFinite(n) ? null : n;
}

function selfRecording(
  apply: (deps: Deps, form: Record<string, string>) => Promise<NotificationResult>,
): SelfRecordingHandler {
  return {
    selfRecording: true,
    async apply(deps, form) {
      const result = await apply(deps, form);
      await recordNotification(deps.db, {
        form,
        isVerified: true,
        outcome: result.outcome,
        detail: result.detail,
        at: deps.clock.now(),
      });
      return result;
    },
  };
}

/** open_app_auth_notify, status execute_auth: a school we know authorized again (idempotent on auth_time). */
export const appAuthNotification = selfRecording(async (deps, form) => {
  const biz = bizContent(form);
  const status = text(biz?.status) ?? form.status;
  if (status !== 'execute_auth') return { outcome: 'IGNORED', detail: `status ${status}` };
  const detail = (biz?.detail ?? {}) as Record<string, unknown>;
  const authAppId = text(detail.auth_app_id);
  const appAuthToken = text(detail.app_auth_token);
  const userId = text(detail.user_id);
  const authTime = Number(detail.auth_time);
  if (!authAppId || !appAuthToken || !userId || !Number.isFinite(authTime))
    return {
      outcome: 'REJECTED_MALFORMED',
      detail: 'detail lacks auth_app_id, app_auth_token, user_id or auth_time',
    };
  const outcome = await authorizationNotified(
    deps,
    {
      authAppId,
      appAuthToken,
      appRefreshToken: text(detail.app_refresh_token),
      userId,
      authTime: new Date(authTime),
      expiresInSeconds: seconds(detail.expires_in),
      refreshExpiresInSeconds: seconds(detail.re_expires_in),
    },
    systemActor('alipay-notify'),
  );
  if (outcome === 'UNKNOWN_APP')
    return { outcome: 'IGNORED', detail: `no school authorized by ${authAppId}` };
  return { outcome, detail: authAppId };
});

/** alipay.open.auth.appauth.cancelled: the school withdrew its authorization inside Alipay. */
export const appAuthCancelledMessage = selfRecording(async (deps, form) => {
  const authAppId = text(bizContent(form)?.auth_app_id);
  if (!authAppId) return { outcome: 'REJECTED_MALFORMED', detail: 'no auth_app_id in biz_content' };
  const outcome = await authorizationCancelled(deps, authAppId, systemActor('alipay-notify'));
  if (outcome === 'UNKNOWN_APP')
    return { outcome: 'IGNORED', detail: `no school authorized by ${authAppId}` };
  if (outcome === 'STILL_VALID')
    return { outcome: 'IGNORED', detail: `${authAppId}: Alipay still calls the current token valid` };
  return { outcome: 'APPLIED', detail: `${authAppId}: authorization cancelled, school suspended` };
});
