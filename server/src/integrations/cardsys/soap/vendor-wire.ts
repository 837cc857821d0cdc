/**
 * The SOAP vendor's wire conventions, read from our side: code tables, yuan strings ("12.30") and
 * Asia/Shanghai wall-clock times ("2024-03-01 12:00:00"). Only soap/ knows these.
 */
import { fenToYuan, yuanToFenAllowZero } from '../../../../../shared/money.js';
import type { CardHolderIdentity, CardPaymentChannel, CardRecordKind, CardStatus } from '../card-system.js';

export const IDENTITY_BY_CODE: Record<string, CardHolderIdentity> = { '1': 'STUDENT', '2': 'STAFF' };
export const STATUS_BY_CODE: Record<string, CardStatus> = { '0': 'NORMAL', '1': 'LOST', '2': 'FROZEN' };
/** 消费 XF, 充值 CZ. */
export const RECORD_KIND_BY_CODE: Record<string, CardRecordKind> = { XF: 'CONSUMPTION', CZ: 'RECHARGE' };
/** YKT: 一卡通 balance; ZFB: 支付宝. */
export const CHANNEL_BY_CODE: Record<string, CardPaymentChannel> = {
  YKT: 'CARD_BALANCE',
  ZFB: 'ALIPAY',
  CASH: 'CASH',
};

export function yuanForVendor(amountFen: number): string {
  return fenToYuan(amountFen);
}

/** A yuan string with at most two decimals, zero allowed (balances); null when it is anything else. */
export function fenFromVendor(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  try {
    return yuanToFenAllowZero(value);
  } catch {
    return null;
  }
}

const SHANGHAI_OFFSET_MS = 8 * 3600_000; // China has no daylight saving time: a fixed offset is exact.
const VENDOR_TIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;

export function timeForVendor(at: Date): string {
  return new Date(at.getTime() + SHANGHAI_OFFSET_MS).toISOString().slice(0, 19).replace('T', ' ');
}

export function timeFromVendor(value: unknown): Date | null {
  if (typeof value !== 'string') return null;
  const match = VENDOR_TIME.exec(value.trim());
  if (!match) return null;
  const [, y, mo, d, h, mi, s] = match.map(Number);
  const at = new Date(Date.UTC(y, mo - 1, d, h, mi, s) - SHANGHAI_OFFSET_MS);
  return Number.isNaN(at.getTime()) ? null : at;
}

/** The vendor sends one repeated element as an object and several as an array. */
export function listOf<T>(value: T | T[] | undefined | null): T[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

/** A text field: absent, empty and xsi:nil elements all come back as null. */
export function textOf(value: unknown): string | null {
  if (typeof value === 'string') return value.trim() === '' ? null : value.trim();
  if (typeof value === 'number') return String(value);
  return null;
}

export function intOf(value: unknown): number | null {
  const number = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
  return typeof number === 'number' && Number.isSafeInteger(number) && number >= 0 ? number : null;
}
