/**
 * `npm run bench:collect`: 10,000 approved deductions collected against the Alipay sandbox by the real
 * collector (job `deduction.collect`: leased batches, bounded concurrency, alipay.trade.pay
 * GENERAL_WITHHOLDING signed by alipay-sdk, answers verified), on the embedded PostgreSQL with full
 * durability.
 *
 * Setup: the whole stack (BFF with jobs, both sandboxes, in this process, like the tests), P payers signed
 * through the real flow (sign string → sandbox signAgreement → dut_user_sign → ACTIVE), then N approved
 * deductions written straight into the table with a far next_attempt_at so nothing is collected yet. The
 * clock starts when they are all made due and the collector is woken; it stops when the last is COLLECTED.
 * The sandbox ledger is then checked: exactly one paid trade per deduction.
 * Last line: {"drain_per_s": …}.
 *
 * Env: BENCH_N (10000), BENCH_PAYERS (100), BENCH_CONCURRENCY (collector concurrency, 32).
 */
process.env.TZ = 'Asia/Shanghai';
process.env.LOG_LEVEL ??= 'error';
process.env.TEST_PG_DURABILITY ??= 'full';

import assert from 'node:assert/strict';
import { stopTestCluster } from '../../test/support/db.js';
import { startStack } from '../../test/support/stack.js';
import { signedPayer } from '../../test/integration/withholding/helpers.js';

const N = Number(process.env.BENCH_N ?? 10_000);
const PAYERS = Number(process.env.BENCH_PAYERS ?? 100);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);

async function main() {
  const stack = await startStack({
    env: {
      LOG_LEVEL: 'error',
      DEDUCTION_COLLECT_CONCURRENCY: String(CONCURRENCY),
      DEDUCTION_COLLECT_BATCH: String(CONCURRENCY * 2),
      DATABASE_POOL_SIZE: '40',
      ALIPAY_TIMEOUT_MS: '10000',
    },
  });
  const { pool } = stack.app.deps;
  try {
    console.log(`signing ${PAYERS} payers…`);
    const payers: Array<{ userId: string; cardNo: string }> = [];
    for (let i = 0; i < PAYERS; i += 10) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(10, PAYERS - i) }, () =>
          signedPayer(stack, { balanceFen: 100_000_000 }),
        ),
      );
      payers.push(...batch.map((p) => ({ userId: p.user.userId, cardNo: p.card.cardNo })));
    }
    console.log(`writing ${N} approved deductions…`);
    await pool.query(
      `insert into deductions (deduction_no, school_id, txn_no, card_no, amount_fen, terminal_id, occurred_at,
         payer_user_id, agreement_id, decision, status, next_attempt_at, out_trade_no)
       select 'D' || to_char(now(), 'YYYYMMDDHH24MISS') || lpad(g::text, 10, '0'), b.school_id, 'BENCH' || g,
         b.card_no, 100 + (g % 400), 'T01', now(), b.user_id, a.id, 'APPROVED', 'PENDING',
         now() + interval '1 day', 'D' || to_char(now(), 'YYYYMMDDHH24MISS') || lpad(g::text, 10, '0')
       from generate_series(1, $1::int) g
       join lateral (select * from bindings where is_withholding_payer order by id offset (g % $2::int) limit 1) b on true
       join withholding_agreements a on a.binding_id = b.id and a.status = 'ACTIVE'`,
      [N, PAYERS],
    );
    await pool.query('analyze deductions');

    const started = Date.now();
    const cpuBefore = process.cpuUsage();
    await pool.query(`update deductions set next_attempt_at = now() where txn_no like 'BENCH%'`);
    await pool.query(`select pg_notify('deductions_due', '')`);
    let collected = 0;
    let lastReport = started;
    while (collected < N) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      const { rows } = await pool.query(
        `select status, count(*)::int as n from deductions where txn_no like 'BENCH%' group by status`,
      );
      collected = rows.find((r) => r.status === 'COLLECTED')?.n ?? 0;
      if (Date.now() - lastReport > 2_000) {
        lastReport = Date.now();
        console.log(
          `  ${collected}/${N} collected after ${((Date.now() - started) / 1000).toFixed(1)} s`,
          JSON.stringify(rows),
        );
      }
      if (Date.now() - started > 10 * 60_000) throw new Error('gave up after 10 minutes');
    }
    const seconds = (Date.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    // The BFF, its collector and both sandboxes share this one Node.js thread (as in the tests): every
    // charge is an RSA2 signature by alipay-sdk plus one by the sandbox answering, all on this thread.
    console.log(
      `this process (BFF + collector + Alipay sandbox, one JS thread): ${((cpu.user + cpu.system) / 1e6 / seconds).toFixed(2)} CPU s/s, ` +
        `${((cpu.user + cpu.system) / N).toFixed(0)} µs per deduction`,
    );
    const { trades } = await stack.alipay.control.ledger({});
    const paid = trades.filter((t) => t.outTradeNo.startsWith('D') && t.status === 'TRADE_SUCCESS');
    const perDeduction = new Map<string, number>();
    for (const t of paid) perDeduction.set(t.outTradeNo, (perDeduction.get(t.outTradeNo) ?? 0) + 1);
    const benchPaid = (
      await pool.query(
        `select out_trade_no from deductions where txn_no like 'BENCH%' and status = 'COLLECTED'`,
      )
    ).rows.filter((r) => perDeduction.get(r.out_trade_no) === 1).length;
    assert.equal(benchPaid, N, 'exactly one paid trade per deduction on the sandbox ledger');
    console.log(
      `${N} deductions collected in ${seconds.toFixed(1)} s with concurrency ${CONCURRENCY}; one trade each`,
    );
    console.log(JSON.stringify({ drain_per_s: Math.round(N / seconds) }));
  } finally {
    await stack.stop();
    await stopTestCluster();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
