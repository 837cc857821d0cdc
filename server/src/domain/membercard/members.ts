import { normaliseIdNumber } from '../../../../shared/id-number.js';
import { normaliseMobile } from '../../../../shared/phone.js';
import { findActiveBindingsOfAlipayUser } from '../../db/repos/cards/bindings.js';
import type { MemberLevel } from '../../db/repos/membercard/cards.js';
import {
  findRosterEntriesByIdNumber,
  findRosterEntriesByPhone,
  type RosterEntryRow,
} from '../../db/repos/roster/roster-entries.js';
import type { Deps } from '../../deps.js';
import { isSameHolder } from '../cards/names.js';

/**
 * Who may hold a school's card in the Alipay wallet (issue 16): only its students and staff. When card
 * management asks to open a card (openCardInfo without bizCardNo), the member is found, in this order:
 *
 * 1. by the Alipay user: an ACTIVE binding of that user at the school — their own card (relation SELF), or
 *    the one card they have bound. card management names users by the id its app sees: the 2088 user_id
 *    (seed 003), or an open_id when it runs under an app in open_id mode; both are tried. A platform app in
 *    open_id mode learns user_ids only when Alipay gives them, so this path mostly serves user_id apps;
 * 2. by the roster (keyed hashes, DataProtector; students who left do not count): the ID number (certNo),
 *    else the member's own mobile (a guardian's phone names the parent, not the member), of the open-card
 *    form. When the form also carries the name, it must be the roster's. Several entries for different cards
 *    are ambiguous and match nothing;
 * 3. else nobody: the card is refused with a message saying only the school's students and staff get it.
 */
export interface Member {
  cardNo: string;
  level: MemberLevel;
  foundBy: 'BINDING' | 'ROSTER_ID_NUMBER' | 'ROSTER_MOBILE';
}

export interface MemberDetails {
  alipayUserId: string;
  name?: string;
  certNo?: string;
  mobile?: string;
}

export async function findMember(
  deps: Pick<Deps, 'db' | 'protector'>,
  schoolId: string,
  details: MemberDetails,
): Promise<Member | undefined> {
  const bindings = await findActiveBindingsOfAlipayUser(deps.db, schoolId, details.alipayUserId);
  const own =
    bindings.find((b) => b.relation === 'SELF') ?? (bindings.length === 1 ? bindings[0] : undefined);
  if (own)
    return { cardNo: own.cardNo, level: own.identity === 'STAFF' ? 'STAFF' : 'STUDENT', foundBy: 'BINDING' };

  const named = (entry: RosterEntryRow) => !details.name || isSameHolder(entry.name, details.name);
  const mobile = details.mobile ? normaliseMobile(details.mobile) : null;
  const byIdNumber = details.certNo
    ? (
        await findRosterEntriesByIdNumber(
          deps.db,
          schoolId,
          deps.protector.hash(normaliseIdNumber(details.certNo)),
        )
      ).filter(named)
    : [];
  const byPhone =
    byIdNumber.length === 0 && mobile
      ? (await findRosterEntriesByPhone(deps.db, schoolId, deps.protector.hash(mobile))).filter(
          (entry) => !entry.asGuardian && named(entry),
        )
      : [];
  const chosen = single(byIdNumber) ?? single(byPhone);
  if (!chosen) return undefined;
  return {
    cardNo: chosen.cardNo,
    level: chosen.isStudent ? 'STUDENT' : 'STAFF',
    foundBy: byIdNumber.length > 0 ? 'ROSTER_ID_NUMBER' : 'ROSTER_MOBILE',
  };
}

/** The one card these entries point at, if they point at exactly one. */
function single(entries: RosterEntryRow[]): RosterEntryRow | undefined {
  const cards = new Set(entries.map((e) => e.cardNo));
  return cards.size === 1 ? entries[0] : undefined;
}
