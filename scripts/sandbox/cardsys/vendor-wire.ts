/**
 * The vendor's wire conventions, sandbox side: code tables, yuan strings and Asia/Shanghai time strings.
 * The server's adapter has its own copy of these rules (it must not depend on the simulator); the adapter
 * tests against this sandbox are what keep the two in step, as with a real vendor.
 */
import { fenToYuan, yuanToFen } from '../../../shared/money.js';
import type { CardIdentity, CardStatus, PayChannel, RecordType } from './ledger.js';

export const IDENTITY_CODE: Record<CardIdentity, string> = { STUDENT: '1', STAFF: '2' };
export const STATUS_CODE: Record<CardStatus, string> = { NORMAL: '0', LOST: '1', FROZEN: '2' };
/** 消费 XF, 充值 CZ: the vendor's pinyin abbreviations. */
export const TRAN_TYPE_CODE: Record<RecordType, string> = { CONSUMPTION: 'XF', RECHARGE: 'CZ' };
/** YKT: paid from the card balance (一卡通); ZFB: paid through Alipay (支付宝). */
export const PAY_CHANNEL_CODE: Record<PayChannel, string> = {
  CARD_BALANCE: 'YKT',
  ALIPAY: 'ZFB',
  CASH: 'CASH',
};

/** Balances may be zero on the wire, so this accepts 0 ("0.00") where shared/money does not. */
export function toVendorYuan(amountFen: number): string {
  return amountFen === 0 ? '0.00' : fenToYuan(amountFen);
}

/** A positive yuan string with at most two decimals, or null. */
export function parseVendorYuan(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  try {
    return yuanToFen(value);
  } catch {
    return null;
  }
}

const SHANGHAI_OFFSET_MS = 8 * 3600_000; // China has no daylight saving time, so a fixed offset is exact.
const VENDOR_TIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;

export function toVendorTime(at: Date): string {
  return new Date(at.getTime() + SHANGHAI_OFFSET_MS).toISOString().slice(0, 19).replace('T', ' ');
}

export function parseVendorTime(value: unknown): Date | null {
  if (typeof value !== 'string') return null;
  const match = VENDOR_TIME.exec(value);
  if (!match) return null;
  const [, y, mo, d, h, mi, s] = match.map(Number);
  const utc = Date.UTC(y, mo - 1, d, h, mi, s) - SHANGHAI_OFFSET_MS;
  const parsed = new Date(utc);
  return toVendorTime(parsed) === value ? parsed : null; // rejects 2024-02-30 and friends
}
