import { createHmac, randomBytes } from 'node:crypto';
import { compactBeijingDay } from './beijing-time.js';

/**
 * Identifier shapes follow ALIPAY.md §6 ("Example formats") and the samples in §3 and §4:
 * user_id / PID `2088` + 12 digits, trade_no 28 digits starting with the date, agreement_no 20 digits,
 * notify_id 34 digits, access token `authusrB…X01`, bar/campus code 16–24 digits starting 25–30.
 */

let pool = Buffer.alloc(0);
let poolOffset = 0;

function randomByte(): number {
  if (poolOffset >= pool.length) {
    pool = randomBytes(4096);
    poolOffset = 0;
  }
  return pool[poolOffset++];
}

export function randomDigits(count: number): string {
  let out = '';
  while (out.length < count) {
    const byte = randomByte();
    if (byte < 250) out += String(byte % 10);
  }
  return out;
}

export function randomHex(bytes: number): string {
  let out = '';
  for (let i = 0; i < bytes; i++) out += randomByte().toString(16).padStart(2, '0');
  return out;
}

/** 2088 + 12 digits: user ids and merchant PIDs. */
export function newPartnerId(): string {
  return `2088${randomDigits(12)}`;
}

/** 16-digit app ids, 2021… like production apps. */
export function newAppId(): string {
  return `2021${randomDigits(12)}`;
}

export function newTradeNo(at: Date): string {
  return `${compactBeijingDay(at)}22001${randomDigits(15)}`;
}

export function newAgreementNo(at: Date): string {
  return `${compactBeijingDay(at).slice(0, 4)}${randomDigits(16)}`;
}

export function newNotifyId(at: Date): string {
  return `${compactBeijingDay(at)}${randomDigits(26)}`;
}

export function newSettleNo(at: Date): string {
  return `${compactBeijingDay(at)}${randomDigits(16)}`;
}

/** A precreate qr_code: `https://qr.alipay.com/bax…` like the real ones (ALIPAY-M2.md §1). */
export function newQrCode(): string {
  return `https://qr.alipay.com/bax0${randomHex(10)}`;
}

export function newTraceId(): string {
  return `0b${randomHex(15)}`;
}

export function newUserAuthCode(): string {
  return randomHex(16);
}

export function newAccessToken(): string {
  return `authusrB${randomHex(16)}X01`;
}

export function newRefreshToken(): string {
  return `authusrB${randomHex(16)}R01`;
}

export function newAppAuthCode(): string {
  return `P${randomHex(16)}`;
}

export function newAppAuthToken(at: Date): string {
  return `${compactBeijingDay(at).slice(0, 6)}BB${randomHex(16)}`;
}

/** A campus-code / bar-code payment code: 18 digits starting with 25–30 (ALIPAY.md §4.4 (a)). */
export function newPaymentCode(): string {
  const prefix = 25 + (randomByte() % 6);
  return `${prefix}${randomDigits(16)}`;
}

/**
 * open_id is app-scoped (ALIPAY.md §4.1 "The openid migration"): the same user gets a different open_id in
 * every app. Derived from a per-sandbox secret so that it is stable for a (user, app) pair. About 46
 * characters like the real ones.
 */
export function deriveOpenId(secret: Buffer, appId: string, userId: string): string {
  const digest = createHmac('sha256', secret).update(`${appId}:${userId}`).digest('base64url');
  return `0${digest.slice(0, 45)}`;
}
