import assert from 'node:assert/strict';
import { fenToYuan, yuanToFen, MoneyError, formatFen } from '../../shared/money.js';

describe('money: fen ↔ Alipay yuan', () => {
  it('round-trips every amount from 1 fen to 100,000.00 yuan exactly', () => {
    for (let fen = 1; fen <= 10_000_000; fen += fen < 10_000 ? 1 : 997) {
      assert.equal(yuanToFen(fenToYuan(fen)), fen);
    }
  });

  it('formats with exactly two decimals', () => {
    assert.equal(fenToYuan(1), '0.01');
    assert.equal(fenToYuan(10), '0.10');
    assert.equal(fenToYuan(100), '1.00');
    assert.equal(fenToYuan(123456), '1234.56');
    assert.equal(fenToYuan(10_000_000_000), '100000000.00');
  });

  it('accepts yuan strings with zero, one or two decimals', () => {
    assert.equal(yuanToFen('12'), 1200);
    assert.equal(yuanToFen('12.3'), 1230);
    assert.equal(yuanToFen('0.01'), 1);
    assert.equal(yuanToFen('0.1'), 10);
  });

  it('rejects fractions of a fen, zero, negatives and non-numbers', () => {
    for (const bad of [0, -1, 1.5, NaN, Infinity, Number.MAX_SAFE_INTEGER + 1]) {
      assert.throws(() => fenToYuan(bad), MoneyError, String(bad));
    }
    for (const bad of ['0', '0.00', '-1.00', '1.001', '1e3', '', ' ', 'abc', '01.00', '1.', '.5', '+1']) {
      assert.throws(() => yuanToFen(bad), MoneyError, bad);
    }
  });

  it('shows amounts to people with a currency sign', () => {
    assert.equal(formatFen(5000), '¥50.00');
    assert.equal(formatFen(-205), '-¥2.05');
  });
});
