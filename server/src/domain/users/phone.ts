import type { PhoneShareResponse } from '../../../../shared/api.js';
import { normaliseMobile } from '../../../../shared/phone.js';
import { listLiveBindings } from '../../db/repos/cards/bindings.js';
import { setUserPhone, type UserRow } from '../../db/repos/users/users.js';
import type { Deps } from '../../deps.js';
import { maskIdentifier } from '../../lib/crypto.js';
import { DomainError } from '../errors.js';
import { sharedProfileOf } from './alipay-profile.js';

/**
 * Seed 002 §1: an account matched by its silent login pays at once; an account the school does not know
 * shares more (auth_user and the mobile) before it pays — and only where the school asks for it
 * (`terminalPayRequiresPhone`). "Known" means the user shared a mobile before, or has a live card binding
 * at this school (the school checked who they are when the card was bound).
 *
 * The mobile comes from Alipay (alipay.user.info.share with the user's consent, the same call roster-based
 * binding uses), so it is one Alipay has verified; it is kept only as a keyed hash and a ciphertext.
 */
export async function sharePhone(deps: Deps, userId: string, authCode: string): Promise<PhoneShareResponse> {
  const info = await sharedProfileOf(deps, userId, authCode);
  const mobile = info.mobile ? normaliseMobile(info.mobile) : null;
  if (!mobile) throw new DomainError('PHONE_NOT_SHARED', undefined, { field: 'body.authCode' });
  await setUserPhone(
    deps.db,
    userId,
    { hash: deps.protector.hash(mobile), enc: deps.protector.encrypt(mobile) },
    deps.clock.now(),
  );
  return { phoneMasked: maskIdentifier(mobile) };
}

/** Refuses (PHONE_REQUIRED) a terminal payment by an account this school requires to share its mobile first. */
export async function requireKnownPayer(
  deps: Pick<Deps, 'db'>,
  user: UserRow,
  school: { id: string; terminalPayRequiresPhone: boolean },
): Promise<void> {
  if (!school.terminalPayRequiresPhone || user.phoneHash) return;
  const bindings = await listLiveBindings(deps.db, user.id);
  if (bindings.some((b) => b.schoolId === school.id)) return;
  throw new DomainError('PHONE_REQUIRED');
}
