/**
 * The API process's own CPU per terminal order, side by side (issue #15): bench:terminal's stack (harness.ts:
 * Alipay and card-system sandboxes, embedded PostgreSQL with full durability) with one API process (ROLE=all,
 * jobs in it) per checkout in API_ROOTS, on the same database and sandboxes. Each API has its own terminal and
 * vending machine (scripts/sandbox/vending/); orders go to the APIs in turn (order i to API i mod k), each made,
 * paid by scanning its QR and acknowledged by its machine's callback exactly as in bench:terminal, so each API
 * meets the same machine in the same seconds. Only each API's CPU time (/proc, its threads included) per order
 * is read; one line per API and round, then the rounds' ratios to the first root.
 *
 *   TMPDIR=/tmp/x API_ROOTS=/work/main,. npx tsx scripts/bench/api-cpu.ts      # A/B
 *   TMPDIR=/tmp/x API_ROOTS=.,. npx tsx scripts/bench/api-cpu.ts               # the noise: same code twice
 *
 * The migrations are applied from this checkout: every root must have the same ones. Background work (the
 * sweeps, the drainers woken by any process) goes to whichever API takes it, equally in expectation.
 *
 * The noise (session 11, same code both sides, 3 rounds): the second root reads 1.022–1.033 of the first paced,
 * 0.970–0.993 in the closed loop below — a bias by position, so run an A/B in both orders (`/work/main,.` and
 * `.,/work/main`) and take the geometric mean of the two ratios.
 *
 * Paced (BENCH_RATE) on a machine that others keep busy, the orders queue at the APIs and the rounds' ratios
 * scatter (session 11, load average 8–12: 0.62–1.08 for one pair of codes); BENCH_CONCURRENCY keeps a fixed
 * number of orders in flight per API instead, so both slow down alike.
 *
 * Env: API_ROOTS (.), BENCH_N (1500 orders per API and round), BENCH_ROUNDS (3), BENCH_RATE (60 per second
 * per API), BENCH_CONCURRENCY (0: paced; c: c orders in flight per API), BENCH_WARMUP_N (600 per API), BENCH_BFF_NODE_ARGS (harness.ts; e.g. "--cpu-prof
 * --cpu-prof-dir=/tmp/x/prof" for a profile of each API, read with cpu-profile.ts and the printed window).
 */
process.env.TZ = 'Asia/Shanghai';
process.env.LOG_LEVEL ??= 'error';

import assert from 'node:assert/strict';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { VendingMachine } from '../sandbox/vending/machine.js';
import { cpuOf, pacedOrders, startBenchStack } from './harness.js';
import { percentile, round } from './stats.js';
import { createBuyers, scanToPay, startBenchMachine } from './vending-orders.js';

const N = Number(process.env.BENCH_N ?? 1_500);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const RATE = Number(process.env.BENCH_RATE ?? 60);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 0);
const WARMUP_N = Number(process.env.BENCH_WARMUP_N ?? 600);
const ROOTS = (process.env.API_ROOTS ?? '.').split(',').map((root) => path.resolve(root));

async function main() {
  const stack = await startBenchStack({ env: { TERMINAL_SWEEP_EVERY_MS: '60000' }, apiRoots: ROOTS });
  const machines: VendingMachine[] = [];
  // Stopped early (Ctrl-C, kill): the stack's processes stop too, rather than outlive this one.
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => void stack.stop().finally(() => process.exit(1)));
  try {
    for (const [i, api] of stack.apis.entries()) {
      const terminalId = `BENCH-VM-${i + 1}`;
      const machine = await startBenchMachine(stack, terminalId, api.url);
      machines.push(machine);
    }
    const buyers = await createBuyers(stack.alipay.control);
    const k = stack.apis.length;
    const createMs: number[][] = stack.apis.map(() => []);
    // Orders the API answered without a QR (its precreate got no answer in time: a machine overloaded by its
    // other tenants): nothing to pay, so less work than an order; counted, and shown with the round.
    const withoutQr: number[] = stack.apis.map(() => 0);

    // One order, as bench:terminal makes it: create, scan its QR, wait for the machine's acknowledged callback.
    const order = async (i: number) => {
      const machine = machines[i % k];
      const sent = performance.now();
      const made = await machine.createOrder([{ name: '可乐', quantity: 1, unitFen: 300 }], {
        outOrderNo: `B${i}`,
      });
      createMs[i % k].push(performance.now() - sent);
      assert.equal(made.status, 200, JSON.stringify(made.body));
      if (!made.body.pay.qrCode) {
        withoutQr[i % k] += 1;
        return;
      }
      await scanToPay(stack.alipay.url, made.body.pay.qrCode, buyers[i % buyers.length].userId);
      await machine.acknowledgedCallback(`B${i}`, 60_000);
    };
    // BENCH_CONCURRENCY=c: each API keeps c orders in flight (a closed loop) instead of the paced rate, so a
    // machine busy with other work slows both APIs alike instead of queueing orders at them.
    const run = async (from: number, to: number) => {
      if (!CONCURRENCY) return pacedOrders(from, to, RATE * k, order);
      const start = performance.now();
      const perApi = (to - from) / k;
      const worker = async (api: number, slot: number) => {
        for (let j = slot; j < perApi; j += CONCURRENCY) await order(from + j * k + api);
      };
      await Promise.all(
        stack.apis.flatMap((_, api) => Array.from({ length: CONCURRENCY }, (__, slot) => worker(api, slot))),
      );
      return (performance.now() - start) / 1000;
    };

    console.log(
      `warm-up: ${WARMUP_N} orders per API ${CONCURRENCY ? `${CONCURRENCY} at a time` : `at ${RATE}/s`} each (not counted)…`,
    );
    await run(0, WARMUP_N * k);
    const windowFrom = process.hrtime.bigint() / 1000n;
    const ratios: number[][] = stack.apis.map(() => []);
    for (let r = 0; r < ROUNDS; r++) {
      createMs.forEach((samples) => (samples.length = 0));
      withoutQr.fill(0);
      const from = (WARMUP_N + r * N) * k;
      const before = stack.apis.map((api) => cpuOf(api.pid));
      const elapsedS = await run(from, from + N * k);
      const after = stack.apis.map((api) => cpuOf(api.pid));
      const msPerOrder = (i: number, kind: 'user' | 'system') =>
        ((after[i][kind] - before[i][kind]) * 1000) / N;
      const perOrder = stack.apis.map((_, i) => msPerOrder(i, 'user') + msPerOrder(i, 'system'));
      stack.apis.forEach((api, i) => {
        ratios[i].push(perOrder[i] / perOrder[0]);
        const sorted = [...createMs[i]].sort((a, b) => a - b);
        console.log(
          JSON.stringify({
            round: r + 1,
            root: api.root,
            orders: N,
            achieved_per_s: round((N * k) / elapsedS),
            cpu_ms_per_order: round(perOrder[i], 3),
            system_ms_per_order: round(msPerOrder(i, 'system'), 3),
            ratio_to_first: round(perOrder[i] / perOrder[0], 3),
            create_p50_ms: round(percentile(sorted, 50)),
            orders_without_qr: withoutQr[i],
          }),
        );
      });
    }
    if (process.env.BENCH_BFF_NODE_ARGS?.includes('--cpu-prof'))
      console.log(
        `BENCH_WINDOW measured ${windowFrom}-${process.hrtime.bigint() / 1000n} pids ${stack.apis.map((a) => `${a.root} ${a.pid}`).join(', ')}`,
      );
    stack.apis.forEach((api, i) => {
      const mean = ratios[i].reduce((a, b) => a + b, 0) / ratios[i].length;
      console.log(
        `${api.root}: CPU per order ÷ first root's, by round: ${ratios[i].map((x) => round(x, 3)).join(', ')} (mean ${round(mean, 3)})`,
      );
    });
  } finally {
    for (const machine of machines) await machine.stop();
    await stack.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
