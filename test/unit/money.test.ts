import assert from 'node:assert/strict';
import { allocate, fenToYuan, yuanToFen, MoneyError, formatFen } from '../../shared/money.js';
import { royaltyShareOf, shareOfKept, shareToReturn } from '../../server/src/domain/terminals/royalty.js';

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

describe('money: allocate (one function for every split)', () => {
  it('gives each part the floor of its share and the remainder to the named part', () => {
    assert.deepEqual(allocate(1001, [3000, 7000], { remainderTo: [1] }), [300, 701]);
    assert.deepEqual(allocate(100, [1, 1, 1]), [34, 33, 33]);
    assert.deepEqual(allocate(100, [1, 1, 1], { remainderTo: [2] }), [33, 33, 34]);
    assert.deepEqual(allocate(0, [1, 9]), [0, 0]);
  });

  it('never loses or invents a fen, whatever the amount and the ratios', () => {
    for (let amount = 0; amount < 5_000; amount += 7) {
      for (const ratios of [[1], [1, 2], [2500, 7500], [1, 9999], [333, 333, 334], [0, 5, 7]]) {
        const parts = allocate(amount, ratios, { remainderTo: [ratios.length - 1] });
        assert.equal(
          parts.reduce((a, b) => a + b, 0),
          amount,
        );
        assert.ok(parts.every((p) => Number.isInteger(p) && p >= 0));
      }
    }
    // Large amounts with basis points keep every fen (no floating point on the way).
    assert.deepEqual(allocate(99_999_999_999, [1, 9999], { remainderTo: [1] }), [9_999_999, 99_990_000_000]);
  });

  it('refuses fractions, negatives and ratios that are all zero', () => {
    assert.throws(() => allocate(1.5, [1]), MoneyError);
    assert.throws(() => allocate(-1, [1]), MoneyError);
    assert.throws(() => allocate(10, [0, 0]), MoneyError);
    assert.throws(() => allocate(10, [1, 0], { remainderTo: [1] }), MoneyError);
  });
});

describe('terminal royalty: the operator gets the floor of its share, the school the remainder', () => {
  it('splits by basis points and by a fixed fee to the fen', () => {
    assert.equal(royaltyShareOf(1001, { bps: 3000, fixedFen: null }), 300);
    assert.equal(royaltyShareOf(999, { bps: 1, fixedFen: null }), 0);
    assert.equal(royaltyShareOf(350, { bps: 10_000, fixedFen: null }), 350);
    assert.equal(royaltyShareOf(350, { bps: null, fixedFen: 50 }), 50);
    assert.equal(royaltyShareOf(30, { bps: null, fixedFen: 50 }), 30, 'never more than the order');
  });

  it('takes the share back in proportion to refunds, whole share on a whole refund', () => {
    const share = 333;
    const amount = 1000;
    const steps = [100, 250, 1, 649];
    let before = 0;
    let returned = 0;
    for (const refund of steps) {
      returned += shareToReturn(share, amount, before, refund);
      before += refund;
      assert.equal(returned, share - shareOfKept(share, amount, amount - before));
    }
    assert.equal(before, amount);
    assert.equal(returned, share);
    // Half refunded: the operator keeps floor(333 × 500 / 1000) = 166 and returns 167 (the remainder fen is
    // the school's, as in the split itself); the sandbox's 当面付 reversal follows the same rule.
    assert.equal(shareToReturn(333, 1000, 0, 500), 167);
  });

  it('lets an operator whose share is the whole order keep exactly what stays paid', () => {
    // No remainder is left for the school to take, so no split by ratio (which would need one).
    assert.equal(shareOfKept(300, 300, 100), 100);
    assert.equal(shareToReturn(300, 300, 0, 200), 200);
    assert.equal(shareToReturn(300, 300, 200, 100), 100);
    assert.equal(shareOfKept(0, 300, 100), 0);
    assert.equal(shareOfKept(90, 300, 0), 0);
  });
});
