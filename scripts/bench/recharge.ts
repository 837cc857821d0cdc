/**
 * `npm run bench:recharge`: paid notifications through the real notify route → card credited.
 *
 * The BFF, both sandboxes and PostgreSQL (full durability) run as separate processes (harness.ts). N
 * recharge orders are created through the API (each an alipay.trade.create at the sandbox). Then
 * trade_status_sync notifications, built and signed exactly as the sandbox's notifier signs them (its
 * Alipay key, prepared before the clock starts), are posted to POST /notify/alipay:
 *   phase 1, paced at BENCH_RATE per second: latency from posting a notification to the order being
 *            CREDITED (Agenda wakes the credit job through LISTEN/NOTIFY; the job calls the card system's
 *            SOAP Recharge): p50 and p95;
 *   phase 2, as fast as BENCH_CONCURRENCY connections allow: notifications handled per second.
 * Prints human-readable figures, then one JSON line: {credited_p50_ms, credited_p95_ms, notifies_per_s, warmup}.
 *
 * A warm-up of BENCH_WARMUP_S seconds (5) at the same rate comes before phase 1, on the same schedule without a
 * pause (as bench:terminal's): a fresh stack's first second is not the steady state the goal is about — the
 * worker builds its card-system client, opens its connections and compiles its hot paths while the first
 * credits wait. Its figures are printed apart (and under "warmup" in the last line) and count in nothing else;
 * BENCH_WARMUP_S=0 measures from the stack's first notification, as before session 9.
 *
 * Env: BENCH_N (default 1500 per phase), BENCH_RATE (300), BENCH_CONCURRENCY (32), BENCH_WARMUP_S (5; 0 for
 * none), BENCH_VERBOSE=1 (notify → PAID and → CREDITED second by second, the warm-up's too); BENCH_PREFILLED=1 and
 * BENCH_FILL_* for the same figures on a platform that has run for a year, against empty tables; BENCH_FILL_DIR
 * and BENCH_FILL_ONLY=1 to make a fill once and measure on copies of it (prefill.ts).
 */
process.env.TZ = 'Asia/Shanghai';
process.env.LOG_LEVEL ??= 'error';

import crypto from 'node:crypto';
import { fenToYuan } from '../../shared/money.js';
import { signedNotification } from '../../test/support/alipay-forge.js';
import { MAX_OPEN_RECHARGES } from '../../server/src/domain/recharge/recharge.js';
import { agent, json, payerWithCard, request, type BenchPayer } from './api.js';
import { cpuSeconds, postgresCpuSeconds, startBenchStack, type BenchStack } from './harness.js';
import {
  fillDirFromEnv,
  prefillDatabase,
  prefillMode,
  reportTableScans,
  startMeasuringOnKeptFill,
  runBench,
} from './prefill.js';
import { startStatementProfile } from './statement-profile.js';
import { forEachLimited, percentile, round } from './stats.js';

const N = Number(process.env.BENCH_N ?? 1500);
const RATE = Number(process.env.BENCH_RATE ?? 300);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
/** Job workers beside the API process (DESIGN §9); 0 runs everything in one ROLE=all process. */
const WORKERS = Number(process.env.BENCH_WORKERS ?? 1);
const AMOUNT_FEN = 1_000;
/** Notifications of the warm-up: BENCH_WARMUP_S seconds (5) at the same rate. */
const WARMUP_N = Math.round(Number(process.env.BENCH_WARMUP_S ?? 5) * RATE);

interface Order {
  id: string;
  outTradeNo: string;
  tradeNo: string;
  openId: string;
}

async function createOrders(stack: BenchStack, count: number): Promise<Order[]> {
  // A payer may have MAX_OPEN_RECHARGES unpaid orders at once (issue 12), and every order here is created
  // before any is paid.
  const payers: BenchPayer[] = [];
  await forEachLimited(Array.from({ length: Math.ceil(count / MAX_OPEN_RECHARGES) }), 16, async (_, i) => {
    payers.push(await payerWithCard(stack, i));
  });
  const orders: Order[] = [];
  await forEachLimited(Array.from({ length: count }), 16, async (_, i) => {
    const payer = payers[i % payers.length];
    const res = await json(
      'POST',
      `${stack.bffUrl}/api/v1/recharges`,
      { bindingId: payer.bindingId, amountFen: AMOUNT_FEN },
      payer.token,
    );
    if (res.status !== 201) throw new Error(`recharge failed: ${res.text}`);
    orders.push({
      id: res.body.id,
      outTradeNo: res.body.outTradeNo,
      tradeNo: res.body.tradeNo,
      openId: payer.openId,
    });
  });
  return orders;
}

function notificationBody(stack: BenchStack, order: Order): string {
  return new URLSearchParams(
    signedNotification(
      {
        notify_type: 'trade_status_sync',
        notify_id: String(crypto.randomInt(10 ** 12)),
        notify_time: '2026-11-25 12:00:00',
        app_id: stack.alipay.appId,
        auth_app_id: stack.school.alipayAuthAppId!,
        seller_id: stack.school.alipaySellerId!,
        out_trade_no: order.outTradeNo,
        trade_no: order.tradeNo,
        buyer_open_id: order.openId,
        trade_status: 'TRADE_SUCCESS',
        total_amount: fenToYuan(AMOUNT_FEN),
        gmt_payment: '2026-11-25 12:00:00',
      },
      stack.alipay.alipayPrivateKey,
    ),
  ).toString();
}

const FORM = { 'content-type': 'application/x-www-form-urlencoded;charset=utf-8' };

async function main() {
  const stack = await startBenchStack({
    env: {
      RECHARGE_SWEEP_EVERY_MS: '600000',
      JOBS_MAX_CONCURRENCY: '64',
      RECHARGE_CREDIT_CONCURRENCY: process.env.BENCH_CREDIT_CONCURRENCY ?? '48',
    },
    workers: WORKERS,
    // The filled run on a copy of a kept fill (BENCH_FILL_DIR), or filled here after the stack's seeding.
    fromFill: prefillMode() === 'filled' ? fillDirFromEnv() : undefined,
  });
  const notifyUrl = `${stack.bffUrl}/notify/alipay`;
  try {
    if (prefillMode() === 'filled') {
      if (fillDirFromEnv()) await startMeasuringOnKeptFill(stack.databaseUrl);
      else await prefillDatabase(stack.databaseUrl, [stack.school.id]);
    }
    console.log(`creating ${WARMUP_N + 2 * N} recharge orders through the API…`);
    const orders = await createOrders(stack, WARMUP_N + 2 * N);
    const bodies = orders.map((order) => notificationBody(stack, order));

    // Phase 1: paced → notify-to-credited latency, after the warm-up on the same schedule.
    const warm = orders.slice(0, WARMUP_N);
    const paced = orders.slice(WARMUP_N, WARMUP_N + N);
    const sentAt = new Map<string, number>();
    const workerCpu = () => stack.pids.workers.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
    const cpuNow = () => ({
      workers: workerCpu(),
      bff: cpuSeconds(stack.pids.bff),
      cardsys: cpuSeconds(stack.pids.cardsys),
      postgres: postgresCpuSeconds(stack.pids.postgres),
      generator: cpuSeconds(process.pid),
    });
    // CPU and PostgreSQL's statements are counted from the first measured notification.
    const startMeasuring = async () => ({
      cpu: cpuNow(),
      statements: await startStatementProfile(stack.databaseUrl),
      windowFrom: process.hrtime.bigint() / 1000n,
      at: Date.now(),
    });
    let measuring: ReturnType<typeof startMeasuring> | undefined =
      WARMUP_N === 0 ? startMeasuring() : undefined;
    await measuring;
    if (WARMUP_N > 0) console.log(`warm-up: ${WARMUP_N} notifications at ${RATE}/s (not counted)…`);
    const started = Date.now();
    await forEachLimited([...warm, ...paced], 512, async (order, i) => {
      const wait = started + (i * 1000) / RATE - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (i === WARMUP_N) measuring ??= startMeasuring();
      sentAt.set(order.id, Date.now());
      const answer = await request('POST', notifyUrl, bodies[i], FORM);
      if (answer.text !== 'success') throw new Error(`notify answered ${answer.status} ${answer.text}`);
    });
    const { cpu: cpuBefore, statements, windowFrom, at: measuredFrom } = await measuring!;
    // The poll asks only about orders not yet seen credited: asking about all 1,500 ten times a second was
    // the third costliest statement of the measured phase (BENCH_STATEMENTS=1), load on what is measured.
    const pending = new Set([...warm, ...paced].map((o) => o.id));
    const credited: Array<{ id: string; at: number; paid: number }> = [];
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline && pending.size > 0) {
      const { rows } = await stack.db.pool.query<{ id: string; at: number; paid: number }>(
        `select id, (extract(epoch from credited_at) * 1000)::float8 as at, (extract(epoch from paid_at) * 1000)::float8 as paid
           from recharge_orders where id = any($1) and status = 'CREDITED'`,
        [[...pending]],
      );
      for (const row of rows) {
        pending.delete(row.id);
        credited.push(row);
      }
      if (pending.size > 0) await new Promise((r) => setTimeout(r, 100));
    }
    const elapsed = (Date.now() - measuredFrom) / 1000;
    if (process.env.BENCH_CPU_PROF) {
      // The measured phase on the profiles' clock (monotonic µs), for scripts/bench/cpu-profile.ts --window.
      console.log(
        `BENCH_WINDOW phase1 ${windowFrom}-${process.hrtime.bigint() / 1000n} pids API ${stack.pids.bff}, workers ${stack.pids.workers.join(' ')}, card system ${stack.pids.cardsys}, Alipay ${stack.pids.alipay}`,
      );
    }
    if (credited.length !== warm.length + paced.length)
      throw new Error(`only ${credited.length}/${warm.length + paced.length} credited`);
    const isWarmUp = new Set(warm.map((o) => o.id));
    const warmLatencies = credited
      .filter((row) => isWarmUp.has(row.id))
      .map((row) => row.at - sentAt.get(row.id)!)
      .sort((a, b) => a - b);
    const warmup = {
      notifications: warm.length,
      credited_p50_ms: round(percentile(warmLatencies, 50)),
      credited_p95_ms: round(percentile(warmLatencies, 95)),
    };
    if (WARMUP_N > 0)
      console.log(
        `warm-up (not counted): ${warm.length} notifications → CREDITED p50 ${warmup.credited_p50_ms} ms, p95 ${warmup.credited_p95_ms} ms`,
      );
    const measured = credited.filter((row) => !isWarmUp.has(row.id));
    const latencies = measured.map((row) => row.at - sentAt.get(row.id)!).sort((a, b) => a - b);
    const toPaid = measured.map((row) => row.paid - sentAt.get(row.id)!).sort((a, b) => a - b);
    const toCredited = measured.map((row) => row.at - row.paid).sort((a, b) => a - b);
    console.log(
      `         of which notify → PAID p50 ${round(percentile(toPaid, 50))} / p95 ${round(percentile(toPaid, 95))} ms, ` +
        `PAID → CREDITED p50 ${round(percentile(toCredited, 50))} / p95 ${round(percentile(toCredited, 95))} ms`,
    );
    if (process.env.BENCH_VERBOSE) {
      // Seconds from the first measured notification (the warm-up's are negative).
      const bySecond = new Map<number, typeof credited>();
      for (const row of credited) {
        const second = Math.floor((sentAt.get(row.id)! - measuredFrom) / 1000);
        bySecond.set(second, [...(bySecond.get(second) ?? []), row]);
      }
      for (const [second, rows] of [...bySecond].sort((a, b) => a[0] - b[0])) {
        const toPaidThen = rows.map((row) => row.paid - sentAt.get(row.id)!).sort((a, b) => a - b);
        const toCreditedThen = rows.map((row) => row.at - sentAt.get(row.id)!).sort((a, b) => a - b);
        console.log(
          `         second ${second}: notify → PAID p50 ${round(percentile(toPaidThen, 50))} max ${round(toPaidThen.at(-1)!)}, ` +
            `→ CREDITED p50 ${round(percentile(toCreditedThen, 50))} max ${round(toCreditedThen.at(-1)!)}`,
        );
      }
    }
    const p50 = round(percentile(latencies, 50));
    const p95 = round(percentile(latencies, 95));
    const cpu = (key: keyof typeof cpuBefore, now: number) => round((now - cpuBefore[key]) / elapsed, 2);
    console.log(
      `phase 1: ${paced.length} notifications paced at ${RATE}/s → CREDITED p50 ${p50} ms, p95 ${p95} ms, max ${round(latencies[latencies.length - 1])} ms`,
    );
    const used = {
      bff: cpuSeconds(stack.pids.bff),
      workers: workerCpu(),
      cardsys: cpuSeconds(stack.pids.cardsys),
      postgres: postgresCpuSeconds(stack.pids.postgres),
      generator: cpuSeconds(process.pid),
    };
    console.log(
      `         CPU (cores): API ${cpu('bff', used.bff)}, workers ${cpu('workers', used.workers)}, card system ${cpu('cardsys', used.cardsys)}, PostgreSQL ${cpu('postgres', used.postgres)}, load generator ${cpu('generator', used.generator)}`,
    );
    // What each process spends on one notification, from the notify to the credit.
    const perCredit = (key: keyof typeof cpuBefore) =>
      round(((used[key] - cpuBefore[key]) / paced.length) * 1000, 2);
    console.log(
      `         CPU per credit (ms): API ${perCredit('bff')}, workers ${perCredit('workers')}, card system ${perCredit('cardsys')}, PostgreSQL ${perCredit('postgres')}, load generator ${perCredit('generator')}`,
    );
    await statements.report(paced.length, 'credit');
    await statements.close();

    // Phase 2: saturation → notifications handled per second.
    const burst = bodies.slice(WARMUP_N + N);
    const t0 = performance.now();
    await forEachLimited(burst, CONCURRENCY, async (body) => {
      const answer = await request('POST', notifyUrl, body, FORM);
      if (answer.text !== 'success') throw new Error(`notify answered ${answer.status} ${answer.text}`);
    });
    const seconds = (performance.now() - t0) / 1000;
    const perSecond = round(burst.length / seconds, 0);
    console.log(
      `phase 2: ${burst.length} notifications with ${CONCURRENCY} connections in ${round(seconds, 2)} s = ${perSecond}/s handled`,
    );

    if (prefillMode() === 'filled') await reportTableScans(stack.databaseUrl);
    console.log(
      JSON.stringify({
        credited_p50_ms: p50,
        credited_p95_ms: p95,
        notifies_per_s: perSecond,
        // Left out without a warm-up (BENCH_WARMUP_S=0).
        warmup: WARMUP_N > 0 ? warmup : undefined,
      }),
    );
  } finally {
    agent.destroy();
    await stack.stop();
  }
}

runBench('scripts/bench/recharge.ts', { throughput: 'notifies_per_s', latency: 'credited_p95_ms' }, main);
