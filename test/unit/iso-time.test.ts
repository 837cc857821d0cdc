import assert from 'node:assert/strict';
import { isoTimestampFormatter } from '../../server/src/lib/iso-time.js';

describe('ISO timestamps formatted from the last second', () => {
  it('writes exactly what toISOString writes, whatever the order of the dates', () => {
    const format = isoTimestampFormatter();
    const base = Date.UTC(2026, 11, 7, 15, 59, 59, 998);
    const times = [
      base,
      base + 1,
      base + 2,
      base + 1_001,
      base - 5,
      base + 300_000,
      -1,
      -1_000,
      -1_001,
      0,
      999,
    ];
    for (const time of [...times, ...times.reverse()])
      assert.equal(format(new Date(time)), new Date(time).toISOString());
  });

  it('writes the years toISOString writes with six digits the same way', () => {
    const format = isoTimestampFormatter();
    const far = Date.UTC(10000, 0, 1, 0, 0, 0, 7);
    assert.equal(format(new Date(far)), '+010000-01-01T00:00:00.007Z');
  });

  it('throws for an invalid date, as toISOString does', () => {
    const format = isoTimestampFormatter();
    assert.throws(() => format(new Date(Number.NaN)), RangeError);
    assert.throws(() => format(new Date(Number.NaN)), RangeError);
  });
});
