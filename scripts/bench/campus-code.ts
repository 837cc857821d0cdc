/**
 * `npm run bench:campus-code` (issue #14): 20,000 campus-code payments uploaded in batches of 500 by 4
 * devices at once (`POST /gateway/v1/campus-code/payments`, HMAC-signed), then charged at the Alipay
 * sandbox by the real drainer (job `campuscode.pay`: leased batches, alipay.trade.pay bar_code with the
 * final_data, signed by alipay-sdk, answers verified).
 *
 * Layout as in production (harness.ts): the API process, the Alipay sandbox and the card-system sandbox
 * each in their own process, PostgreSQL with full durability. The API process runs no jobs, so the upload
 * is measured alone; one worker process is started once every payment is in, and the drain is timed from
 * its first charge until the last payment is PAID (the worker's start-up is left out). The codes are real sandbox codes (`/control/campus-codes`, one per
 * payment, spread over BENCH_STUDENTS students). The sandbox ledger is then checked: exactly one paid trade
 * per payment. Last line: {"upload_per_s": …, "drain_per_s": …}.
 *
 * Env: BENCH_N (20000), BENCH_BATCH (500), BENCH_DEVICES (4), BENCH_STUDENTS (200),
 * BENCH_CONCURRENCY (drainer concurrency, 32).
 */
process.env.TZ = 'Asia/Shanghai';
process.env.LOG_LEVEL ??= 'error';

import assert from 'node:assert/strict';
import { createGatewayClient } from '../../server/src/domain/schools/gateway-clients.js';
import { buildGatewayHeaders } from '../../shared/gateway-signature.js';
import type { CampusCodeUpload, CampusCodeUploadAnswer } from '../../shared/gateway-api.js';
import { agent, request } from './api.js';
import { cpuSeconds, postgresCpuSeconds, startBenchStack } from './harness.js';
import { forEachLimited, round } from './stats.js';

const N = Number(process.env.BENCH_N ?? 20_000);
const BATCH = Number(process.env.BENCH_BATCH ?? 500);
const DEVICES = Number(process.env.BENCH_DEVICES ?? 4);
const STUDENTS = Number(process.env.BENCH_STUDENTS ?? 200);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const UPLOAD_PATH = '/gateway/v1/campus-code/payments';

async function main() {
  const stack = await startBenchStack({
    apiOnly: true,
    env: {
      CAMPUS_CODE_PAY_CONCURRENCY: String(CONCURRENCY),
      CAMPUS_CODE_PAY_BATCH: String(CONCURRENCY * 2),
      ALIPAY_TIMEOUT_MS: '10000',
    },
  });
  const { pool } = stack.db;
  try {
    console.log(`issuing ${N} campus codes to ${STUDENTS} students at the Alipay sandbox…`);
    const students = await Promise.all(
      Array.from({ length: STUDENTS }, () => stack.alipay.control.createUser({ balanceFen: 100_000_000 })),
    );
    const scannedAt = new Date().toISOString();
    const payments: CampusCodeUpload[] = new Array(N);
    await forEachLimited(payments, 32, async (_, i) => {
      const code = await stack.alipay.control.issueCampusCode({
        userId: students[i % STUDENTS].userId,
        schoolCode: stack.school.code,
        studentNo: `B${i % STUDENTS}`,
        studentName: '压测学生',
      });
      payments[i] = {
        txnNo: `BENCH${i}`,
        terminalId: `TILL-${i % DEVICES}`,
        finalData: code.finalData,
        userData: code.userData,
        templateId: code.templateId,
        encodeType: code.encodeType,
        inUseTime: code.inUseTime,
        amountFen: 100 + (i % 400),
        scannedAt,
      };
    });
    const devices = await Promise.all(
      Array.from({ length: DEVICES }, (_, i) =>
        createGatewayClient(stack.deps, { schoolId: stack.school.id, name: `till ${i + 1}` }),
      ),
    );
    const batches: CampusCodeUpload[][] = [];
    for (let i = 0; i < N; i += BATCH) batches.push(payments.slice(i, i + BATCH));
    const bodies = batches.map((payments) => JSON.stringify({ payments }));

    const bffCpu = cpuSeconds(stack.pids.bff);
    const pgCpu = postgresCpuSeconds(stack.pids.postgres);
    console.log(`uploading ${batches.length} batches of ${BATCH} from ${DEVICES} devices at once…`);
    let accepted = 0;
    let next = 0;
    const uploadStarted = performance.now();
    await Promise.all(
      devices.map(async (device) => {
        while (next < bodies.length) {
          const body = bodies[next++];
          const res = await request('POST', stack.bffUrl + UPLOAD_PATH, body, {
            'content-type': 'application/json',
            ...buildGatewayHeaders({ ...device, method: 'POST', path: UPLOAD_PATH, body }),
          });
          assert.equal(res.status, 200, res.text.slice(0, 300));
          accepted += (JSON.parse(res.text) as CampusCodeUploadAnswer).counts.ACCEPTED;
        }
      }),
    );
    const uploadSeconds = (performance.now() - uploadStarted) / 1000;
    assert.equal(accepted, N, 'every payment accepted');
    const uploadPerS = Math.round(N / uploadSeconds);
    const perPaymentUs = (cpu: number) => round((cpu * 1e6) / N, 0);
    console.log(
      `upload: ${N} payments accepted in ${round(uploadSeconds, 2)} s = ${uploadPerS}/s ` +
        `(CPU per payment: API ${perPaymentUs(cpuSeconds(stack.pids.bff) - bffCpu)} µs, ` +
        `PostgreSQL ${perPaymentUs(postgresCpuSeconds(stack.pids.postgres) - pgCpu)} µs)`,
    );

    const before = {
      alipay: cpuSeconds(stack.pids.alipay),
      postgres: postgresCpuSeconds(stack.pids.postgres),
    };
    const drainStarted = performance.now();
    const workerPid = await stack.addWorker();
    let left = N;
    let lastReport = Date.now();
    while (left > 0) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      // Counted on the drainer's own partial index (what is still due), so that watching costs little.
      const { rows } = await pool.query(
        `select count(*)::int as n from campus_code_payments where status in ('PENDING', 'RETRYING')`,
      );
      left = rows[0].n;
      if (Date.now() - lastReport > 2_000) {
        lastReport = Date.now();
        console.log(
          `  ${N - left}/${N} done after ${((performance.now() - drainStarted) / 1000).toFixed(1)} s`,
        );
      }
      if (performance.now() - drainStarted > 15 * 60_000) throw new Error('gave up after 15 minutes');
    }
    const { rows: statuses } = await pool.query(
      `select status, count(*)::int as n from campus_code_payments where txn_no like 'BENCH%' group by status`,
    );
    assert.deepEqual(statuses, [{ status: 'PAID', n: N }], 'every payment PAID');
    // From the drainer's first charge to the last payment paid (the worker process's start-up is not
    // part of draining): both times written by the worker, on one clock.
    const { rows: span } = await pool.query(
      `select extract(epoch from max(p.paid_at) - min(a.created_at))::float8 as seconds
       from campus_code_payments p join campus_code_attempts a on a.payment_id = p.id
       where p.txn_no like 'BENCH%'`,
    );
    const drainSeconds = Number(span[0].seconds);
    const drainPerS = Math.round(N / drainSeconds);
    const perPaymentMs = (cpu: number) => round((cpu * 1000) / N, 2);
    const worker = cpuSeconds(workerPid);
    const alipay = cpuSeconds(stack.pids.alipay) - before.alipay;
    const postgres = postgresCpuSeconds(stack.pids.postgres) - before.postgres;
    console.log(
      `drain CPU per payment: worker ${perPaymentMs(worker)} ms (with its start-up), Alipay sandbox ` +
        `${perPaymentMs(alipay)} ms, PostgreSQL ${perPaymentMs(postgres)} ms ` +
        `(cores busy: ${round((worker + alipay + postgres) / drainSeconds, 2)} of 2)`,
    );

    const { trades } = await stack.alipay.control.ledger({});
    const paidTrades = new Map<string, number>();
    for (const t of trades) {
      if (t.status === 'TRADE_SUCCESS') paidTrades.set(t.outTradeNo, (paidTrades.get(t.outTradeNo) ?? 0) + 1);
    }
    const { rows } = await pool.query(
      `select out_trade_no from campus_code_payments where txn_no like 'BENCH%' and status = 'PAID'`,
    );
    assert.equal(
      rows.filter((r) => paidTrades.get(r.out_trade_no) === 1).length,
      N,
      'exactly one paid trade per payment',
    );
    console.log(`drain: ${N} payments paid in ${round(drainSeconds, 1)} s = ${drainPerS}/s; one trade each`);
    console.log(JSON.stringify({ upload_per_s: uploadPerS, drain_per_s: drainPerS }));
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
