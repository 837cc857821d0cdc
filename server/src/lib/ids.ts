import type { Clock } from './clock.js';
import { systemClock } from './clock.js';
import { pooledRandomBytes } from '../../../shared/random-pool.js';

/**
 * Our order numbers double as Alipay out_trade_no (DESIGN §4): ≤ 64 chars of [A-Za-z0-9_], unique, with a
 * type prefix. Layout: prefix + Beijing time yyyyMMddHHmmss + 16 random digits (31 characters), e.g.
 * `R202611251230151234567890123456`. The time part makes them sortable and readable in Alipay's bills.
 * The random part must survive the birthday bound at full speed: at 2,500 orders per second, 10 digits
 * would collide about once an hour; 16 digits make it about once in ten thousand years (and the unique
 * constraints still stand behind it).
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

/** The last second formatted: orders made in one second (hundreds at full speed) share its digits. */
let lastSecond = NaN;
let lastDigits = '';

export function beijingTimestamp(date: Date): string {
  const second = Math.floor(date.getTime() / 1000);
  if (second !== lastSecond) {
    lastDigits = new Date(second * 1000 + BEIJING_OFFSET_MS).toISOString().replace(/\D/g, '').slice(0, 14);
    lastSecond = second;
  }
  return lastDigits;
}

const RANDOM_DIGITS = 16;
const RANDOM_MODULUS = 10n ** BigInt(RANDOM_DIGITS);

function randomDigits(): string {
  // 64 random bits taken mod 10^16: the bias (2^64 is not a multiple of 10^16) is below 0.1%.
  return (pooledRandomBytes(8).readBigUInt64BE() % RANDOM_MODULUS).toString().padStart(RANDOM_DIGITS, '0');
}

export function newOrderNo(kind: OrderKind, clock: Clock = systemClock): string {
  return `${ORDER_PREFIXES[kind]}${beijingTimestamp(clock.now())}${randomDigits()}`;
}
