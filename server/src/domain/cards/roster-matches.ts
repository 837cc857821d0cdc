import type { Relation, RosterLookupResponse, RosterMatch } from '../../../../shared/api.js';
import { normaliseIdNumber } from '../../../../shared/id-number.js';
import { normaliseMobile } from '../../../../shared/phone.js';
import { listLiveBindings } from '../../db/repos/cards/bindings.js';
import {
  findRosterEntriesByIdNumber,
  findRosterEntriesByPhone,
  type RosterEntryRow,
} from '../../db/repos/roster/roster-entries.js';
import type { Deps } from '../../deps.js';
import { DomainError } from '../errors.js';
import { sharedProfileOf } from '../users/alipay-profile.js';
import { activeSchool } from './bindings.js';
import { isSameHolder } from './names.js';
import type { BindingProof } from './proof.js';

/**
 * Roster-based binding (seed 000 §2.2 新, issue #13 "Roster-based binding"): find the user's cards in the
 * school's roster, then bind one with a tap (POST /bindings { matchToken }), still checked with the card
 * system's GetPersonInfo at that moment.
 *
 * - By what Alipay shares (`auth_user`, alipay.user.info.share): the certified ID number (`cert_no`) finds
 *   the student's own cards (SELF); the mobile finds cards whose student phone (SELF) or guardian phone
 *   (PARENT) it is. Both fields need a special permission (ALIPAY.md §4.2), so either may be missing.
 * - By a typed name + full ID number (GB 11643 checksum checked at the route): the roster rows with that ID
 *   number and that name.
 * A match is handed out as a sealed token naming the user, school, card, relation and proof; nothing else
 * about the roster leaves the server (card numbers and names masked).
 */

const MATCH_PURPOSE = 'binding-match';
const MATCH_TTL_MS = 10 * 60_000;

export interface ClaimedMatch {
  cardNo: string;
  relation: Relation;
  proof: BindingProof;
}

export function maskCardNo(cardNo: string): string {
  return cardNo.length > 4 ? `${'*'.repeat(Math.min(cardNo.length - 4, 6))}${cardNo.slice(-4)}` : '****';
}

/** 张三 → 张*, 王小明 → 王*明, 欧阳娜娜 → 欧**娜. */
export function maskName(name: string): string {
  const chars = Array.from(name.trim());
  if (chars.length <= 1) return '*';
  if (chars.length === 2) return `${chars[0]}*`;
  return `${chars[0]}${'*'.repeat(chars.length - 2)}${chars[chars.length - 1]}`;
}

interface Candidate {
  entry: RosterEntryRow;
  relation: Relation;
  proof: BindingProof;
}

async function toMatches(
  deps: Deps,
  userId: string,
  schoolId: string,
  candidates: Candidate[],
): Promise<RosterMatch[]> {
  const bound = new Set(
    (await listLiveBindings(deps.db, userId)).filter((b) => b.schoolId === schoolId).map((b) => b.cardNo),
  );
  const expiresAt = new Date(deps.clock.now().getTime() + MATCH_TTL_MS);
  const seen = new Set<string>();
  const matches: RosterMatch[] = [];
  for (const { entry, relation, proof } of candidates) {
    if (seen.has(entry.cardNo)) continue;
    seen.add(entry.cardNo);
    const isBound = bound.has(entry.cardNo);
    matches.push({
      matchToken: isBound
        ? null
        : deps.protector.seal(
            MATCH_PURPOSE,
            { u: userId, s: schoolId, c: entry.cardNo, r: relation, p: proof },
            expiresAt,
          ),
      cardNoMasked: maskCardNo(entry.cardNo),
      holderNameMasked: maskName(entry.name),
      relation,
      proof,
      isBound,
    });
  }
  return matches;
}

/** The cards Alipay's certified ID number and mobile of this user point at in the school's roster. */
export async function lookUpWithAlipay(
  deps: Deps,
  userId: string,
  input: { schoolId: string; authCode: string },
): Promise<RosterLookupResponse> {
  const school = await activeSchool(deps, input.schoolId, 'body.schoolId');
  const info = await sharedProfileOf(deps, userId, input.authCode);
  const candidates: Candidate[] = [];
  if (info.certNo) {
    for (const entry of await findRosterEntriesByIdNumber(
      deps.db,
      school.id,
      deps.protector.hash(normaliseIdNumber(info.certNo)),
    ))
      candidates.push({ entry, relation: 'SELF', proof: 'ALIPAY_CERT' });
  }
  const mobile = info.mobile ? normaliseMobile(info.mobile) : null;
  if (mobile) {
    for (const entry of await findRosterEntriesByPhone(deps.db, school.id, deps.protector.hash(mobile))) {
      candidates.push(
        entry.asGuardian
          ? { entry, relation: 'PARENT', proof: 'ALIPAY_GUARDIAN_MOBILE' }
          : { entry, relation: 'SELF', proof: 'ALIPAY_MOBILE' },
      );
    }
  }
  return {
    matches: await toMatches(deps, userId, school.id, candidates),
    shared: { certNo: !!info.certNo, mobile: !!mobile },
  };
}

/** The roster rows with this (checksum-valid) ID number and this holder name. */
export async function lookUpByIdNumber(
  deps: Deps,
  userId: string,
  input: { schoolId: string; name: string; idNumber: string; relation?: Relation },
): Promise<RosterLookupResponse> {
  const school = await activeSchool(deps, input.schoolId, 'body.schoolId');
  const entries = await findRosterEntriesByIdNumber(
    deps.db,
    school.id,
    deps.protector.hash(normaliseIdNumber(input.idNumber)),
  );
  const relation = input.relation ?? 'SELF';
  const candidates = entries
    .filter((entry) => isSameHolder(entry.name, input.name))
    .map((entry): Candidate => ({ entry, relation, proof: 'ID_NUMBER' }));
  return { matches: await toMatches(deps, userId, school.id, candidates), shared: null };
}

/** What a match token vouches for, if it is this user's, for this school and still valid. */
export function claimMatch(
  deps: Pick<Deps, 'protector' | 'clock'>,
  userId: string,
  schoolId: string,
  token: string,
) {
  const payload = deps.protector.unseal(MATCH_PURPOSE, token, deps.clock.now());
  if (!payload || payload.u !== userId || payload.s !== schoolId || typeof payload.c !== 'string')
    throw new DomainError('BINDING_MATCH_EXPIRED', undefined, { field: 'body.matchToken' });
  return {
    cardNo: payload.c,
    relation: payload.r === 'PARENT' ? 'PARENT' : 'SELF',
    proof: payload.p as BindingProof,
  } satisfies ClaimedMatch;
}
