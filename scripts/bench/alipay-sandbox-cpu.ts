/**
 * The Alipay sandbox's own CPU per terminal order, measured alone (issue #15): the sandbox in its own process as
 * bench:terminal starts it, driven by this process through exactly the calls one terminal order makes of it —
 * `alipay.trade.precreate` through our Alipay integration (alipay-sdk), the control API's QR scan, and the
 * signed TRADE_SUCCESS notification answered `success` by a local receiver. Only the sandbox's CPU time
 * (/proc, its threads included) is read, so the load generator and the machine's other tenants move it much less
 * than a whole-stack run.
 *
 * A/B: SANDBOX_ROOTS=/work/main,. starts the sandbox of each checkout side by side and sends the orders to them
 * in turn (order i to root i mod k), so each meets the same machine in the same seconds; one line per root. A
 * root may name its key size: `/work/main@2048,.@1024`.
 *
 *   TMPDIR=/tmp/x SANDBOX_ROOTS=/work/main,. npx tsx scripts/bench/alipay-sandbox-cpu.ts
 *
 * Env: BENCH_N (2000 per root), BENCH_RATE (100 per second per root), BENCH_WARMUP_N (300 per root),
 * BENCH_STEPS (`all`; `precreate`: no scan; `scan`: no notify_url — each step's share), SANDBOX_ROOTS (.),
 * SANDBOX_KEY_BITS (2048), SANDBOX_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof").
 */
import type { ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Alipay } from '../../server/src/integrations/alipay/alipay.js';
import { AlipaySandboxControl } from '../sandbox/alipay/control-client.js';
import { cpuOf, launchAlipaySandbox, pacedOrders, rsaKeys } from './harness.js';
import { round } from './stats.js';
import { createBuyers, scanToPay } from './vending-orders.js';

const N = Number(process.env.BENCH_N ?? 2_000);
const RATE = Number(process.env.BENCH_RATE ?? 100);
const WARMUP_N = Number(process.env.BENCH_WARMUP_N ?? 300);
const ROOTS = (process.env.SANDBOX_ROOTS ?? '.').split(',');
const STEPS = process.env.BENCH_STEPS ?? 'all';
const KEY_BITS = Number(process.env.SANDBOX_KEY_BITS ?? 2048);

interface Sandbox {
  root: string;
  child: ChildProcess;
  /** One terminal order through this sandbox, resolved when its notification was acknowledged. */
  order(i: number): Promise<void>;
}

async function startSandbox(
  rootAndBits: string,
  notifyUrl: string,
  waiters: Map<string, () => void>,
): Promise<Sandbox> {
  const [root, bits] = rootAndBits.split('@');
  const app = rsaKeys();
  const alipayKey = rsaKeys(bits ? Number(bits) : KEY_BITS);
  const appId = `2021${crypto.randomInt(10 ** 11, 10 ** 12 - 1)}`;
  const { child, url } = await launchAlipaySandbox({
    appId,
    appPublicKey: app.publicKey,
    alipayPrivateKey: alipayKey.privateKey,
    nodeArgs: process.env.SANDBOX_NODE_ARGS?.split(' ').filter(Boolean),
    cwd: root,
  });
  const control = new AlipaySandboxControl(url);
  const alipay = new Alipay({
    appId,
    privateKey: app.privateKey,
    alipayPublicKey: alipayKey.publicKey.trim(),
    gateway: `${url}/gateway.do`,
    timeoutMs: 30_000,
    idMode: 'open_id',
  });
  const authorization = await control.authorizeMerchant({ isvAppId: appId, merchantName: '压测大学' });
  const { appAuthToken } = await alipay.exchangeAppAuthCode(authorization.appAuthCode);
  const buyers = await createBuyers(control);
  return {
    root: rootAndBits,
    child,
    async order(i) {
      const outTradeNo = `T${process.pid}x${i}`;
      const notified =
        STEPS === 'all' ? new Promise<void>((resolve) => waiters.set(outTradeNo, resolve)) : undefined;
      const { qrCode } = await alipay.precreateTrade({
        outTradeNo,
        amountFen: 300,
        subject: '压测售货机 可乐×1',
        notifyUrl: STEPS === 'all' ? notifyUrl : '',
        appAuthToken,
        expiresAt: new Date(Date.now() + 600_000),
        terminalId: 'BENCH-VM-1',
      });
      if (STEPS === 'precreate') return;
      await scanToPay(url, qrCode, buyers[i % buyers.length].userId);
      await notified;
    },
  };
}

async function main() {
  const waiters = new Map<string, () => void>();
  const receiver = http.createServer((req, res) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (text += chunk));
    req.on('end', () => {
      res.end('success');
      const outTradeNo = new URLSearchParams(text).get('out_trade_no') ?? '';
      waiters.get(outTradeNo)?.();
      waiters.delete(outTradeNo);
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const notifyUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/notify/alipay`;
  const sandboxes: Sandbox[] = [];
  try {
    for (const root of ROOTS) sandboxes.push(await startSandbox(root, notifyUrl, waiters));
    const k = sandboxes.length;
    const run = (from: number, to: number) =>
      pacedOrders(from, to, RATE * k, (i) => sandboxes[i % k].order(i));
    await run(0, WARMUP_N * k);
    const before = sandboxes.map((s) => cpuOf(s.child.pid));
    const elapsedS = await run(WARMUP_N * k, (WARMUP_N + N) * k);
    const after = sandboxes.map((s) => cpuOf(s.child.pid));
    const perOrder = (seconds: number) => round((seconds * 1000) / N, 3);
    sandboxes.forEach((s, i) =>
      console.log(
        JSON.stringify({
          root: s.root,
          steps: STEPS,
          orders: N,
          achieved_per_s: round((N * k) / elapsedS),
          cpu_ms_per_order: perOrder(after[i].user + after[i].system - before[i].user - before[i].system),
          system_ms_per_order: perOrder(after[i].system - before[i].system),
        }),
      ),
    );
  } finally {
    receiver.close();
    for (const { child } of sandboxes) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
