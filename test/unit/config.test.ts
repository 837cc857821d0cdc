import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../server/src/config.js';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.problems;
  }
  assert.fail('expected the configuration to be rejected');
}

describe('configuration', () => {
  it('runs locally with no environment at all', () => {
    const config = loadConfig({});
    assert.equal(config.env, 'development');
    assert.equal(config.role, 'all');
    assert.equal(config.port, 3000);
    assert.equal(config.databaseUrl, undefined);
    assert.equal(config.alipay, undefined);
    assert.equal(config.publicBaseUrl, 'http://127.0.0.1:3000');
  });

  it('leaves the public URL to the server when the port is picked at start (PORT=0)', () => {
    assert.equal(loadConfig({ PORT: '0' }).publicBaseUrl, '');
    assert.equal(
      loadConfig({ PORT: '0', PUBLIC_BASE_URL: 'https://campus.example.com/' }).publicBaseUrl,
      'https://campus.example.com',
    );
  });

  it('names the setting when a value is bad', () => {
    const problems = problemsOf({ PORT: 'abc' });
    assert.equal(problems.length, 1);
    assert.match(problems[0], /^PORT: /);
  });

  it('lists every problem in one message', () => {
    const problems = problemsOf({
      PORT: '70000',
      ROLE: 'cron',
      DATABASE_URL: 'mysql://x',
      ALIPAY_APP_ID: '123',
    });
    const names = problems.map((p) => p.split(':')[0]);
    for (const name of ['PORT', 'ROLE', 'DATABASE_URL', 'ALIPAY_APP_ID'])
      assert.ok(names.includes(name), `${name} in ${problems.join('; ')}`);
  });

  it('requires the Alipay settings as a complete set', () => {
    const problems = problemsOf({ ALIPAY_APP_ID: '2021000000000001' });
    assert.ok(
      problems.some((p) => /ALIPAY_PRIVATE_KEY|ALIPAY_GATEWAY|ALIPAY_PUBLIC_KEY/.test(p)),
      problems.join('; '),
    );
  });

  it('requires real secrets and an external database in production', () => {
    const problems = problemsOf({ NODE_ENV: 'production' });
    for (const name of ['DATABASE_URL', 'PII_KEY', 'SESSION_SECRET', 'ALIPAY_APP_ID', 'PUBLIC_BASE_URL']) {
      assert.ok(
        problems.some((p) => p.startsWith(name)),
        `${name} missing from ${problems.join('; ')}`,
      );
    }
  });

  it('refuses in production what is only safe on a laptop, naming each setting', () => {
    const good = {
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://db.internal/campus',
      PII_KEY: crypto.randomBytes(32).toString('base64'),
      SESSION_SECRET: crypto.randomBytes(32).toString('base64url'),
      PUBLIC_BASE_URL: 'https://campus.example.com',
      ALIPAY_APP_ID: '2021000000000001',
      ALIPAY_PRIVATE_KEY: 'A'.repeat(300),
      ALIPAY_PUBLIC_KEY: 'B'.repeat(300),
      ALIPAY_GATEWAY: 'https://openapi.alipay.com/gateway.do',
    };
    assert.equal(loadConfig(good).env, 'production');
    const problems = problemsOf({
      ...good,
      PII_KEY: Buffer.alloc(32).toString('base64'),
      SESSION_SECRET: 'abcabcabcabcabcabcabcabcabcabcabcabc',
      ALIPAY_GATEWAY: 'http://openapi.alipay.com/gateway.do',
      PUBLIC_BASE_URL: 'http://campus.example.com',
      BENCH_REFERENCE_ROUTES: '1',
    });
    for (const name of [
      'PII_KEY',
      'SESSION_SECRET',
      'ALIPAY_GATEWAY',
      'PUBLIC_BASE_URL',
      'BENCH_REFERENCE_ROUTES',
    ])
      assert.ok(
        problems.some((p) => p.startsWith(`${name}: `)),
        `${name} missing from ${problems.join('; ')}`,
      );
    // The same values are fine for development.
    assert.equal(
      loadConfig({ ...good, NODE_ENV: 'development', BENCH_REFERENCE_ROUTES: '1' }).env,
      'development',
    );
  });

  it('takes trusted proxies as addresses or CIDRs and rate-limit overrides as name=points/seconds', () => {
    const config = loadConfig({ TRUSTED_PROXIES: '10.0.0.0/8, 192.168.1.7', RATE_LIMITS: 'session-ip=5/60' });
    assert.deepEqual(config.trustedProxies, ['10.0.0.0/8', '192.168.1.7']);
    assert.deepEqual(config.rateLimits, { 'session-ip': { points: 5, durationSeconds: 60 } });
    assert.match(problemsOf({ TRUSTED_PROXIES: 'proxy.local' })[0], /^TRUSTED_PROXIES: /);
    assert.match(problemsOf({ RATE_LIMITS: 'session-ip=5' })[0], /^RATE_LIMITS: /);
  });

  it('reads keys from *_FILE and refuses a setting given both ways', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfg-'));
    const keyFile = path.join(dir, 'pii.key');
    fs.writeFileSync(keyFile, `${Buffer.alloc(32, 7).toString('base64')}\n`);
    assert.equal(loadConfig({ PII_KEY_FILE: keyFile }).piiKey, Buffer.alloc(32, 7).toString('base64'));
    assert.match(problemsOf({ PII_KEY_FILE: path.join(dir, 'missing') })[0], /^PII_KEY_FILE: cannot read/);
    assert.match(
      problemsOf({ PII_KEY_FILE: keyFile, PII_KEY: Buffer.alloc(32).toString('base64') })[0],
      /both set/,
    );
  });
});
