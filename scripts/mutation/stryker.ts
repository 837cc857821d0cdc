/**
 * `npm run test:mutation [-- module …]`: StrykerJS on the money modules (scripts/mutation/modules.ts), one
 * module at a time, one test process (2 cores), TypeScript checker on, perTest coverage, incremental (each
 * module's results file under scripts/mutation/incremental/ is committed, so a rerun tests only what changed).
 * Not in CI: a module takes tens of minutes. Run it niced: `nice -n 19 npm run test:mutation -- recharge`;
 * `-- --ignore-static recharge` skips the static mutants (each needs the module's whole test list);
 * `-- --force recharge` tests every mutant again and rewrites the incremental file (a static mutant has no
 * covering tests recorded, so incremental mode reuses its old result until its own line changes, even when
 * tests that would kill it were added since); `-- --summary` runs nothing and prints the recorded figures.
 *
 * Last line: one JSON object, `mutation_score` over all modules (killed + timeout over killed + timeout +
 * survived + no coverage) and `per_module`, from each module's latest results (run now or recorded).
 */
import fs from 'node:fs';
import path from 'node:path';
import { Stryker } from '@stryker-mutator/core';
import type { PartialStrykerOptions } from '@stryker-mutator/api/core';
import { MONEY_MODULES, type MoneyModule } from './modules.js';

const INCREMENTAL_DIR = 'scripts/mutation/incremental';

function optionsFor(module: MoneyModule, ignoreStatic: boolean, force: boolean): PartialStrykerOptions {
  return {
    force,
    // Static mutants (code run at import, or between tests, e.g. by background jobs) need every test of the
    // module per mutant: --ignore-static leaves them out (reported as Ignored, and said so in the figures).
    ignoreStatic,
    mutate: module.mutate,
    testRunner: 'mocha',
    // .mocharc's node-option does not reach the in-process mocha runner: the tsx loader goes here.
    testRunnerNodeArgs: ['--import', 'tsx'],
    mochaOptions: { spec: module.tests, config: '.mocharc.json' },
    coverageAnalysis: 'perTest',
    checkers: ['typescript'],
    tsconfigFile: 'tsconfig.json',
    concurrency: 1,
    timeoutMS: 30_000,
    incremental: true,
    incrementalFile: path.join(INCREMENTAL_DIR, `${module.name}.json`),
    ignorers: ['log-text'],
    plugins: [
      '@stryker-mutator/mocha-runner',
      '@stryker-mutator/typescript-checker',
      path.resolve('scripts/mutation/ignore-log-text.mjs'),
      path.resolve('scripts/mutation/survivors-reporter.mjs'),
    ],
    ignorePatterns: ['.data', 'coverage', 'dist', '.c8-output', 'reports', 'miniprogram'],
    // survivors: each surviving mutant as it is tested (reports/mutation/<module>-survivors.jsonl).
    reporters: ['clear-text', 'progress-append-only', 'html', 'survivors'],
    htmlReporter: { fileName: `reports/mutation/${module.name}.html` },
    tempDirName: '.stryker-tmp',
    cleanTempDir: 'always',
  };
}

interface Counts {
  killed: number;
  timeout: number;
  survived: number;
  noCoverage: number;
  ignored: number;
  errors: number;
}

function count(statuses: string[]): Counts {
  const n = (s: string) => statuses.filter((x) => x === s).length;
  return {
    killed: n('Killed'),
    timeout: n('Timeout'),
    survived: n('Survived'),
    noCoverage: n('NoCoverage'),
    ignored: n('Ignored'),
    errors: n('CompileError') + n('RuntimeError'),
  };
}

function score(c: Counts): number | null {
  const detected = c.killed + c.timeout;
  const valid = detected + c.survived + c.noCoverage;
  return valid ? Math.round((detected / valid) * 1000) / 10 : null;
}

/** A module's latest statuses, from its incremental file (a mutation-testing-report-schema report). */
function recordedStatuses(module: MoneyModule): string[] | null {
  const file = path.join(INCREMENTAL_DIR, `${module.name}.json`);
  if (!fs.existsSync(file)) return null;
  const report = JSON.parse(fs.readFileSync(file, 'utf8')) as {
    files: Record<string, { mutants: Array<{ status: string }> }>;
  };
  return Object.entries(report.files)
    .filter(([name]) => module.mutate.some((m) => name.endsWith(m)))
    .flatMap(([, f]) => f.mutants.map((m) => m.status));
}

async function main(): Promise<void> {
  const ignoreStatic = process.argv.includes('--ignore-static');
  const force = process.argv.includes('--force');
  // --summary runs nothing: the figures of the recorded results files only.
  const summaryOnly = process.argv.includes('--summary');
  const asked = process.argv
    .slice(2)
    .filter((a) => a !== '--ignore-static' && a !== '--force' && a !== '--summary');
  const unknown = asked.filter((a) => !MONEY_MODULES.some((m) => m.name === a));
  if (unknown.length)
    throw new Error(`unknown module(s) ${unknown.join(', ')}; known: ${MONEY_MODULES.map((m) => m.name)}`);
  const toRun = summaryOnly
    ? []
    : asked.length
      ? MONEY_MODULES.filter((m) => asked.includes(m.name))
      : MONEY_MODULES;
  fs.mkdirSync(INCREMENTAL_DIR, { recursive: true });
  // One PostgreSQL per test-runner process instead of one per mutant (test/support/db.ts).
  process.env.TEST_KEEP_CLUSTER = '1';
  const ranNow = new Set<string>();
  for (const module of toRun) {
    console.error(`\n=== mutation testing: ${module.name} (${module.mutate.join(', ')}) ===`);
    process.env.STRYKER_SURVIVORS_FILE = `reports/mutation/${module.name}-survivors.jsonl`;
    await new Stryker(optionsFor(module, ignoreStatic, force)).runMutationTest();
    ranNow.add(module.name);
  }
  const perModule: Record<string, ({ score: number | null; ranNow: boolean } & Counts) | null> = {};
  const total: Counts = { killed: 0, timeout: 0, survived: 0, noCoverage: 0, ignored: 0, errors: 0 };
  for (const module of MONEY_MODULES) {
    const statuses = recordedStatuses(module);
    if (!statuses) {
      perModule[module.name] = null;
      continue;
    }
    const c = count(statuses);
    for (const key of Object.keys(total) as Array<keyof Counts>) total[key] += c[key];
    perModule[module.name] = { score: score(c), ranNow: ranNow.has(module.name), ...c };
  }
  console.log(
    JSON.stringify({
      mutation_score: score(total),
      per_module: Object.fromEntries(Object.entries(perModule).map(([k, v]) => [k, v?.score ?? null])),
      counts: { total, ...perModule },
      not_yet_measured: Object.entries(perModule)
        .filter(([, v]) => !v)
        .map(([k]) => k),
    }),
  );
}

await main();
