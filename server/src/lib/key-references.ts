import crypto from 'node:crypto';
import fs from 'node:fs';

/**
 * Keys that belong to one school (our RSA2 key for its card management) are named in the database by a
 * reference, never stored there: `file:<path>` (a PEM file, PKCS1 or PKCS8) or `env:<VARIABLE>` (PEM text
 * in the environment). Resolved when first used and kept parsed per process; a reference whose key cannot
 * be read fails then with a message naming it, not the key.
 */
export const KEY_REFERENCE_PATTERN = /^(file:.+|env:[A-Z_][A-Z0-9_]*)$/;

const cache = new Map<string, crypto.KeyObject>();

function readKeyText(reference: string): string {
  if (!KEY_REFERENCE_PATTERN.test(reference)) {
    throw new Error(`key reference must be file:<path> or env:<VARIABLE>, got ${JSON.stringify(reference)}`);
  }
  if (reference.startsWith('file:')) {
    const file = reference.slice('file:'.length);
    try {
      return fs.readFileSync(file, 'utf8');
    } catch (error) {
      throw new Error(`cannot read the key file of ${reference} (${(error as NodeJS.ErrnoException).code})`, {
        cause: error,
      });
    }
  }
  const name = reference.slice('env:'.length);
  const text = process.env[name];
  if (!text) throw new Error(`the environment variable of ${reference} is not set`);
  return text;
}

/** The private key a reference names. */
export function privateKeyOf(reference: string): crypto.KeyObject {
  const cached = cache.get(reference);
  if (cached) return cached;
  let key: crypto.KeyObject;
  try {
    key = crypto.createPrivateKey(readKeyText(reference));
  } catch (error) {
    throw new Error(`${reference} does not hold a private key: ${(error as Error).message}`, {
      cause: error,
    });
  }
  cache.set(reference, key);
  return key;
}

/** The public half, as SPKI PEM: what a school configures in its card management to check our signatures. */
export function publicKeyPemOf(reference: string): string {
  return crypto.createPublicKey(privateKeyOf(reference)).export({ type: 'spki', format: 'pem' }).toString();
}
