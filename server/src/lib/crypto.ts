import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pooledRandomBytes } from '../../../shared/random-pool.js';

/**
 * Personal data (ID numbers, phones) and stored secrets (app_auth_token, card-system passwords, gateway
 * secrets, vendor bind passwords) are encrypted with AES-256-GCM; personal data also gets a keyed hash
 * (HMAC-SHA256) so that it can be matched without being decrypted (DESIGN §5). One master key from
 * PII_KEY; purpose-specific keys are derived from it with HKDF so that a hash key never doubles as an
 * encryption key.
 */

const VERSION = 'v1';

export class DataProtector {
  private readonly encryptionKey: Buffer;
  private readonly hashKey: Buffer;
  private readonly tokenKey: Buffer;

  constructor(masterKey: Buffer) {
    if (masterKey.length !== 32) throw new Error('PII_KEY must be 32 bytes (base64)');
    this.encryptionKey = Buffer.from(
      crypto.hkdfSync('sha256', masterKey, Buffer.alloc(0), 'campus-card/encrypt', 32),
    );
    this.hashKey = Buffer.from(crypto.hkdfSync('sha256', masterKey, Buffer.alloc(0), 'campus-card/hash', 32));
    this.tokenKey = Buffer.from(
      crypto.hkdfSync('sha256', masterKey, Buffer.alloc(0), 'campus-card/token', 32),
    );
  }

  encrypt(plaintext: string): string {
    const iv = pooledRandomBytes(12);
    const cipher = crypto.createCipheriv('aes-256-gcm', this.encryptionKey, iv);
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `${VERSION}:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
  }

  decrypt(ciphertext: string): string {
    const [version, payload] = ciphertext.split(':');
    if (version !== VERSION || !payload) throw new Error('unknown ciphertext format');
    const raw = Buffer.from(payload, 'base64');
    const decipher = crypto.createDecipheriv('aes-256-gcm', this.encryptionKey, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  }

  /** Same input, same hash; normalise first (trim, upper-case X in ID numbers) so matching is exact. */
  hash(value: string): string {
    return crypto.createHmac('sha256', this.hashKey).update(normaliseIdentifier(value)).digest('hex');
  }

  /** The keyed hash of bytes as they are (no normalisation: e.g. a payment code, where case matters). */
  hashBytes(value: Uint8Array): string {
    return crypto.createHmac('sha256', this.hashKey).update(value).digest('hex');
  }

  /**
   * A tamper-proof, short-lived token carrying `payload` (e.g. a roster match offered for one-tap binding):
   * `<base64url JSON>.<base64url HMAC>`. Not encrypted: put nothing secret in it.
   */
  seal(purpose: string, payload: Record<string, unknown>, expiresAt: Date): string {
    const body = Buffer.from(JSON.stringify({ p: purpose, e: expiresAt.getTime(), d: payload })).toString(
      'base64url',
    );
    return `${body}.${crypto.createHmac('sha256', this.tokenKey).update(body).digest('base64url')}`;
  }

  /** The payload of a token sealed for `purpose`, or null when forged, for another purpose or expired. */
  unseal(purpose: string, token: string, now: Date): Record<string, unknown> | null {
    const [body, mac, extra] = token.split('.');
    if (!body || !mac || extra !== undefined) return null;
    const expected = Buffer.from(crypto.createHmac('sha256', this.tokenKey).update(body).digest('base64url'));
    const given = Buffer.from(mac);
    if (expected.length !== given.length || !crypto.timingSafeEqual(expected, given)) return null;
    try {
      const parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as {
        p?: unknown;
        e?: unknown;
        d?: unknown;
      };
      if (parsed.p !== purpose || typeof parsed.e !== 'number' || parsed.e <= now.getTime()) return null;
      return typeof parsed.d === 'object' && parsed.d !== null ? (parsed.d as Record<string, unknown>) : null;
    } catch {
      return null;
    }
  }
}

export function normaliseIdentifier(value: string): string {
  return value.replace(/[\s-]/g, '').toUpperCase();
}

/** "110101199003071234" → "1101**********1234"; "13812345678" → "138****5678". For display only. */
export function maskIdentifier(value: string): string {
  const clean = normaliseIdentifier(value);
  if (clean.length <= 7) return '*'.repeat(clean.length);
  const keepStart = clean.length === 11 ? 3 : 4;
  return clean.slice(0, keepStart) + '*'.repeat(clean.length - keepStart - 4) + clean.slice(-4);
}

/**
 * The master key: PII_KEY from the environment, or for local runs a key generated once into the data
 * folder (git-ignored) so restarts can still read what earlier runs encrypted.
 */
export function loadMasterKey(configured: string | undefined, dataDir: string, env: string): Buffer {
  if (configured) return Buffer.from(configured, 'base64');
  if (env === 'production') throw new Error('PII_KEY is required in production');
  const file = path.join(dataDir, 'pii.key');
  try {
    return Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64');
  } catch {
    fs.mkdirSync(dataDir, { recursive: true });
    const key = crypto.randomBytes(32);
    fs.writeFileSync(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    return key;
  }
}

/** Same idea for the session-signing secret. */
export function loadOrCreateSecret(
  configured: string | undefined,
  dataDir: string,
  name: string,
  env: string,
): string {
  if (configured) return configured;
  if (env === 'production') throw new Error(`${name} is required in production`);
  const file = path.join(dataDir, `${name.toLowerCase()}`);
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    fs.mkdirSync(dataDir, { recursive: true });
    const secret = crypto.randomBytes(32).toString('base64url');
    fs.writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
    return secret;
  }
}
