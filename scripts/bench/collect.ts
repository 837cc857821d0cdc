/**
 * `npm run bench:collect`: 10,000 approved deductions collected against the Alipay sandbox by the real
 * collector (job `deduction.collect`: leased batches, bounded concurrency, alipay.trade.pay
 * GENERAL_WITHHOLDING signed by alipay-sdk, answers verified).
 *
 * Layout as in production (harness.ts): the API process, BENCH_WORKERS job workers, the Alipay sandbox and
 * the card-system sandbox each in their own process, PostgreSQL with full durability. Setup: P payers signed
 * through the real flow (mini-program API → sign string → sandbox signAgreement → dut_user_sign → ACTIVE →
 * card bound at the card system), then N approved deductions written straight into the table, not yet due.
 * The clock starts when they are all made due and the collectors are woken; it stops when the last is
 * COLLECTED. The sandbox ledger is then checked: exactly one paid trade per deduction.
 * Last line: {"drain_per_s": …}.
 *
 * Env: BENCH_N (10000), BENCH_PAYERS (100), BENCH_CONCURRENCY (collector concurrency per worker, 32),
 * BENCH_WORKERS (1).
 */
process.env.TZ = 'Asia/Shanghai';
process.env.LOG_LEVEL ??= 'error';

import assert from 'node:assert/strict';
import { agent, payerWithCard, signWithholding } from './api.js';
import { cpuSeconds, postgresCpuSeconds, startBenchStack } from './harness.js';
import { forEachLimited, round } from './stats.js';

const N = Number(process.env.BENCH_N ?? 10_000);
const PAYERS = Number(process.env.BENCH_PAYERS ?? 100);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const WORKERS = Number(process.env.BENCH_WORKERS ?? 1);

async function main() {
  const stack = await startBenchStack({
    workers: WORKERS,
    env: {
      DEDUCTION_COLLECT_CONCURRENCY: String(CONCURRENCY),
      DEDUCTION_COLLECT_BATCH: String(CONCURRENCY * 2),
      ALIPAY_TIMEOUT_MS: '10000',
    },
  });
  const { pool } = stack.db;
  try {
    console.log(`signing ${PAYERS} payers through the mini-program API and the Alipay sandbox…`);
    await forEachLimited(Array.from({ length: PAYERS }), 10, async (_, i) => {
      await signWithholding(stack, await payerWithCard(stack, i));
    });
    console.log(`writing ${N} approved deductions…`);
    await pool.query(
      `insert into deductions (deduction_no, school_id, txn_no, card_no, amount_fen, terminal_id, occurred_at,
         payer_user_id, agreement_id, decision, status, next_attempt_at, out_trade_no)
       select 'D' || to_char(now(), 'YYYYMMDDHH24MISS') || lpad(g::text, 16, '0'), b.school_id, 'BENCH' || g,
         b.card_no, 100 + (g % 400), 'T01', now(), b.user_id, a.id, 'APPROVED', 'PENDING',
         now() + interval '1 day', 'D' || to_char(now(), 'YYYYMMDDHH24MISS') || lpad(g::text, 16, '0')
       from generate_series(1, $1::int) g
       join lateral (select * from bindings where is_withholding_payer order by id offset (g % $2::int) limit 1) b on true
       join withholding_agreements a on a.binding_id = b.id and a.status = 'ACTIVE'`,
      [N, PAYERS],
    );
    await pool.query('analyze deductions');

    const workerCpu = () => stack.pids.workers.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
    const before = {
      workers: workerCpu(),
      alipay: cpuSeconds(stack.pids.alipay),
      postgres: postgresCpuSeconds(stack.pids.postgres),
    };
    const started = Date.now();
    await pool.query(`update deductions set next_attempt_at = now() where txn_no like 'BENCH%'`);
    await pool.query(`select pg_notify('deductions_due', '')`);
    let collected = 0;
    let lastReport = started;
    while (collected < N) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const { rows } = await pool.query(
        `select status, count(*)::int as n from deductions where txn_no like 'BENCH%' group by status`,
      );
      collected = rows.find((r) => r.status === 'COLLECTED')?.n ?? 0;
      if (Date.now() - lastReport > 2_000) {
        lastReport = Date.now();
        console.log(`  ${collected}/${N} collected after ${((Date.now() - started) / 1000).toFixed(1)} s`);
      }
      if (Date.now() - started > 10 * 60_000) throw new Error('gave up after 10 minutes');
    }
    const seconds = (Date.now() - started) / 1000;
    const perDeductionMs = (cpu: number) => round((cpu * 1000) / N, 2);
    const workers = workerCpu() - before.workers;
    const alipay = cpuSeconds(stack.pids.alipay) - before.alipay;
    const postgres = postgresCpuSeconds(stack.pids.postgres) - before.postgres;
    console.log(
      `CPU per deduction: workers ${perDeductionMs(workers)} ms, Alipay sandbox ${perDeductionMs(alipay)} ms, ` +
        `PostgreSQL ${perDeductionMs(postgres)} ms (cores busy: ${round((workers + alipay + postgres) / seconds, 2)} of 2)`,
    );

    const { trades } = await stack.alipay.control.ledger({});
    const paidTrades = new Map<string, number>();
    for (const t of trades) {
      if (t.outTradeNo.startsWith('D') && t.status === 'TRADE_SUCCESS')
        paidTrades.set(t.outTradeNo, (paidTrades.get(t.outTradeNo) ?? 0) + 1);
    }
    const { rows } = await pool.query(
      `select out_trade_no from deductions where txn_no like 'BENCH%' and status = 'COLLECTED'`,
    );
    assert.equal(
      rows.filter((r) => paidTrades.get(r.out_trade_no) === 1).length,
      N,
      'exactly one paid trade per deduction',
    );
    console.log(
      `${N} deductions collected in ${round(seconds, 1)} s by ${WORKERS} worker(s) × ${CONCURRENCY}; one trade each`,
    );
    console.log(JSON.stringify({ drain_per_s: Math.round(N / seconds) }));
  } finally {
    agent.destroy();
    await stack.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
