import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import {
  MiniprogramBuildError,
  buildMiniprogram,
  normalizeBffUrl,
  type BuildResult,
} from '../../scripts/build-miniprogram.js';
import { builtMiniprogram, freshRequire } from './support/build.js';

describe('mini-program build (scripts/build-miniprogram.ts)', () => {
  let build: BuildResult;
  const file = (relative: string) => path.join(build.outDir, relative);
  const json = (relative: string) => JSON.parse(fs.readFileSync(file(relative), 'utf8'));

  before(async function () {
    this.timeout(120_000);
    build = await builtMiniprogram();
  });

  it('emits a project the Alipay IDE and minidev open: mini.project.json format 2, app.json, every page', () => {
    assert.deepEqual(json('mini.project.json'), {
      format: 2,
      compileType: 'mini',
      compileOptions: { component2: true, enableNodeModuleBabelTransform: true },
    });
    assert.equal(json('app.json').pages[0], 'pages/index/index');
    for (const page of build.pages) {
      for (const extension of ['.js', '.axml', '.acss', '.json']) {
        assert.ok(fs.existsSync(file(`${page}${extension}`)), `${page}${extension}`);
      }
    }
    assert.ok(!fs.existsSync(file('tsconfig.json')));
    const typescriptLeftOver = fs
      .readdirSync(build.outDir, { recursive: true, encoding: 'utf8' })
      .filter((name) => name.endsWith('.ts') && !name.startsWith('node_modules'));
    assert.deepEqual(typescriptLeftOver, []);
  });

  it('compiles to CommonJS that Node loads from inside this ESM repo, thanks to its package.json', () => {
    assert.equal(json('package.json').type, 'commonjs');
    const requireBuilt = createRequire(file('app.js'));
    const recharge = requireBuilt('./view-models/recharge.js');
    assert.equal(typeof recharge.parseAmountInput, 'function');
  });

  it('puts only the shared modules the pages use into shared/, and their imports resolve there', () => {
    assert.deepEqual(fs.readdirSync(file('shared')).sort(), [
      'format.js',
      'gateway-api.js',
      'id-number.js',
      'messages-zh.js',
      'money.js',
      'phone.js',
      'reconciliation.js',
    ]);
    const source = fs.readFileSync(file('pages/card/card.js'), 'utf8');
    assert.match(source, /require\("\.\.\/\.\.\/services\/api"\)/);
    const requireBuilt = createRequire(file('app.js'));
    assert.equal(requireBuilt('./shared/format.js').formatFen(5000), '¥50.00');
  });

  it('copies the antd-mini components in use, with the npm packages they import, and no others', () => {
    assert.ok(build.components.includes('/node_modules/antd-mini/es/Button/index'));
    for (const component of build.components.filter((declared) => declared.startsWith('/node_modules/'))) {
      assert.ok(fs.existsSync(file(`${component}.axml`)), component);
    }
    // Button needs Loading and Icon (its own usingComponents), and an .sjs its template imports.
    assert.ok(fs.existsSync(file('node_modules/antd-mini/es/Loading/index.js')));
    assert.ok(fs.existsSync(file('node_modules/antd-mini/es/Button/index.sjs')));
    assert.ok(!fs.existsSync(file('node_modules/antd-mini/es/Calendar')), 'an unused component was copied');
    assert.deepEqual(build.npmPackages, ['@preact/signals-core', 'antd-mini', 'tslib']);
    assert.deepEqual(Object.keys(json('package.json').dependencies).sort(), build.npmPackages);
    assert.ok(fs.existsSync(file('node_modules/tslib/package.json')));
  });

  it('writes the BFF URL it was given into services/config.js', () => {
    // Fresh: page tests load the build with their own BFF URL (and put the file back afterwards).
    const requireBuilt = freshRequire(build.outDir);
    assert.equal(requireBuilt('./services/config.js').BFF_URL, build.bffUrl);
  });

  it('accepts only an http(s) BFF_URL, without a trailing slash, query or fragment', () => {
    assert.equal(normalizeBffUrl('https://campus.example.com/'), 'https://campus.example.com');
    assert.equal(normalizeBffUrl(' https://campus.example.com/bff/ '), 'https://campus.example.com/bff');
    assert.throws(() => normalizeBffUrl('campus.example.com'), MiniprogramBuildError);
    assert.throws(() => normalizeBffUrl('ftp://campus.example.com'), MiniprogramBuildError);
    assert.throws(() => normalizeBffUrl('https://campus.example.com/?x=1'), MiniprogramBuildError);
  });

  it('takes BFF_URL from the environment and warns when it is not HTTPS', async function () {
    this.timeout(120_000);
    const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'miniprogram-env-'));
    const saved = process.env.BFF_URL;
    try {
      process.env.BFF_URL = 'https://bff.campus.example.com';
      const https = await buildMiniprogram({ outDir });
      assert.equal(https.bffUrl, 'https://bff.campus.example.com');
      assert.deepEqual(https.warnings, []);
      assert.match(
        fs.readFileSync(path.join(outDir, 'services/config.js'), 'utf8'),
        /"https:\/\/bff\.campus\.example\.com"/,
      );
      process.env.BFF_URL = 'http://10.0.0.5:3000';
      const http = await buildMiniprogram({ outDir });
      assert.match(http.warnings.join('\n'), /not HTTPS/);
    } finally {
      if (saved === undefined) delete process.env.BFF_URL;
      else process.env.BFF_URL = saved;
      fs.rmSync(outDir, { recursive: true, force: true });
    }
  });
});
