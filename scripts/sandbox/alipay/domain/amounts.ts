import { MAX_ALIPAY_FEN, MoneyError, fenToYuan, yuanToFen } from '../../../../shared/money.js';
import { businessError, invalidParameter } from '../protocol/alipay-error.js';

/**
 * Yuan strings at the protocol edge → integer fen inside (DESIGN §4). Alipay's amount rule (ALIPAY.md §6):
 * up to two decimals, within [0.01, 100000000]; `≤ 0` or over the limit is `rangeSubCode`
 * (ACQ.TOTAL_FEE_EXCEED for trade amounts). JSON numbers are accepted (unsure what the real gateway does) but a
 * float like 0.30000000000000004 is refused, which is how float bugs show up.
 */
export function parseYuan(value: unknown, field: string, rangeSubCode = 'ACQ.TOTAL_FEE_EXCEED'): number {
  if (value === undefined || value === null || value === '') throw invalidParameter(`${field} 不能为空`);
  const text =
    typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : undefined;
  if (text === undefined) throw invalidParameter(`${field} 格式错误`);
  if (/^-\d+(\.\d+)?$/.test(text) || /^0+(\.0+)?$/.test(text) || /^[1-9]\d{9,}(\.\d+)?$/.test(text)) {
    throw businessError(rangeSubCode, `${field} 金额不在 [0.01, 100000000] 范围内`);
  }
  let fen: number;
  try {
    fen = yuanToFen(text);
  } catch (error) {
    if (error instanceof MoneyError) throw invalidParameter(`${field} 格式错误: ${text}`);
    throw error;
  }
  if (fen > MAX_ALIPAY_FEN) throw businessError(rangeSubCode, `${field} 金额不在 [0.01, 100000000] 范围内`);
  return fen;
}

/** Fen → Alipay's yuan text, zero and negatives included (zero amounts on pending trades, negative bill rows). */
export function yuanText(amountFen: number): string {
  if (amountFen === 0) return '0.00';
  return amountFen < 0 ? `-${fenToYuan(-amountFen)}` : fenToYuan(amountFen);
}
