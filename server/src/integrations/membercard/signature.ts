import crypto from 'node:crypto';

/**
 * Our reading of seed 003's `SignHelper.signStringParam(map, privateKey)`, the signature of our calls to
 * AntBuilder card management (mini-core) — the seed shows the call, not the helper (docs/membercard.md):
 *
 *   the non-empty parameters except the signature itself, sorted by name, joined as `k=v&k=v`, signed with
 *   SHA256withRSA (RSA2) by our private key, base64; sent as the parameter `sign`.
 *
 * Values are used as they are (no URL encoding). Names sort by UTF-16 code unit, which for the ASCII names of
 * these calls is Java's `String.compareTo` (a TreeMap). This is the one place that reading lives: a corrected
 * reading is a change here (and in the sandbox's independent check, scripts/sandbox/membercard/signature.ts).
 */
export const SIGNATURE_PARAM = 'sign';

export type SignableParams = Record<string, string | null | undefined>;

export function stringToSign(params: SignableParams): string {
  return Object.keys(params)
    .filter((name) => name !== SIGNATURE_PARAM && params[name] !== null && params[name] !== undefined)
    .filter((name) => params[name] !== '')
    .sort()
    .map((name) => `${name}=${params[name]}`)
    .join('&');
}

/** What we send: the signed parameters (empty ones left out, as null ones are in the seed) and `sign`. */
export function signParams(params: SignableParams, privateKey: crypto.KeyObject): Record<string, string> {
  const signature = crypto
    .sign('sha256', Buffer.from(stringToSign(params), 'utf8'), privateKey)
    .toString('base64');
  const sent = Object.fromEntries(
    Object.entries(params).filter(
      (entry): entry is [string, string] =>
        entry[0] !== SIGNATURE_PARAM && typeof entry[1] === 'string' && entry[1] !== '',
    ),
  );
  return { ...sent, [SIGNATURE_PARAM]: signature };
}
