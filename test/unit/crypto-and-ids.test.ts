import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DataProtector, loadMasterKey, maskIdentifier } from '../../server/src/lib/crypto.js';
import { ManualClock } from '../../server/src/lib/clock.js';
import { newOrderNo, ORDER_NO_PATTERN } from '../../server/src/lib/ids.js';

describe('personal data protection', () => {
  const protector = new DataProtector(crypto.randomBytes(32));

  it('encrypts with a fresh nonce each time and decrypts back', () => {
    const a = protector.encrypt('110105194912310021');
    const b = protector.encrypt('110105194912310021');
    assert.notEqual(a, b);
    assert.ok(!a.includes('110105'));
    assert.equal(protector.decrypt(a), '110105194912310021');
  });

  it('refuses ciphertext that was tampered with', () => {
    const sealed = protector.encrypt('13812345678');
    const raw = Buffer.from(sealed.slice(3), 'base64');
    raw[raw.length - 1] ^= 1;
    assert.throws(() => protector.decrypt(`v1:${raw.toString('base64')}`));
  });

  it('hashes the same identifier the same way regardless of spacing or case, and differently per key', () => {
    assert.equal(protector.hash('11010519491231002x'), protector.hash(' 11010519491231002X '));
    assert.notEqual(
      protector.hash('13812345678'),
      new DataProtector(crypto.randomBytes(32)).hash('13812345678'),
    );
  });

  it('masks identifiers for display', () => {
    assert.equal(maskIdentifier('13812345678'), '138****5678');
    assert.equal(maskIdentifier('11010519491231002X'), '1101**********002X');
  });

  it('generates a local key once into the data folder and reuses it', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'key-'));
    const first = loadMasterKey(undefined, dir, 'development');
    assert.equal(first.length, 32);
    assert.deepEqual(loadMasterKey(undefined, dir, 'development'), first);
    assert.equal(fs.statSync(path.join(dir, 'pii.key')).mode & 0o777, 0o600);
    assert.throws(() => loadMasterKey(undefined, dir, 'production'), /PII_KEY/);
  });
});

describe('order numbers', () => {
  it('are valid Alipay out_trade_no values with the type prefix and Beijing time', () => {
    const clock = new ManualClock(new Date('2026-11-25T04:30:15Z'));
    const no = newOrderNo('recharge', clock);
    assert.match(no, ORDER_NO_PATTERN);
    assert.match(no, /^R20261125123015\d{16}$/);
    assert.match(newOrderNo('deduction'), /^D\d{30}$/);
  });

  it('do not repeat over many draws in the same second', () => {
    const clock = new ManualClock();
    const seen = new Set<string>();
    for (let i = 0; i < 200_000; i += 1) seen.add(newOrderNo('deduction', clock));
    assert.equal(seen.size, 200_000);
  });
});
