import crypto from 'node:crypto';
import type { Clock } from './clock.js';
import { systemClock } from './clock.js';

/**
 * Our order numbers double as Alipay out_trade_no (DESIGN §4): ≤ 64 chars of [A-Za-z0-9_], unique, with a
 * type prefix. Layout: prefix + Beijing time yyyyMMddHHmmss + 10 random digits, e.g.
 * `R2026112512301599123456780`. The time part makes them sortable and readable in Alipay's bills;
 * the random part (10^10 per second) plus the unique constraint makes collisions a non-event.
 */
export const ORDER_PREFIXES = {
  recharge: 'R',
  deduction: 'D',
  repayment: 'P',
  campusCode: 'C',
  terminal: 'T',
  refund: 'F',
  agreement: 'A',
} as const;

export type OrderKind = keyof typeof ORDER_PREFIXES;

export const ORDER_NO_PATTERN = /^[A-Za-z0-9_]{1,64}$/;

const BEIJING_OFFSET_MS = 8 * 3600_000;

export function beijingTimestamp(date: Date): string {
  return new Date(date.getTime() + BEIJING_OFFSET_MS).toISOString().replace(/\D/g, '').slice(0, 14);
}

function randomDigits(count: number): string {
  // Rejection-free: 5 random bytes → a number < 2^40 ≈ 1.1e12, taken mod 1e10 (bias is negligible here).
  const value = crypto.randomBytes(5).readUIntBE(0, 5) % 10 ** count;
  return value.toString().padStart(count, '0');
}

export function newOrderNo(kind: OrderKind, clock: Clock = systemClock): string {
  return `${ORDER_PREFIXES[kind]}${beijingTimestamp(clock.now())}${randomDigits(10)}`;
}
