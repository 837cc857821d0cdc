import type { SandboxContext } from '../context.js';
import { newAppAuthToken } from '../ids.js';
import type { AppAuthToken, Merchant } from '../state/types.js';

/**
 * The life of an ISV's app_auth_token (ALIPAY.md §4.13, ALIPAY-M2.md §4): issued by
 * alipay.open.auth.token.app, valid until it expires on the sandbox clock, invalid at once when the merchant
 * cancels the authorization or authorizes the same ISV app again (only the newest authorization counts;
 * a refresh keeps the old token working). Cancelling tells the ISV app's gateway with the
 * `alipay.open.auth.appauth.cancelled` message when the app subscribed to it.
 */

export const EXPIRES_IN_SECONDS = 31_536_000;
export const RE_EXPIRES_IN_SECONDS = 32_140_800;
export const CANCELLED_TOPIC = 'alipay.open.auth.appauth.cancelled';

export function issueAppAuthToken(
  ctx: SandboxContext,
  isvAppId: string,
  merchant: Merchant,
  options: { replacesEarlier: boolean },
): AppAuthToken {
  const now = ctx.clock.now();
  if (options.replacesEarlier) revokeTokens(ctx, isvAppId, merchant, 'reauthorized');
  const token: AppAuthToken = {
    appAuthToken: newAppAuthToken(now),
    appRefreshToken: newAppAuthToken(now),
    isvAppId,
    merchant,
    issuedAt: now,
    expiresAt: new Date(now.getTime() + EXPIRES_IN_SECONDS * 1000),
  };
  ctx.state.appAuthTokens.set(token.appAuthToken, token);
  ctx.state.appRefreshTokens.set(token.appRefreshToken, token);
  return token;
}

function revokeTokens(
  ctx: SandboxContext,
  isvAppId: string,
  merchant: Merchant,
  because: 'cancelled' | 'reauthorized',
): number {
  let count = 0;
  for (const token of ctx.state.appAuthTokens.values()) {
    if (token.isvAppId !== isvAppId || token.merchant !== merchant || token.revoked) continue;
    token.revoked = { at: ctx.clock.now(), because };
    count += 1;
  }
  return count;
}

/** Why a token no longer works (the 20001 sub_code), or null while it does. */
export function tokenProblem(ctx: SandboxContext, token: AppAuthToken): string | null {
  if (token.revoked) return 'aop.invalid-app-auth-token';
  if (token.expiresAt.getTime() <= ctx.clock.nowMs()) return 'aop.app-auth-token-time-out';
  return null;
}

/**
 * The merchant withdraws its authorization of the ISV app inside Alipay: every token of the pair stops
 * working, unused authorization codes too, and the ISV hears of it if it subscribed to the topic.
 */
export function cancelAuthorization(
  ctx: SandboxContext,
  input: { isvAppId: string; authAppId: string },
): { revokedTokens: number; notified: boolean } | null {
  const merchant = ctx.state.merchantsByAppId.get(input.authAppId);
  const isv = ctx.state.apps.get(input.isvAppId);
  if (!merchant || !isv) return null;
  const revokedTokens = revokeTokens(ctx, isv.appId, merchant, 'cancelled');
  for (const authorization of ctx.state.appAuthorizations.values())
    if (authorization.isvAppId === isv.appId && authorization.merchant === merchant)
      authorization.codeUsed = true;
  const notified = !!isv.appGatewayUrl && isv.messageTopics.has(CANCELLED_TOPIC);
  if (notified) {
    ctx.notifier.send({
      notifyType: CANCELLED_TOPIC,
      notifyUrl: isv.appGatewayUrl!,
      appId: isv.appId,
      fields: {
        app_id: isv.appId,
        biz_content: JSON.stringify({
          auth_app_id: merchant.appId,
          user_id: merchant.pid,
          auth_time: ctx.clock.nowMs(),
        }),
      },
    });
  }
  return { revokedTokens, notified };
}

/**
 * open_app_auth_notify with status execute_auth (ALIPAY-M2.md §4 "Authorization notifications"), sent to
 * the ISV app's gateway when a merchant's authorization produced tokens. The sandbox sends it when the
 * code is exchanged, with the tokens that exchange issued (see docs/sandbox.md).
 */
export function notifyAuthorized(ctx: SandboxContext, token: AppAuthToken, appAuthCode: string): void {
  const isv = ctx.state.apps.get(token.isvAppId);
  if (!isv?.appGatewayUrl) return;
  ctx.notifier.send({
    notifyType: 'open_app_auth_notify',
    notifyUrl: isv.appGatewayUrl,
    appId: isv.appId,
    fields: {
      app_id: isv.appId,
      auth_app_id: token.merchant.appId,
      biz_content: JSON.stringify({
        detail: {
          app_id: isv.appId,
          auth_app_id: token.merchant.appId,
          auth_time: token.issuedAt.getTime(),
          app_auth_code: appAuthCode,
          app_auth_token: token.appAuthToken,
          app_refresh_token: token.appRefreshToken,
          expires_in: EXPIRES_IN_SECONDS,
          re_expires_in: RE_EXPIRES_IN_SECONDS,
          user_id: token.merchant.pid,
        },
        status: 'execute_auth',
        notify_context: { trigger: 'sandbox', trigger_context: {} },
      }),
    },
  });
}
