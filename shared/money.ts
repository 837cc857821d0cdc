/**
 * Money is integer fen (分) everywhere in our code. Alipay speaks yuan as a decimal string ("12.30").
 * Conversions are done on strings and integers only, never through floating point.
 */

export const MAX_ALIPAY_FEN = 100_000_000_00; // ¥100,000,000.00, Alipay's upper bound (ALIPAY.md §6)

export class MoneyError extends Error {
  override name = 'MoneyError';
}

export function isValidFen(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}

/** 1230 → "12.30". Rejects fractions, zero, negatives and unsafe integers. */
export function fenToYuan(amountFen: number): string {
  if (!isValidFen(amountFen)) {
    throw new MoneyError(`amount must be a positive integer number of fen, got ${String(amountFen)}`);
  }
  const yuan = Math.trunc(amountFen / 100);
  const fen = amountFen % 100;
  return `${yuan}.${fen.toString().padStart(2, '0')}`;
}

/** Like fenToYuan but accepts 0 ("0.00"): balances, not payments. */
export function fenToYuanAllowZero(amountFen: number): string {
  return amountFen === 0 ? '0.00' : fenToYuan(amountFen);
}

const YUAN_PATTERN = /^(0|[1-9]\d{0,11})(?:\.(\d{1,2}))?$/;

/** "12.3" / "12.30" / "12" → 1230. Rejects more than two decimals, signs, exponents and ≤ 0. */
export function yuanToFen(yuan: string): number {
  if (typeof yuan !== 'string') throw new MoneyError('amount must be a yuan string');
  const match = YUAN_PATTERN.exec(yuan.trim());
  if (!match) throw new MoneyError(`not a yuan amount with at most two decimals: ${JSON.stringify(yuan)}`);
  const whole = Number(match[1]);
  const fraction = Number((match[2] ?? '').padEnd(2, '0'));
  const fen = whole * 100 + fraction;
  if (!Number.isSafeInteger(fen) || fen <= 0) {
    throw new MoneyError(`amount must be greater than zero: ${JSON.stringify(yuan)}`);
  }
  return fen;
}

/** Like yuanToFen but accepts "0.00" (Alipay returns zero amounts on pending trades). */
export function yuanToFenAllowZero(yuan: string): number {
  if (typeof yuan === 'string' && /^0+(\.0{1,2})?$/.test(yuan.trim())) return 0;
  return yuanToFen(yuan);
}

/** Display for people: 5000 → "¥50.00", negative allowed for statement rows. */
export function formatFen(amountFen: number): string {
  if (!Number.isSafeInteger(amountFen)) return '—';
  const sign = amountFen < 0 ? '-' : '';
  const abs = Math.abs(amountFen);
  return `${sign}¥${Math.trunc(abs / 100)}.${(abs % 100).toString().padStart(2, '0')}`;
}
