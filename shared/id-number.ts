/**
 * Resident identity card numbers (居民身份证号码, GB 11643-1999): 17 digits (6 region, 8 birth date
 * yyyyMMdd, 3 sequence) and a check character, ISO 7064 MOD 11-2 over the 17 digits (0–9 or X for 10).
 * Plain TS for the server, the mini-program's form and the roster import. Never log what goes in here.
 */

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS = '10X98765432';

/** Upper-case, no spaces or dashes: how ID numbers are compared and hashed. */
export function normaliseIdNumber(value: string): string {
  return value.replace(/[\s-]/g, '').toUpperCase();
}

/** The check character GB 11643 gives the first 17 digits. */
export function idNumberCheckChar(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i += 1) sum += Number(first17[i]) * WEIGHTS[i];
  return CHECK_CHARS[sum % 11];
}

/** The birth date of an 18-character number, or null when it is not a real calendar date. */
export function birthDateOfIdNumber(value: string): { year: number; month: number; day: number } | null {
  const id = normaliseIdNumber(value);
  if (!/^\d{17}[\dX]$/.test(id)) return null;
  const year = Number(id.slice(6, 10));
  const month = Number(id.slice(10, 12));
  const day = Number(id.slice(12, 14));
  const date = new Date(Date.UTC(year, month - 1, day));
  if (year < 1900 || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return null;
  return { year, month, day };
}

/** Eighteen characters, a real birth date and the right check character. */
export function isValidIdNumber(value: string): boolean {
  const id = normaliseIdNumber(value);
  if (!/^\d{17}[\dX]$/.test(id) || !birthDateOfIdNumber(id)) return false;
  return idNumberCheckChar(id.slice(0, 17)) === id[17];
}

/** The last six characters, which schools commonly ask for instead of the whole number. */
export function idNumberTail(value: string): string {
  return normaliseIdNumber(value).slice(-6);
}

/** Whole years of age on a day (UTC calendar day of `on`, close enough for "of age"); null if unknown. */
export function ageFromIdNumber(value: string, on: Date): number | null {
  const birth = birthDateOfIdNumber(value);
  if (!birth) return null;
  const y = on.getUTCFullYear();
  const hadBirthday =
    on.getUTCMonth() + 1 > birth.month ||
    (on.getUTCMonth() + 1 === birth.month && on.getUTCDate() >= birth.day);
  return y - birth.year - (hadBirthday ? 0 : 1);
}
