/**
 * Hand-made mutants of the SQL that decides a swipe, one rule changed at a time: decide_swipe (the rules of
 * one swipe), decide_deductions (a batch: nonces, locks, the order of the swipes; decide_deduction is a batch
 * of one) and deduction_answer (repeats), as the latest migration defining each leaves them. For each mutant: the function is
 * replaced on the test template database after the migrations (TEST_EXTRA_SQL, test/support/db.ts) and the
 * tests that should notice run; the mutant is killed when one of them fails. Stryker does not mutate SQL.
 *
 *   npm run test:mutation:sql                  all mutants
 *   npm run test:mutation:sql -- day-utc lock-removed   only these
 *   npm run test:mutation:sql -- --check        only check that every mutant still applies
 *
 * Prints a markdown table (mutant → killing test) and, last, one JSON line. Long: run it niced.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const MIGRATIONS = 'server/src/db/migrations';
const DECISION_TESTS = 'test/integration/withholding/decision-rules.test.ts';
const GATEWAY_TESTS = 'test/integration/withholding/gateway.test.ts';
const BATCH_TESTS = 'test/integration/withholding/decision-batches.test.ts';

interface Mutant {
  id: string;
  rule: string;
  fn: 'decide_swipe' | 'decide_deductions' | 'deduction_answer';
  from: string;
  to: string;
  tests: string[];
  grep?: string;
  /** Equivalent: expected to survive, with the reason. */
  equivalent?: string;
}

const MUTANTS: Mutant[] = [
  {
    id: 'txn-limit-at',
    rule: 'per-transaction limit: exactly the limit is allowed',
    fn: 'decide_swipe',
    from: 'p_amount_fen > v_txn_limit',
    to: 'p_amount_fen >= v_txn_limit',
    tests: [DECISION_TESTS],
    grep: 'per-transaction limit',
  },
  {
    id: 'txn-limit-over',
    rule: 'per-transaction limit: one fen over is declined',
    fn: 'decide_swipe',
    from: 'p_amount_fen > v_txn_limit',
    to: 'p_amount_fen > v_txn_limit + 1',
    tests: [DECISION_TESTS],
    grep: 'per-transaction limit',
  },
  {
    id: 'daily-limit-at',
    rule: 'daily limit: reaching it exactly is allowed',
    fn: 'decide_swipe',
    from: 'v_today_fen + p_amount_fen > v_daily_limit',
    to: 'v_today_fen + p_amount_fen >= v_daily_limit',
    tests: [DECISION_TESTS],
    grep: 'exactly the daily limit',
  },
  {
    id: 'daily-limit-over',
    rule: 'daily limit: one fen over is declined',
    fn: 'decide_swipe',
    from: 'v_today_fen + p_amount_fen > v_daily_limit',
    to: 'v_today_fen + p_amount_fen > v_daily_limit + 1',
    tests: [DECISION_TESTS],
    grep: 'exactly the daily limit',
  },
  {
    id: 'card-txn-limit-ignored',
    rule: "the card's own per-transaction limit applies under the school's",
    fn: 'decide_swipe',
    from: 'v_txn_limit := least(v_school.txn_limit_fen, coalesce(v_cover.txn_limit_fen, v_school.txn_limit_fen));',
    to: 'v_txn_limit := greatest(v_school.txn_limit_fen, coalesce(v_cover.txn_limit_fen, v_school.txn_limit_fen));',
    tests: ['test/integration/withholding/families.test.ts'],
    grep: "own limits under the school's",
  },
  {
    id: 'card-daily-limit-ignored',
    rule: "the card's own daily limit applies under the school's",
    fn: 'decide_swipe',
    from: 'v_daily_limit := least(v_school.daily_limit_fen, coalesce(v_cover.daily_limit_fen, v_school.daily_limit_fen));',
    to: 'v_daily_limit := v_school.daily_limit_fen;',
    tests: ['test/integration/withholding/families.test.ts'],
    grep: "own limits under the school's",
  },
  {
    id: 'day-utc',
    rule: 'the day is the Beijing calendar day (not UTC)',
    fn: 'decide_swipe',
    from: "date_trunc('day', p_now at time zone 'Asia/Shanghai') at time zone 'Asia/Shanghai'",
    to: "date_trunc('day', p_now at time zone 'UTC') at time zone 'UTC'",
    tests: [DECISION_TESTS],
    grep: 'Beijing',
  },
  {
    id: 'day-server-zone',
    rule: "the day does not depend on the server's time zone",
    fn: 'decide_swipe',
    from: "date_trunc('day', p_now at time zone 'Asia/Shanghai') at time zone 'Asia/Shanghai'",
    to: "date_trunc('day', p_now)",
    tests: [DECISION_TESTS],
    grep: 'Beijing',
  },
  {
    id: 'day-rolling-24h',
    rule: 'the day is a calendar day, not the last 24 hours',
    fn: 'decide_swipe',
    from: "date_trunc('day', p_now at time zone 'Asia/Shanghai') at time zone 'Asia/Shanghai'",
    to: "p_now - interval '24 hours'",
    tests: [DECISION_TESTS],
    grep: 'Beijing',
  },
  {
    id: 'day-start-exclusive',
    rule: 'a swipe made exactly at 00:00 Beijing counts in that day',
    fn: 'decide_swipe',
    from: 'd.created_at >= v_day_start',
    to: 'd.created_at > v_day_start',
    tests: [DECISION_TESTS],
    grep: 'Beijing',
  },
  {
    id: 'sum-reversed',
    rule: 'reversed swipes leave the daily sum',
    fn: 'decide_swipe',
    from: " and d.status <> 'REVERSED'",
    to: '',
    tests: [DECISION_TESTS],
    grep: 'declined swipes out of the day',
  },
  {
    id: 'sum-declined',
    rule: 'declined swipes are not in the daily sum',
    fn: 'decide_swipe',
    from: "d.decision = 'APPROVED' and ",
    to: '',
    tests: [DECISION_TESTS],
    grep: 'declined swipes out of the day',
  },
  {
    id: 'sum-whole-school',
    rule: "the daily sum is the card's own",
    fn: 'decide_swipe',
    from: 'd.school_id = p_school_id and d.card_no = v_card_no and d.created_at',
    to: 'd.school_id = p_school_id and d.created_at',
    tests: [DECISION_TESTS],
    grep: 'own daily sum',
  },
  {
    id: 'arrears-without-retrying',
    rule: 'a RETRYING deduction is arrears',
    fn: 'decide_swipe',
    from: "d.status in ('RETRYING', 'ARREARS')",
    to: "d.status in ('ARREARS')",
    tests: [DECISION_TESTS],
    grep: 'arrears block',
  },
  {
    id: 'arrears-without-arrears',
    rule: 'an ARREARS deduction is arrears',
    fn: 'decide_swipe',
    from: "d.status in ('RETRYING', 'ARREARS')",
    to: "d.status in ('RETRYING')",
    tests: ['test/integration/withholding/collection.test.ts'],
    grep: 'IN_ARREARS',
  },
  {
    id: 'arrears-with-pending',
    rule: 'a swipe waiting to be collected is not arrears',
    fn: 'decide_swipe',
    from: "d.status in ('RETRYING', 'ARREARS')",
    to: "d.status in ('RETRYING', 'ARREARS', 'PENDING')",
    tests: [DECISION_TESTS],
    grep: 'arrears block',
  },
  {
    id: 'arrears-any-payer',
    rule: "arrears block only the payer's own swipes",
    fn: 'decide_swipe',
    from: 'where d.payer_user_id = v_payer.user_id and d.status in',
    to: 'where d.status in',
    tests: [DECISION_TESTS],
    grep: 'arrears block',
  },
  {
    id: 'lock-removed',
    rule: 'swipes of one card are decided in single file',
    fn: 'decide_deductions',
    from: '    perform pg_advisory_xact_lock(v_key);\n',
    to: '    null;\n',
    tests: ['test/integration/withholding/decide-concurrency.test.ts'],
  },
  {
    id: 'lock-per-school',
    rule: 'the lock is per card, not per school',
    fn: 'decide_deductions',
    from: "hashtextextended(s.school_id::text || '/' || coalesce(s.card_no, c.card_no), 7355609)",
    to: 'hashtextextended(s.school_id::text, 7355609)',
    tests: [DECISION_TESTS],
    grep: 'per-card lock',
  },
  {
    id: 'lock-code-card-missed',
    rule: 'a swipe by dynamic code locks the card the code stands for',
    fn: 'decide_deductions',
    from: 'coalesce(s.card_no, c.card_no), 7355609)',
    to: 's.card_no, 7355609)',
    tests: [BATCH_TESTS],
    grep: 'card a dynamic code stands for',
  },
  {
    id: 'lock-arrival-order',
    rule: 'the cards of a batch are locked in one order (two batches never deadlock)',
    fn: 'decide_deductions',
    // Each swipe's keys as they come: the card's, then the txn_no's.
    from: "    select distinct keys.k\n      from deduction_swipes(p_swipes) s\n      left join membership_codes c on c.code_hash = s.dynamic_code_hash and c.school_id = s.school_id\n      cross join lateral (values\n        (hashtextextended(s.school_id::text || '/' || coalesce(s.card_no, c.card_no), 7355609)),\n        (hashtextextended(s.school_id::text || '/' || s.txn_no, 7355610))) keys(k)\n      where s.swipe = any(v_fresh) and keys.k is not null\n    order by keys.k\n",
    to: "    select keys.k\n      from deduction_swipes(p_swipes) s\n      left join membership_codes c on c.code_hash = s.dynamic_code_hash and c.school_id = s.school_id\n      cross join lateral (values\n        (hashtextextended(s.school_id::text || '/' || coalesce(s.card_no, c.card_no), 7355609)),\n        (hashtextextended(s.school_id::text || '/' || s.txn_no, 7355610))) keys(k)\n      where s.swipe = any(v_fresh) and keys.k is not null\n",
    tests: [BATCH_TESTS],
    grep: 'opposite orders never deadlock',
  },
  {
    id: 'batch-second-nonce-use',
    rule: 'of two swipes of one batch with one nonce, the first spends it',
    fn: 'decide_deductions',
    from: 'select min(s.swipe) as first_use',
    to: 'select max(s.swipe) as first_use',
    tests: [BATCH_TESTS],
    grep: 'one nonce',
  },
  {
    id: 'batch-out-of-order',
    rule: 'the swipes of a batch are decided in the order they came',
    fn: 'decide_deductions',
    from: 'from deduction_swipes(p_swipes) s order by s.swipe loop',
    to: 'from deduction_swipes(p_swipes) s order by s.swipe desc loop',
    tests: [BATCH_TESTS],
    grep: 'order they came',
  },
  {
    id: 'batch-error-not-isolated',
    rule: "one swipe's failure does not fail the others of its batch",
    fn: 'decide_deductions',
    from: '          exception when others then\n',
    to: "          exception when sqlstate 'XX999' then\n",
    tests: [BATCH_TESTS],
    grep: 'one bad swipe',
  },
  {
    id: 'batch-failure-not-decided-again',
    rule: 'a batch one swipe of which fails is decided again, each swipe alone',
    fn: 'decide_deductions',
    from: '      v_isolating := true;\n',
    to: '      raise;\n',
    tests: [BATCH_TESTS],
    grep: 'one bad swipe',
  },
  {
    id: 'batch-failed-answers-kept',
    rule: "the answers of a batch's failed first pass are dropped (one answer per swipe)",
    fn: 'decide_deductions',
    from: "    v_answers := '{}';\n",
    to: '\n',
    tests: [BATCH_TESTS],
    grep: 'decides again, each swipe alone',
  },
  {
    id: 'batch-always-alone',
    rule: 'a batch without a failing swipe is decided in one subtransaction',
    fn: 'decide_deductions',
    from: 'v_isolating boolean := false;',
    to: 'v_isolating boolean := true;',
    tests: [BATCH_TESTS],
    grep: 'in one subtransaction',
  },
  {
    id: 'window-age-inclusive',
    rule: 'a swipe exactly swipe_max_age old is inside the window',
    fn: 'decide_swipe',
    from: 'p_occurred_at < p_now - make_interval',
    to: 'p_occurred_at <= p_now - make_interval',
    tests: [DECISION_TESTS],
    grep: 'time window',
  },
  {
    id: 'window-ahead-inclusive',
    rule: 'a swipe exactly swipe_max_ahead ahead is inside the window',
    fn: 'decide_swipe',
    from: 'p_occurred_at > p_now + make_interval',
    to: 'p_occurred_at >= p_now + make_interval',
    tests: [DECISION_TESTS],
    grep: 'time window',
  },
  {
    id: 'suspended-ignored',
    rule: 'a SUSPENDED school takes no new swipes',
    fn: 'decide_swipe',
    from: "if v_school.status = 'SUSPENDED' then",
    to: 'if false then',
    tests: [DECISION_TESTS],
    grep: 'SCHOOL_SUSPENDED',
  },
  {
    id: 'lost-ignored',
    rule: 'a card reported lost is declined',
    fn: 'decide_swipe',
    from: "elsif v_payer.status = 'LOST' then",
    to: 'elsif false then',
    tests: [GATEWAY_TESTS],
    grep: 'CARD_LOST',
  },
  {
    id: 'agreement-any-status',
    rule: 'only an ACTIVE agreement pays',
    fn: 'decide_swipe',
    from: "c.removed_at is null and a.status = 'ACTIVE'",
    to: 'c.removed_at is null',
    tests: ['test/integration/withholding/agreement.test.ts'],
    grep: 'unsigns inside Alipay',
  },
  {
    id: 'removed-card-covered',
    rule: 'a card removed from the agreement is no longer paid',
    fn: 'decide_swipe',
    from: "c.removed_at is null and a.status = 'ACTIVE'",
    to: "a.status = 'ACTIVE'",
    tests: ['test/integration/withholding/families.test.ts'],
    grep: 'removed the payer from|added back to the agreement',
  },
  {
    id: 'approved-not-due',
    rule: 'an approved swipe is due for collection at once',
    fn: 'decide_swipe',
    from: 'case when v_reason is null then p_now end,',
    to: 'case when v_reason is null then null end,',
    tests: ['test/integration/withholding/swipes.test.ts'],
    grep: 'approves a swipe at once',
  },
  {
    id: 'nonce-replay-accepted',
    rule: 'a nonce is spent once (replays refused)',
    fn: 'decide_deductions',
    from: '    if not (v_swipe.swipe = any(v_fresh)) then\n',
    to: '    if false then\n',
    tests: [GATEWAY_TESTS],
    grep: 'same nonce a second time',
  },
  {
    id: 'txn-unique-race',
    rule: 'a reversal that commits while its swipe is decided wins (on conflict)',
    fn: 'decide_swipe',
    from: '  on conflict (school_id, txn_no) do nothing\n',
    to: '\n',
    tests: [BATCH_TESTS],
    grep: 'reversal that commits',
  },
  {
    id: 'txn-repeat-lookup-removed',
    rule: 'a repeated txnNo gets its first answer before any rule runs (a conflicting repeat spends no dynamic code)',
    fn: 'decide_swipe',
    from: '  select * into v_row from deductions d where d.school_id = p_school_id and d.txn_no = p_txn_no;\n  if found then\n    return query select * from deduction_answer(v_row, p_card_no, p_dynamic_code_hash, p_amount_fen, p_now);\n    return;\n  end if;\n\n  if p_dynamic_code_hash',
    to: '  if p_dynamic_code_hash',
    tests: [BATCH_TESTS],
    grep: 'another, unused dynamic code',
  },
  {
    id: 'answer-amount-ignored',
    rule: 'a repeat with another amount is a conflict',
    fn: 'deduction_answer',
    from: 'elsif p_row.amount_fen = p_amount_fen\n    and (case',
    to: 'elsif (case',
    tests: [GATEWAY_TESTS],
    grep: 'TXN_CONFLICT',
  },
  {
    id: 'answer-card-ignored',
    rule: 'a repeat with another card is a conflict',
    fn: 'deduction_answer',
    from: 'else p_row.dynamic_code_hash is null and p_row.card_no = p_card_no end',
    to: 'else p_row.dynamic_code_hash is null end',
    tests: [GATEWAY_TESTS],
    grep: 'TXN_CONFLICT',
  },
  {
    id: 'tombstone-not-reversed',
    rule: 'a txnNo reversed before it arrived is declined REVERSED',
    fn: 'deduction_answer',
    from: '  if p_row.amount_fen is null then',
    to: '  if false then',
    tests: [GATEWAY_TESTS],
    grep: 'reversed before it arrived',
  },
];

/** The latest migration's `create or replace function <fn>` statement, as the database has it. */
function latestDefinition(fn: string): { file: string; sql: string } {
  const files = fs
    .readdirSync(MIGRATIONS)
    .filter((f) => f.endsWith('.sql'))
    .sort();
  // A migration that changes a function's arguments drops it and uses a plain `create function`.
  const marker = new RegExp(`create (or replace )?function ${fn}\\(`);
  for (const file of files.reverse()) {
    const text = fs.readFileSync(path.join(MIGRATIONS, file), 'utf8');
    const found = marker.exec(text);
    if (!found) continue;
    const start = found.index;
    const end = text.indexOf('$$;', text.indexOf('as $$', start)) + 3;
    // Replacing it in place: the mutant must redefine the live function, never add an overload.
    return { file, sql: text.slice(start, end).replace(/^create function/, 'create or replace function') };
  }
  throw new Error(`no migration defines ${fn}`);
}

function applyMutant(mutant: Mutant, definition: string): string {
  const count = definition.split(mutant.from).length - 1;
  if (count !== 1)
    throw new Error(`mutant ${mutant.id}: its code occurs ${count} times in ${mutant.fn} (update the list)`);
  return definition.replace(mutant.from, mutant.to);
}

interface RunResult {
  /** Tests (never hooks) that failed: the mutant's killers. */
  failed: string[];
  passed: number;
  /** A hook failed or nothing reported: the run says nothing about the mutant. */
  error?: string;
}

function runOnce(mutant: Mutant, sqlFile: string, reportFile: string): RunResult {
  // A generous timeout: on a loaded machine a stack may take long to start, and a slow start is no kill.
  const args = [
    'mocha',
    '--timeout',
    '120000',
    '--reporter',
    'json',
    '--reporter-option',
    `output=${reportFile}`,
  ];
  args.push(...mutant.tests);
  if (mutant.grep) args.push('--grep', mutant.grep);
  fs.rmSync(reportFile, { force: true });
  const run = spawnSync('npx', args, {
    env: { ...process.env, TEST_EXTRA_SQL: sqlFile },
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  let report: { failures: Array<{ fullTitle: string; title: string }>; stats: { passes: number } };
  try {
    report = JSON.parse(fs.readFileSync(reportFile, 'utf8'));
  } catch {
    return { failed: [], passed: 0, error: `no report (exit ${run.status})` };
  }
  const hooks = report.failures.filter((f) => /"(before|after) (all|each)" hook/.test(f.title));
  if (hooks.length) return { failed: [], passed: 0, error: hooks[0].fullTitle };
  const failed = report.failures.map((f) => f.fullTitle);
  if (!failed.length && report.stats.passes === 0)
    throw new Error(`mutant ${mutant.id}: no test ran (check tests/grep)`);
  return { failed, passed: report.stats.passes };
}

/** Up to three runs while hooks fail (a stack that could not start); the first run that says something counts. */
function runTests(mutant: Mutant, sqlFile: string, reportFile: string): RunResult {
  let result = runOnce(mutant, sqlFile, reportFile);
  for (let retry = 0; retry < 2 && result.error; retry++) result = runOnce(mutant, sqlFile, reportFile);
  return result;
}

function main(): void {
  const isCheckOnly = process.argv.includes('--check');
  const only = process.argv.slice(2).filter((a) => a !== '--check');
  const chosen = only.length ? MUTANTS.filter((m) => only.includes(m.id)) : MUTANTS;
  const definitions = {
    decide_swipe: latestDefinition('decide_swipe'),
    decide_deductions: latestDefinition('decide_deductions'),
    deduction_answer: latestDefinition('deduction_answer'),
  };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sql-mutants-'));
  const rows: Array<{ mutant: Mutant; killedBy: string[]; passed: number; error?: string }> = [];
  try {
    // Every mutant must apply to today's SQL before any time is spent running tests.
    const mutated = chosen.map((m) => applyMutant(m, definitions[m.fn].sql));
    if (isCheckOnly) {
      console.log(JSON.stringify({ sql_mutants: chosen.length, applicable: mutated.length }));
      return;
    }
    chosen.forEach((mutant, i) => {
      const sqlFile = path.join(dir, `${mutant.id}.sql`);
      fs.writeFileSync(sqlFile, mutated[i]);
      const result = runTests(mutant, sqlFile, path.join(dir, `${mutant.id}.json`));
      rows.push({ mutant, killedBy: result.failed, passed: result.passed, error: result.error });
      const verdict = result.error ? `ERROR (${result.error})` : result.failed.length ? 'killed' : 'SURVIVED';
      process.stderr.write(`${mutant.id}: ${verdict}${result.failed[0] ? ` by ${result.failed[0]}` : ''}\n`);
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log(
    `SQL of ${definitions.decide_swipe.file} (decide_swipe), ${definitions.decide_deductions.file} (decide_deductions) and ${definitions.deduction_answer.file} (deduction_answer)\n`,
  );
  console.log('| mutant | rule | change | result | killing test |');
  console.log('|---|---|---|---|---|');
  const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ').replace(/\s+/g, ' ').trim();
  for (const { mutant, killedBy, error } of rows) {
    const result = error
      ? 'error'
      : killedBy.length
        ? 'killed'
        : mutant.equivalent
          ? 'equivalent'
          : 'SURVIVED';
    const test = error
      ? `run failed: ${error}`
      : killedBy.length
        ? killedBy.join('; ')
        : (mutant.equivalent ?? '—');
    const change = `\`${cell(mutant.from).slice(0, 70)}\` → \`${cell(mutant.to).slice(0, 70) || '(removed)'}\``;
    console.log(`| ${mutant.id} | ${cell(mutant.rule)} | ${change} | ${result} | ${cell(test)} |`);
  }
  const killed = rows.filter((r) => !r.error && r.killedBy.length).length;
  const errors = rows.filter((r) => r.error).map((r) => r.mutant.id);
  const equivalent = rows.filter((r) => !r.error && !r.killedBy.length && r.mutant.equivalent).length;
  const survived = rows
    .filter((r) => !r.error && !r.killedBy.length && !r.mutant.equivalent)
    .map((r) => r.mutant.id);
  console.log(JSON.stringify({ sql_mutants: rows.length, killed, equivalent, survived, errors }));
  if (survived.length || errors.length) process.exitCode = 1;
}

main();
