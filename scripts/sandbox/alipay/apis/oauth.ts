import { formatBeijing } from '../beijing-time.js';
import type { ApiHandler } from '../gateway/api.js';
import { newAccessToken, newRefreshToken, randomDigits } from '../ids.js';
import { AlipayError } from '../protocol/alipay-error.js';
import type { AccessToken, Scope } from '../state/types.js';
import { identityFields } from '../domain/accounts.js';
import type { SandboxContext } from '../context.js';

/** Lifetimes seen in real answers (ALIPAY.md §4.1): 15 days / 30 days, as JSON numbers. */
const EXPIRES_IN_SECONDS = 1_296_000;
const RE_EXPIRES_IN_SECONDS = 2_592_000;

function oauthError(subCode: string, subMsg: string): AlipayError {
  return new AlipayError('40002', subCode, subMsg);
}

function issueToken(ctx: SandboxContext, userId: string, appId: string, scopes: Scope[]): AccessToken {
  const now = ctx.clock.now();
  const token: AccessToken = {
    accessToken: newAccessToken(),
    refreshToken: newRefreshToken(),
    userId,
    appId,
    scopes,
    issuedAt: now,
    expiresAt: new Date(now.getTime() + EXPIRES_IN_SECONDS * 1000),
    refreshExpiresAt: new Date(now.getTime() + RE_EXPIRES_IN_SECONDS * 1000),
    refreshUsed: false,
  };
  ctx.state.accessTokens.set(token.accessToken, token);
  ctx.state.refreshTokens.set(token.refreshToken, token);
  return token;
}

/**
 * alipay.system.oauth.token (ALIPAY.md §4.1): top-level grant_type/code/refresh_token; single-use codes bound
 * to one app; success has no code/msg and numeric expires_in; user_id and/or open_id by the app's id mode;
 * failures are signed `error_response`s.
 */
export const oauthToken: ApiHandler = (ctx, call) => {
  const grantType = call.params.grant_type;
  const now = ctx.clock.nowMs();
  let token: AccessToken;
  if (grantType === 'authorization_code') {
    const code = call.params.code ? ctx.state.userAuthCodes.get(call.params.code) : undefined;
    if (!code || code.used || code.appId !== call.app.appId || code.expiresAt.getTime() <= now) {
      throw oauthError('isv.code-invalid', '授权码code无效');
    }
    code.used = true;
    token = issueToken(ctx, code.userId, code.appId, code.scopes);
  } else if (grantType === 'refresh_token') {
    const previous = call.params.refresh_token
      ? ctx.state.refreshTokens.get(call.params.refresh_token)
      : undefined;
    if (!previous || previous.appId !== call.app.appId) {
      throw oauthError('isv.refresh-token-invalid', '刷新令牌refresh_token无效');
    }
    if (previous.refreshUsed) throw oauthError('isv.refreshed-token-invalid', '刷新令牌已使用');
    if (previous.refreshExpiresAt.getTime() <= now) {
      throw oauthError('isv.refresh-token-time-out', '刷新令牌refresh_token过期');
    }
    previous.refreshUsed = true;
    token = issueToken(ctx, previous.userId, previous.appId, previous.scopes);
  } else {
    throw oauthError('isv.grant-type-invalid', 'grant_type参数不正确');
  }

  const user = ctx.state.users.get(token.userId)!;
  const ids = identityFields(ctx, user, call.app.idMode, call.app.appId, {
    userId: 'user_id',
    openId: 'open_id',
  });
  return {
    access_token: token.accessToken,
    // The 32-digit deprecated id only exists for user_id apps.
    ...(call.app.idMode === 'open_id'
      ? {}
      : { alipay_user_id: `20880${user.userId.slice(4)}${randomDigits(15)}` }),
    auth_start: formatBeijing(token.issuedAt),
    expires_in: EXPIRES_IN_SECONDS,
    re_expires_in: RE_EXPIRES_IN_SECONDS,
    refresh_token: token.refreshToken,
    ...ids,
  };
};

/** alipay.user.info.share (ALIPAY.md §4.2): needs an auth_user access token of this app. */
export const userInfoShare: ApiHandler = (ctx, call) => {
  const token = call.params.auth_token ? ctx.state.accessTokens.get(call.params.auth_token) : undefined;
  if (!token || token.appId !== call.app.appId) {
    throw new AlipayError('20001', 'aop.invalid-auth-token', '无效的访问令牌');
  }
  if (token.expiresAt.getTime() <= ctx.clock.nowMs()) {
    throw new AlipayError('20001', 'aop.auth-token-time-out', '访问令牌已过期');
  }
  if (!token.scopes.includes('auth_user')) {
    throw new AlipayError('40006', 'isv.insufficient-user-permissions', '用户未授权 auth_user');
  }
  const user = ctx.state.users.get(token.userId)!;
  const profile: Record<string, string> = {};
  if (user.avatar) profile.avatar = user.avatar;
  if (user.nickName) profile.nick_name = user.nickName;
  if (user.gender) profile.gender = user.gender;
  if (user.province) profile.province = user.province;
  if (user.city) profile.city = user.city;
  // The special-permission fields, only for users who granted them (control API shared-info).
  if (user.shares?.certNo && user.certNo) {
    profile.cert_no = user.certNo;
    profile.cert_type = '0';
  }
  if (user.shares?.mobile && user.mobile) profile.mobile = user.mobile;
  return {
    code: '10000',
    msg: 'Success',
    ...identityFields(ctx, user, call.app.idMode, call.app.appId, { userId: 'user_id', openId: 'open_id' }),
    ...profile,
    is_certified: 'T',
    user_status: 'T',
  };
};
