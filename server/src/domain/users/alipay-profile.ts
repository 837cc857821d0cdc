import { findUser } from '../../db/repos/users/users.js';
import type { Deps } from '../../deps.js';
import { AlipayError } from '../../integrations/alipay/errors.js';
import type { AlipayUserInfo } from '../../integrations/alipay/alipay.js';
import { DomainError } from '../errors.js';
import { alipayFailure, requireAlipay } from '../outside-errors.js';

/**
 * What the signed-in user agreed to share (auth_user, seed 000 §2.2 and seed 002 §1): their auth_user code
 * from my.getAuthCode → alipay.system.oauth.token → alipay.user.info.share. The code must be this user's:
 * a code of another Alipay account is refused, so nobody lends their identity to someone else's session.
 * What comes back is personal data: callers hash or seal it, never log it.
 */
export async function sharedProfileOf(
  deps: Deps,
  userId: string,
  authCode: string,
  field = 'body.authCode',
): Promise<AlipayUserInfo> {
  const alipay = requireAlipay(deps);
  let info;
  try {
    const token = await alipay.exchangeAuthCode(authCode);
    info = await alipay.userInfo(token.accessToken);
  } catch (error) {
    if (
      error instanceof AlipayError &&
      error.kind === 'final' &&
      error.method === 'alipay.system.oauth.token'
    )
      throw new DomainError('ALIPAY_AUTH_FAILED', 'The Alipay auth code is invalid, used or expired', {
        field,
        cause: error,
      });
    throw alipayFailure(error);
  }
  const user = await findUser(deps.db, userId);
  const isSameUser =
    !!user &&
    ((!!info.openId && info.openId === user.alipayOpenId) ||
      (!!info.userId && info.userId === user.alipayUserId));
  if (!isSameUser)
    throw new DomainError('FORBIDDEN', 'The auth code belongs to another Alipay user', { field });
  return info;
}
