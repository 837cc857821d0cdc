import type { SessionResponse } from '../../../../shared/api.js';
import { upsertAlipayUser } from '../../db/repos/users/users.js';
import type { Deps } from '../../deps.js';
import { AlipayError } from '../../integrations/alipay/errors.js';
import { DomainError } from '../errors.js';
import { alipayFailure, requireAlipay } from '../outside-errors.js';

/**
 * Silent login (DESIGN §7.1): the auth_base code from my.getAuthCode → alipay.system.oauth.token →
 * our user, keyed by open_id (new apps) or user_id → a session token.
 */
export async function loginWithAuthCode(deps: Deps, authCode: string): Promise<SessionResponse> {
  const alipay = requireAlipay(deps);
  let ids;
  try {
    ids = await alipay.exchangeAuthCode(authCode);
  } catch (error) {
    if (error instanceof AlipayError && error.kind === 'final') {
      throw new DomainError('ALIPAY_AUTH_FAILED', 'The Alipay auth code is invalid, used or expired', {
        field: 'body.authCode',
        cause: error,
      });
    }
    throw alipayFailure(error);
  }
  const user = await upsertAlipayUser(deps.db, { openId: ids.openId, userId: ids.userId }, deps.clock.now());
  const session = deps.sessions.issue(user.id);
  return { token: session.token, expiresIn: session.expiresIn, user: { id: user.id } };
}
