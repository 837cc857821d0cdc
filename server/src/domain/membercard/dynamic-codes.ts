import crypto from 'node:crypto';
import { insertCode } from '../../db/repos/membercard/codes.js';
import type { MembershipCardRow } from '../../db/repos/membercard/cards.js';
import type { Deps } from '../../deps.js';
import type { DataProtector } from '../../lib/crypto.js';
import { DomainError } from '../errors.js';

/**
 * The membership card's dynamic code (DESIGN §6.4, seed 003 mdCodeChange): what the wallet shows as a QR or
 * bar code and a campus POS scans instead of the card.
 *
 *   9 · R (12 random digits) · T (5 digits)        18 digits, the length of an Alipay payment code
 *
 * T is a truncated HMAC (DataProtector's matching key) over the school and R: a code is signed for one
 * school, and a mistyped or made-up one is refused before anything is looked up. What makes a code usable
 * is its row: we keep only a keyed hash of the whole code with its card, expiry and use, so the table
 * cannot be read back into codes; a POS can use a code once, before it expires (decide_deduction).
 * Guessing one means hitting one of the few live codes among 10^12 values of R, one signed POS request
 * per try.
 */
export const DYNAMIC_CODE_PATTERN = /^9\d{17}$/;
export const DEFAULT_CODE_TTL_SECONDS = 120;

const RANDOM_DIGITS = 12;
const TAG_DIGITS = 5;

function tagOf(protector: DataProtector, schoolId: string, random: string): string {
  const mac = protector.hash(`membership-code-tag|${schoolId}|${random}`);
  return (BigInt(`0x${mac.slice(0, 16)}`) % 10n ** BigInt(TAG_DIGITS)).toString().padStart(TAG_DIGITS, '0');
}

/** The code for 12 digits of randomness: the school's signature appended. */
export function signDynamicCode(protector: DataProtector, schoolId: string, random: string): string {
  return `9${random}${tagOf(protector, schoolId, random)}`;
}

export function newDynamicCode(protector: DataProtector, schoolId: string): string {
  const random = crypto
    .randomInt(0, 10 ** RANDOM_DIGITS)
    .toString()
    .padStart(RANDOM_DIGITS, '0');
  return signDynamicCode(protector, schoolId, random);
}

/** Whether the code carries this school's signature (format and tag); says nothing of its use or expiry. */
export function isSignedDynamicCode(protector: DataProtector, schoolId: string, code: string): boolean {
  if (!DYNAMIC_CODE_PATTERN.test(code)) return false;
  const random = code.slice(1, 1 + RANDOM_DIGITS);
  const expected = Buffer.from(tagOf(protector, schoolId, random));
  const given = Buffer.from(code.slice(1 + RANDOM_DIGITS));
  return crypto.timingSafeEqual(expected, given);
}

/** What the database knows a code by. */
export function dynamicCodeHash(protector: DataProtector, schoolId: string, code: string): string {
  return protector.hash(`membership-code|${schoolId}|${code}`);
}

/**
 * The hash the POS decision looks the code up by; a code without this school's signature is bad input
 * (400 naming the field), as a card number with a wrong check digit would be.
 */
export function presentedCodeHash(protector: DataProtector, schoolId: string, code: string): string {
  if (!isSignedDynamicCode(protector, schoolId, code)) {
    throw new DomainError('VALIDATION_FAILED', 'body.dynamicCode: not a dynamic code of this school', {
      field: 'body.dynamicCode',
    });
  }
  return dynamicCodeHash(protector, schoolId, code);
}

export async function issueDynamicCode(
  deps: Pick<Deps, 'db' | 'protector' | 'clock'>,
  card: MembershipCardRow,
  ttlSeconds: number,
): Promise<{ code: string; expiresAt: Date }> {
  const now = deps.clock.now();
  const code = newDynamicCode(deps.protector, card.schoolId);
  const expiresAt = new Date(now.getTime() + ttlSeconds * 1000);
  await insertCode(deps.db, {
    codeHash: dynamicCodeHash(deps.protector, card.schoolId, code),
    schoolId: card.schoolId,
    membershipCardId: card.id,
    cardNo: card.cardNo,
    expiresAt,
    now,
  });
  return { code, expiresAt };
}
