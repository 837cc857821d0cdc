import { sign, verify, type KeyObject } from 'node:crypto';

export type SignType = 'RSA2' | 'RSA';

const HASH_OF: Record<SignType, string> = { RSA2: 'sha256', RSA: 'sha1' };

/**
 * The string the gateway checks a request signature against (ALIPAY.md §1.3): every param except `sign`,
 * empty values dropped (Alipay's rule, which the Node SDK does not apply — §1.3 "Things to get right"),
 * `sign_type` kept, sorted by key, joined as raw `k=v&…` without URL encoding.
 */
export function requestSignContent(params: Readonly<Record<string, string>>): string {
  return Object.keys(params)
    .filter((key) => key !== 'sign' && params[key] !== '')
    .sort()
    .map((key) => `${key}=${params[key]}`)
    .join('&');
}

/**
 * The string a notification is signed over (ALIPAY.md §3.3, Java rsaCheckV1): `sign` and `sign_type` removed,
 * empty values dropped, sorted, decoded values. alipay-sdk's checkNotifySignV2 tries with `sign_type` first and
 * then without, so this form verifies there.
 */
export function notifySignContent(fields: Readonly<Record<string, string>>): string {
  return Object.keys(fields)
    .filter((key) => key !== 'sign' && key !== 'sign_type' && fields[key] !== '')
    .sort()
    .map((key) => `${key}=${fields[key]}`)
    .join('&');
}

export function signText(content: string, privateKey: KeyObject, signType: SignType = 'RSA2'): string {
  return sign(HASH_OF[signType], Buffer.from(content, 'utf8'), privateKey).toString('base64');
}

/**
 * The same signature computed on libuv's thread pool, so that RSA work (about 1 ms per 2048-bit signature)
 * does not block the event loop and can use a second core under load.
 */
export function signTextAsync(
  content: string,
  privateKey: KeyObject,
  signType: SignType = 'RSA2',
): Promise<string> {
  return new Promise((resolve, reject) => {
    sign(HASH_OF[signType], Buffer.from(content, 'utf8'), privateKey, (error, signature) => {
      if (error) reject(error);
      else resolve(signature.toString('base64'));
    });
  });
}

export function verifyText(
  content: string,
  signature: string,
  publicKey: KeyObject,
  signType: SignType,
): boolean {
  try {
    return verify(
      HASH_OF[signType],
      Buffer.from(content, 'utf8'),
      publicKey,
      Buffer.from(signature, 'base64'),
    );
  } catch {
    return false;
  }
}

export function isSignType(value: string): value is SignType {
  return value === 'RSA2' || value === 'RSA';
}
