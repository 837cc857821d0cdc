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

/**
 * Splits `amountFen` by integer `ratios` (dinero.js's allocate): every part gets the floor of its share and
 * the fen left over by rounding go, one by one, to the parts named in `remainderTo` (default: the first),
 * so the parts always add up to the amount — no fen is lost or invented. Used for every split of money:
 * profit sharing (the school keeps the remainder: `remainderTo: [schoolIndex]`), the part of a refund that
 * a royalty receiver returns, refunds of some items of an order.
 *
 *   allocate(1001, [3000, 7000], { remainderTo: [1] }) → [300, 701]
 */
export function allocate(
  amountFen: number,
  ratios: readonly number[],
  options: { remainderTo?: readonly number[] } = {},
): number[] {
  if (!Number.isSafeInteger(amountFen) || amountFen < 0)
    throw new MoneyError(`allocate needs a whole, non-negative number of fen, got ${String(amountFen)}`);
  if (ratios.length === 0 || ratios.some((r) => !Number.isSafeInteger(r) || r < 0))
    throw new MoneyError('allocate needs whole, non-negative ratios');
  const total = ratios.reduce((sum, r) => sum + r, 0);
  if (total === 0) throw new MoneyError('allocate needs at least one ratio above zero');
  // floor(amount × r / total) without forming amount × r, which can pass 2^53 (and the mini-program's TS
  // target has no BigInt): amount = q × total + rest, so the share is q × r + floor(rest × r / total).
  if (!Number.isSafeInteger(total * Math.max(...ratios)))
    throw new MoneyError('allocate: the ratios are too large to split exactly');
  const whole = Math.floor(amountFen / total);
  const rest = amountFen % total;
  const parts = ratios.map((r) => whole * r + Math.floor((rest * r) / total));
  let remainder = amountFen - parts.reduce((sum, p) => sum + p, 0);
  const takers = (options.remainderTo ?? [0]).filter((i) => i >= 0 && i < ratios.length && ratios[i] > 0);
  if (takers.length === 0) throw new MoneyError('allocate: the remainder must go to a part with a ratio');
  for (let i = 0; remainder > 0; i = (i + 1) % takers.length, remainder -= 1) parts[takers[i]] += 1;
  return parts;
}
