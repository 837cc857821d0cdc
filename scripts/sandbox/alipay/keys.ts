import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';

/** The sandbox's own "Alipay" key pair: it signs every response and notification (ALIPAY.md §2.2, §3.3). */
export interface AlipayKeyPair {
  privateKey: KeyObject;
  /** SPKI PEM: what alipay-sdk takes as `alipayPublicKey`. */
  publicKeyPem: string;
  /** The private key as PKCS8 PEM, so a generated key can be saved. */
  privateKeyPem: string;
}

export function generateRsaKeyPair(modulusLength = 2048): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
}

/**
 * Loads a PEM (PKCS1 or PKCS8) or generates a fresh key (2048 bits like Alipay's unless asked otherwise); the
 * parsed key is kept, never re-parsed.
 */
export function loadAlipayKeyPair(privateKeyPem?: string, generatedBits = 2048): AlipayKeyPair {
  const pem = privateKeyPem ?? generateRsaKeyPair(generatedBits).privateKeyPem;
  const privateKey = createPrivateKey(wrapPem(pem, 'PRIVATE KEY'));
  const publicKeyPem = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();
  const normalisedPrivate = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  return { privateKey, publicKeyPem, privateKeyPem: normalisedPrivate };
}

/**
 * An app's RSA2 public key as the Alipay console shows it: PEM (SPKI or PKCS1) or a bare base64 body.
 * Throws when the text is not a usable RSA public key.
 */
export function parseAppPublicKey(text: string): KeyObject {
  const key = createPublicKey(wrapPem(text, 'PUBLIC KEY'));
  if (key.asymmetricKeyType !== 'rsa') throw new TypeError('the app public key must be an RSA key');
  return key;
}

function wrapPem(text: string, label: string): string {
  const trimmed = text.trim();
  if (trimmed.startsWith('-----BEGIN')) return trimmed;
  const body = trimmed.replace(/\s+/g, '');
  const lines = body.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
