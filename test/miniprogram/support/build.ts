/**
 * One build of the mini-program per test run, shared by every test file. It goes under dist/ (inside this
 * ESM repo, like the real dist/miniprogram) so that loading it in Node also proves the emitted
 * {"type":"commonjs"} package.json works; it is removed when the process exits.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildMiniprogram, type BuildResult } from '../../../scripts/build-miniprogram.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

let build: Promise<BuildResult> | undefined;

export function builtMiniprogram(): Promise<BuildResult> {
  if (!build) {
    const outDir = path.join(ROOT, 'dist', `miniprogram-test-${process.pid}`);
    process.once('exit', () => fs.rmSync(outDir, { recursive: true, force: true }));
    // An unreachable BFF until a runtime points the build at a real one (MiniRuntime's bffUrl).
    build = buildMiniprogram({ outDir, bffUrl: 'http://127.0.0.1:9' });
  }
  return build;
}

/**
 * `require` for the built modules with their module state reset: a page module registers itself with
 * Page() when it first runs, so each runtime (and the template check) must run it again.
 */
export function freshRequire(buildDir: string): NodeJS.Require {
  const requireBuilt = createRequire(path.join(buildDir, 'app.js'));
  for (const key of Object.keys(requireBuilt.cache)) {
    if (key.startsWith(buildDir + path.sep)) delete requireBuilt.cache[key];
  }
  return requireBuilt;
}
