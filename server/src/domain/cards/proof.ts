import type { RosterEntryRow } from '../../db/repos/roster/roster-entries.js';
import type { BINDING_PROOFS } from '../../db/schema.js';
import type { CardHolder } from '../../integrations/cardsys/index.js';
import type { DataProtector } from '../../lib/crypto.js';
import { normaliseIdNumber } from '../../../../shared/id-number.js';
import { normaliseMobile } from '../../../../shared/phone.js';
import { DomainError } from '../errors.js';

/**
 * Proof that a card is the user's own or their child's, beyond the card number and holder name that are
 * printed on the card (seed 000 §2.2: card number, name, phone and ID number, checked against the school's
 * data). The rule per case (README "Binding: what proves a card is yours"):
 *
 *   the school's roster has the card, with an ID number or phones
 *       → the ID number (all 18 characters, or the last 6) matches the roster's, by keyed hash; or
 *       → the phone matches the student's phone (SELF) or the guardian's phone (PARENT only)
 *   the roster has the card with neither (name and student number only), or the roster lacks the card
 *       → the card system's answer (holder name, normal status) plus the student number it reports
 *         (or the roster's, when it has one)
 *   Alipay vouches (alipay.user.info.share, roster-matches.ts): the certified ID number or mobile of the
 *       Alipay account matches the roster → one-tap binding, no typed proof needed.
 *
 * Every failed proof is the same IDENTITY_NOT_VERIFIED, so a guesser learns nothing about which part was
 * wrong; bind attempts are rate limited per user and per school.
 */
export type BindingProof = (typeof BINDING_PROOFS)[number];

export interface TypedProof {
  /** All 18 characters, or the last 6. */
  idNumber?: string;
  phone?: string;
  studentNo?: string;
}

function notVerified(field: string): DomainError {
  return new DomainError('IDENTITY_NOT_VERIFIED', undefined, { field });
}

function sameStudentNo(a: string | null | undefined, b: string): boolean {
  return !!a && a.trim().toUpperCase() === b.trim().toUpperCase();
}

function proofField(proof: TypedProof): string {
  if (proof.idNumber) return 'body.idNumber';
  if (proof.phone) return 'body.phone';
  return 'body.studentNo';
}

/** Which proof this card accepts: what the school's data for it can check. */
export function acceptedProofs(
  roster: RosterEntryRow | undefined,
): Array<'ID_NUMBER' | 'PHONE' | 'STUDENT_NO'> {
  if (!roster) return ['STUDENT_NO'];
  const accepted: Array<'ID_NUMBER' | 'PHONE'> = [];
  if (roster.idNumberHash) accepted.push('ID_NUMBER');
  if (roster.phoneHash || roster.guardianPhoneHash) accepted.push('PHONE');
  return accepted.length > 0 ? accepted : ['STUDENT_NO'];
}

/**
 * Checks typed proof against the school's data for one card (whose holder name and status the caller has
 * already checked with the card system). Returns how the card was proven; throws IDENTITY_NOT_VERIFIED.
 */
export function verifyTypedProof(
  protector: DataProtector,
  roster: RosterEntryRow | undefined,
  holder: CardHolder,
  proof: TypedProof,
): BindingProof {
  const accepted = acceptedProofs(roster);
  const field = proofField(proof);
  if (accepted.includes('ID_NUMBER') && proof.idNumber) {
    const id = normaliseIdNumber(proof.idNumber);
    const matches =
      id.length === 6
        ? roster!.idTailHash !== null && protector.hash(id) === roster!.idTailHash
        : protector.hash(id) === roster!.idNumberHash;
    if (matches) return 'ID_NUMBER';
    throw notVerified(field);
  }
  if (accepted.includes('PHONE') && proof.phone) {
    const phone = normaliseMobile(proof.phone);
    const hash = phone ? protector.hash(phone) : null;
    if (hash && hash === roster!.phoneHash) return 'PHONE';
    if (hash && hash === roster!.guardianPhoneHash) return 'GUARDIAN_PHONE';
    throw notVerified(field);
  }
  if (accepted.includes('STUDENT_NO') && proof.studentNo) {
    if (sameStudentNo(roster?.studentNo ?? holder.studentNo, proof.studentNo)) return 'STUDENT_NO';
    throw notVerified(field);
  }
  throw notVerified(field);
}
