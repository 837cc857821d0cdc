import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { BuildResult } from '../../scripts/build-miniprogram.js';
import { BUILTIN_TAGS, templateUse } from './support/axml.js';
import { builtMiniprogram, freshRequire } from './support/build.js';

/**
 * Every page and component of the build: what its AXML reads exists in its data (or props), what it
 * binds to an event is one of its methods, and every component tag is declared in its JSON and built.
 */

interface Unit {
  kind: 'page' | 'component';
  /** Path without extension, relative to the build, e.g. pages/card/card. */
  name: string;
  /** Names a binding may read. */
  readable: Set<string>;
  methods: Set<string>;
  usingComponents: Record<string, string>;
  axml: string;
}

function loadUnits(build: BuildResult): Unit[] {
  const outDir = build.outDir;
  const requireBuilt = freshRequire(outDir);
  const scope = globalThis as Record<string, unknown>;
  const saved = { Page: scope.Page, Component: scope.Component, my: scope.my };
  const registered: { options?: Record<string, any> } = {};
  scope.Page = (options: Record<string, any>) => (registered.options = options);
  scope.Component = (options: Record<string, any>) => (registered.options = options);
  // Read through a function: TypeScript cannot see that requiring a module sets it.
  const registeredOptions = (): Record<string, any> | undefined => registered.options;
  scope.my = new Proxy(
    {},
    { get: (_target, name) => assert.fail(`my.${String(name)} used while loading a module`) },
  );
  try {
    const appJson = JSON.parse(fs.readFileSync(path.join(outDir, 'app.json'), 'utf8'));
    const components = fs
      .readdirSync(path.join(outDir, 'components'))
      .map((folder) => `components/${folder}/${folder}`);
    const named = [
      ...appJson.pages.map((name: string) => ({ kind: 'page' as const, name })),
      ...components.map((name) => ({ kind: 'component' as const, name })),
    ];
    return named.map(({ kind, name }) => {
      delete registered.options;
      requireBuilt(`./${name}.js`);
      const options = registeredOptions();
      assert.ok(options, `${name}.js registers nothing`);
      const functions = (source: Record<string, unknown> = {}) =>
        Object.keys(source).filter((key) => typeof source[key] === 'function');
      const methods = kind === 'page' ? functions(options) : functions(options.methods);
      const data = typeof options.data === 'function' ? options.data() : (options.data ?? {});
      const readable = new Set([...Object.keys(data), ...Object.keys(options.props ?? {}), ...methods]);
      const json = JSON.parse(fs.readFileSync(path.join(outDir, `${name}.json`), 'utf8'));
      return {
        kind,
        name,
        readable,
        methods: new Set(methods),
        usingComponents: { ...(appJson.usingComponents ?? {}), ...(json.usingComponents ?? {}) },
        axml: fs.readFileSync(path.join(outDir, `${name}.axml`), 'utf8'),
      };
    });
  } finally {
    Object.assign(scope, saved);
  }
}

function componentExists(outDir: string, fromJson: string, declared: string): boolean {
  const base = declared.startsWith('/')
    ? path.join(outDir, declared)
    : path.resolve(path.dirname(path.join(outDir, fromJson)), declared);
  return ['.axml', '.js', '.json'].every((extension) => fs.existsSync(`${base}${extension}`));
}

describe('mini-program templates', () => {
  let build: BuildResult;
  let units: Unit[];

  before(async function () {
    this.timeout(120_000);
    build = await builtMiniprogram();
    units = loadUnits(build);
  });

  it('covers every page of app.json and every component', () => {
    assert.deepEqual(
      units.filter((unit) => unit.kind === 'page').map((unit) => unit.name),
      build.pages,
    );
    assert.ok(units.some((unit) => unit.kind === 'component'));
  });

  it('reads only names that exist in the data, props or methods', () => {
    const missing = units.flatMap((unit) =>
      templateUse(unit.axml)
        .bindings.filter((binding) => !unit.readable.has(binding.name))
        .map((binding) => `${unit.name}.axml:${binding.line} {{${binding.name}}}`),
    );
    assert.deepEqual(missing, []);
  });

  it('binds every event to a method of the page or component', () => {
    const missing = units.flatMap((unit) =>
      templateUse(unit.axml)
        .handlers.filter((handler) => !unit.methods.has(handler.name))
        .map(
          (handler) =>
            `${unit.name}.axml:${handler.line} <${handler.tag} ${handler.event}="${handler.name}">`,
        ),
    );
    assert.deepEqual(missing, []);
  });

  it('declares every component tag it uses in usingComponents', () => {
    const undeclared = units.flatMap((unit) =>
      templateUse(unit.axml)
        .tags.filter(({ tag }) => !BUILTIN_TAGS.has(tag) && !(tag in unit.usingComponents))
        .map(({ tag, line }) => `${unit.name}.axml:${line} <${tag}>`),
    );
    assert.deepEqual(undeclared, []);
  });

  it('finds every declared component in the build output', () => {
    const absent = units.flatMap((unit) =>
      Object.entries(unit.usingComponents)
        .filter(([, declared]) => !componentExists(build.outDir, `${unit.name}.json`, declared))
        .map(([tag, declared]) => `${unit.name}.json <${tag}> → ${declared}`),
    );
    assert.deepEqual(absent, []);
  });

  it('finds every component the copied antd-mini components use themselves', () => {
    const antdRoot = path.join(build.outDir, 'node_modules', 'antd-mini', 'es');
    const jsonFiles = fs
      .readdirSync(antdRoot, { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('index.json'));
    assert.ok(jsonFiles.length > 0);
    const absent = jsonFiles.flatMap((file) => {
      const json = JSON.parse(fs.readFileSync(path.join(antdRoot, file), 'utf8'));
      const fromJson = path.relative(build.outDir, path.join(antdRoot, file));
      return Object.entries<string>(json.usingComponents ?? {})
        .filter(([, declared]) => !componentExists(build.outDir, fromJson, declared))
        .map(([tag, declared]) => `${fromJson} <${tag}> → ${declared}`);
    });
    assert.deepEqual(absent, []);
  });
});
