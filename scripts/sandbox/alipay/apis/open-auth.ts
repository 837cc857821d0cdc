import type { SandboxContext } from '../context.js';
import type { ApiHandler } from '../gateway/api.js';
import { newAppAuthToken } from '../ids.js';
import { businessError } from '../protocol/alipay-error.js';
import type { AppAuthToken, Merchant } from '../state/types.js';
import { optionalText } from './biz.js';

const EXPIRES_IN_SECONDS = 31_536_000;
const RE_EXPIRES_IN_SECONDS = 32_140_800;

function issue(ctx: SandboxContext, isvAppId: string, merchant: Merchant): AppAuthToken {
  const now = ctx.clock.now();
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

/**
 * alipay.open.auth.token.app (ALIPAY.md §4.13): exchanges the merchant's app_auth_code (from the control route
 * that stands in for appToAppAuth.htm) for an app_auth_token, in the current `tokens[]` shape. Refreshing keeps
 * the old token valid.
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
    token = issue(ctx, call.app.appId, authorization.merchant);
  } else if (grantType === 'refresh_token') {
    const refresh = optionalText(call.biz, 'refresh_token');
    const previous = refresh ? ctx.state.appRefreshTokens.get(refresh) : undefined;
    if (!previous) throw businessError('REFRESH_TOKEN_NOT_EXIST', '刷新令牌不存在');
    if (previous.isvAppId !== call.app.appId) throw businessError('REFRESH_TOKEN_NOT_VALID', '刷新令牌无效');
    token = issue(ctx, call.app.appId, previous.merchant);
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
