/**
 * `npm run bench:reconcile` (issue 17): one school-day with BENCH_N (200,000) Alipay bill rows and the
 * matching records, reconciled once: bill.downloadurl.query on the school's app_auth_token, the zip
 * downloaded from the Alipay sandbox (its own process, which also builds the GBK CSV), the detail CSV
 * decoded and parsed as a stream, stored in batches, matched both ways in PostgreSQL, findings and totals
 * saved. The records are withholding deductions (COLLECTED, inserted in bulk: no vendor calls, which are
 * bounded per day by RECONCILE_VENDOR_MAX_CARDS anyway) plus BENCH_STRANGERS trades in the bill that we do not
 * know, so the day ends with exactly that many findings. Peak RSS is this process's (the reconciling one),
 * sampled every 20 ms, beside the RSS just before the run (`baseline_rss_mb`) and the peak of V8's heap in use
 * and of memory outside it (Buffers: `peak_heap_mb`, `peak_external_mb`), so that what grows with the row
 * count can be told apart.
 *
 * Last line: {"rows": …, "seconds": …, "rows_per_s": …, "peak_rss_mb": …, "baseline_rss_mb": …,
 * "peak_heap_mb": …, "peak_external_mb": …, "zip_mb": …, "baseline_heap_mb": …, "heap_after_gc_mb": …,
 * "findings": …}. `node --expose-gc --import tsx scripts/bench/reconcile.ts` fills heap_after_gc_mb.
 */
process.env.TZ = 'Asia/Shanghai';
process.env.LOG_LEVEL ??= 'error';

import assert from 'node:assert/strict';
import { beijingDate, reconcileDay } from '../../server/src/domain/reconciliation/reconcile-day.js';
import { startBenchStack } from './harness.js';
import { round } from './stats.js';

const N = Number(process.env.BENCH_N ?? 200_000);
const STRANGERS = Number(process.env.BENCH_STRANGERS ?? 3);

async function main() {
  const stack = await startBenchStack({ apiOnly: true });
  const { pool } = stack.db;
  try {
    const sellerId = stack.school.alipaySellerId!;
    // The sandbox keeps its clock in its state file across runs (a previous run moved it on): the day and
    // the records' times are the sandbox's.
    const clock = await stack.alipay.control.clock();
    const at = new Date(clock.iso);
    const billDate = beijingDate(at);
    const prefix = `D${billDate.replaceAll('-', '')}B${Date.now() % 100_000}`;
    console.log(`making ${N} paid withholding trades at the Alipay sandbox and ${N} deductions here…`);
    const res = await fetch(`${stack.alipay.url}/control/bench/paid-trades`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sellerId, count: N, prefix, amountFen: 300, subject: '食堂消费 一食堂' }),
    });
    assert.equal(res.status, 201, await res.text());
    await pool.query(
      `insert into deductions (deduction_no, school_id, txn_no, card_no, amount_fen, terminal_id, occurred_at,
                               decision, status, attempts, out_trade_no, collected_at)
       select $2 || lpad(i::text, 10, '0'), $1, 'BT' || i, '2026' || lpad((i % 5000)::text, 4, '0'),
              300 + i % 100, 'POS-' || (i % 20), $4, 'APPROVED', 'COLLECTED', 1, $2 || lpad(i::text, 10, '0'), $4
         from generate_series(0, $3 - 1) i`,
      [stack.school.id, prefix, N, at],
    );
    for (let i = 0; i < STRANGERS; i += 1)
      await stack.alipay.control.corruptBill({ sellerId, billDate, kind: 'STRANGER', amountFen: 100 + i });
    // 34 hours on at Alipay: the day's bill exists (from 09:00 the next day).
    await stack.alipay.control.advanceClock({ days: 1, hours: 10 });
    await pool.query('vacuum analyze deductions');
    // Alipay has the file ready by 09:00; the sandbox builds it on the first download (for 200,000 rows that
    // takes it tens of seconds) and keeps it. Have it built now, so the run below is timed like a real one.
    const warmUrl = await stack.deps.alipay!.tradeBillUrl({
      billDate,
      appAuthToken: stack.deps.schools.appAuthToken(stack.school),
    });
    const warmStarted = performance.now();
    // Read and dropped chunk by chunk: the file must not sit in this process's memory before the run.
    let zipBytes = 0;
    for await (const chunk of (await fetch(warmUrl!)).body!) zipBytes += (chunk as Uint8Array).length;
    console.log(
      `the Alipay sandbox built the bill file (${round(zipBytes / 1024 / 1024, 1)} MB) in ` +
        `${round((performance.now() - warmStarted) / 1000, 1)} s`,
    );

    // Run with `node --expose-gc`: the heap is collected before and after the run, and what the run left
    // behind (heap_after_gc_mb) tells data held per row from garbage not yet collected.
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    const baseline = process.memoryUsage();
    const peak = { rss: baseline.rss, heap: baseline.heapUsed, external: baseline.external };
    const sample = () => {
      const now = process.memoryUsage();
      peak.rss = Math.max(peak.rss, now.rss);
      peak.heap = Math.max(peak.heap, now.heapUsed);
      peak.external = Math.max(peak.external, now.external);
    };
    const sampler = setInterval(sample, 20);
    const started = performance.now();
    const outcome = await reconcileDay(stack.deps, stack.school, billDate);
    const seconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    sample();
    const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);
    gc?.();
    const afterGc = gc ? mb(process.memoryUsage().heapUsed) : null;

    const rows = N + STRANGERS;
    assert.equal(outcome.status, 'MATCHED');
    assert.equal(outcome.billRows, rows, 'every bill row stored');
    assert.equal(outcome.openFindings, STRANGERS, "exactly the strangers' trades are findings");
    const deductions = outcome.totals!.kinds.find((k) => k.kind === 'DEDUCTION')!;
    assert.equal(deductions.differenceFen, 0, 'deductions balance');
    const result = {
      rows,
      seconds: round(seconds, 2),
      rows_per_s: Math.round(rows / seconds),
      peak_rss_mb: mb(peak.rss),
      baseline_rss_mb: mb(baseline.rss),
      peak_heap_mb: mb(peak.heap),
      peak_external_mb: mb(peak.external),
      zip_mb: round(zipBytes / 1024 / 1024, 1),
      baseline_heap_mb: mb(baseline.heapUsed),
      heap_after_gc_mb: afterGc,
      findings: outcome.openFindings,
    };
    console.log(
      `reconciled ${rows} bill rows in ${result.seconds} s = ${result.rows_per_s} rows/s ` +
        `(download, parse, store, match, findings), peak RSS ${result.peak_rss_mb} MB ` +
        `(${result.baseline_rss_mb} MB before the run; peak heap ${result.peak_heap_mb} MB, ` +
        `outside the heap ${result.peak_external_mb} MB)`,
    );
    console.log(JSON.stringify(result));
  } finally {
    await stack.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
