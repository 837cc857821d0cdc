import { formatBeijing } from '../beijing-time.js';
import type { SandboxContext } from '../context.js';
import {
  EXPIRES_IN_SECONDS,
  RE_EXPIRES_IN_SECONDS,
  issueAppAuthToken,
  notifyAuthorized,
  tokenProblem,
} from '../domain/app-auth-tokens.js';
import type { ApiHandler } from '../gateway/api.js';
import { businessError } from '../protocol/alipay-error.js';
import type { AppAuthToken } from '../state/types.js';
import { optionalText } from './biz.js';

/**
 * alipay.open.auth.token.app (ALIPAY.md §4.13): exchanges the merchant's app_auth_code (from the
 * authorization page or the control route that stand in for appToAppAuth.htm) for an app_auth_token, in the
 * current `tokens[]` shape. A new authorization invalidates the merchant's older tokens for this ISV app;
 * a refresh keeps the old token valid.
 */
export const openAuthTokenApp: ApiHandler = (ctx, call) => {
  const grantType = optionalText(call.biz, 'grant_type');
  let token: AppAuthToken;
  if (grantType === 'authorization_code') {
    const code = optionalText(call.biz, 'code');
    const authorization = code ? ctx.state.appAuthorizations.get(code) : undefined;
    if (!authorization) throw businessError('AUTH_CODE_NOT_EXIST', '授权码不存在');
    if (authorization.isvAppId !== call.app.appId)
      throw businessError('APP_ID_NOT_CONSISTENT', '授权码与应用不匹配');
    if (authorization.codeUsed || authorization.codeExpiresAt.getTime() <= ctx.clock.nowMs()) {
      throw businessError('AUTH_CODE_NOT_VALID', '授权码无效');
    }
    authorization.codeUsed = true;
    token = issueAppAuthToken(ctx, call.app.appId, authorization.merchant, { replacesEarlier: true });
    notifyAuthorized(ctx, token, authorization.appAuthCode);
  } else if (grantType === 'refresh_token') {
    const refresh = optionalText(call.biz, 'refresh_token');
    const previous = refresh ? ctx.state.appRefreshTokens.get(refresh) : undefined;
    if (!previous) throw businessError('REFRESH_TOKEN_NOT_EXIST', '刷新令牌不存在');
    if (previous.isvAppId !== call.app.appId || previous.revoked)
      throw businessError('REFRESH_TOKEN_NOT_VALID', '刷新令牌无效');
    if (previous.issuedAt.getTime() + RE_EXPIRES_IN_SECONDS * 1000 <= ctx.clock.nowMs())
      throw businessError('REFRESH_TOKEN_TIME_OUT', '刷新令牌已过期');
    token = issueAppAuthToken(ctx, call.app.appId, previous.merchant, { replacesEarlier: false });
  } else {
    throw businessError('GRANT_TYPE_INVALID', 'grant_type 不合法');
  }
  return {
    code: '10000',
    msg: 'Success',
    tokens: [
      {
        app_auth_token: token.appAuthToken,
        app_refresh_token: token.appRefreshToken,
        auth_app_id: token.merchant.appId,
        expires_in: EXPIRES_IN_SECONDS,
        re_expires_in: RE_EXPIRES_IN_SECONDS,
        user_id: token.merchant.pid,
      },
    ],
  };
};

/**
 * alipay.open.auth.token.app.query (ALIPAY-M2.md §4): the ISV asks about a token it holds (in biz_content,
 * not as the app_auth_token parameter). `status` is `invalid` once the token is cancelled, replaced by a
 * newer authorization or expired; a token Alipay never issued to this app is AUTH_TOKEN_NOT_FOUND.
 */
export function openAuthTokenAppQuery(apiNames: () => Iterable<string>): ApiHandler {
  return (ctx: SandboxContext, call) => {
    const value = optionalText(call.biz, 'app_auth_token');
    const token = value ? ctx.state.appAuthTokens.get(value) : undefined;
    if (!token || token.isvAppId !== call.app.appId)
      throw businessError('AUTH_TOKEN_NOT_FOUND', '应用授权令牌不存在');
    const remainingMs = token.expiresAt.getTime() - ctx.clock.nowMs();
    return {
      code: '10000',
      msg: 'Success',
      user_id: token.merchant.pid,
      auth_app_id: token.merchant.appId,
      expires_in: Math.max(0, Math.floor(remainingMs / 1000)),
      auth_methods: [...apiNames()].filter((name) => name !== 'alipay.open.auth.token.app'),
      auth_start: formatBeijing(token.issuedAt),
      auth_end: formatBeijing(token.expiresAt),
      status: tokenProblem(ctx, token) ? 'invalid' : 'valid',
      is_by_app_auth: true,
    };
  };
}
