import assert from 'node:assert/strict';
import { freePort } from '../../server/src/db/embedded-postgres.js';
import { buildGatewayHeaders } from '../../shared/gateway-signature.js';
import { eventually, request } from '../support/http.js';
import { startStack, type Stack } from '../support/stack.js';
import { userWithCard } from '../integration/student/helpers.js';
import { chargesOf, gatewayFor, txnNo, type Gateway } from '../integration/withholding/helpers.js';
import { seeded, startProcess, type PlatformProcess } from './support.js';

/**
 * Drill: the platform deployed as production runs it — an API process and a worker process of
 * `server/src/main.ts` on one database — is `kill -9`ed in the middle of recharge and withholding storms,
 * while Alipay duplicates, delays and tampers with notifications and answers trade.pay with SYSTEM_ERROR or
 * not at all (after taking the money). Then everything is restarted and must settle by itself:
 *   - every paid recharge credited exactly once at the card system;
 *   - every approved swipe charged at most once, and COLLECTED (balances are ample: nothing may end in
 *     arrears), or REVERSED when the POS asked, with any charge refunded exactly once.
 * CI runs one short round (well under a minute of storm); `npm run test:chaos` runs CHAOS_ROUNDS=4 with
 * more traffic.
 */
const LONG = process.env.CHAOS_LONG === '1';
const ROUNDS = Number(process.env.CHAOS_ROUNDS ?? (LONG ? 4 : 1));
const RECHARGES = LONG ? 12 : 4;
const SWIPES = LONG ? 20 : 6;

describe('drill: API and worker processes killed during storms', function () {
  this.timeout(300_000 * ROUNDS);
  let stack: Stack;
  let apiPort: number;
  let api: PlatformProcess | undefined;
  let worker: PlatformProcess | undefined;
  let gateway: Gateway;
  const random = seeded(20261206);

  before(async () => {
    stack = await startStack({
      env: {
        // This test process only onboards and looks; the processes under test do the work.
        ROLE: 'api',
        ALIPAY_TIMEOUT_MS: '1500',
        DEDUCTION_LEASE_MS: '3000',
        DEDUCTION_POLL_INTERVAL_MS: '200',
        DEDUCTION_POLL_WINDOW_MS: '2000',
        DEDUCTION_COLLECT_EVERY_MS: '2000',
        RECHARGE_CREDIT_LEASE_MS: '3000',
        RECHARGE_CREDIT_EVERY_MS: '2000',
        RECHARGE_SWEEP_EVERY_MS: '2000',
        RECHARGE_SWEEP_AFTER_MS: '2000',
        JOBS_PROCESS_EVERY_MS: '500',
      },
      notifyTimeScale: 2000,
    });
    apiPort = await freePort();
    [api, worker] = await Promise.all([
      startProcess(stack, 'api', { port: apiPort }),
      startProcess(stack, 'worker'),
    ]);
    gateway = await gatewayFor(stack);
  });
  after(async () => {
    await api?.stop();
    await worker?.stop();
    await stack?.stop();
  });

  const apiUrl = () => `http://127.0.0.1:${apiPort}`;

  /** A POS swipe sent to the API process; a connection that fails is answered by a reversal later (seed 000 §2.7). */
  async function swipe(cardNo: string, amountFen: number) {
    const body = JSON.stringify({
      txnNo: txnNo(),
      cardNo,
      amountFen,
      terminalId: 'POS-CHAOS',
      occurredAt: new Date().toISOString(),
    });
    const path = '/gateway/v1/deductions';
    const res = await request('POST', apiUrl() + path, {
      raw: body,
      headers: {
        'content-type': 'application/json',
        ...buildGatewayHeaders({
          clientId: gateway.clientId,
          secret: gateway.secret,
          method: 'POST',
          path,
          body,
        }),
      },
    }).catch(() => undefined);
    return { txnNo: JSON.parse(body).txnNo as string, answer: res?.status === 200 ? res.body : undefined };
  }

  async function reverse(txn: string) {
    const path = `/gateway/v1/deductions/${txn}/reversal`;
    return eventually(
      async () => {
        const res = await request('POST', apiUrl() + path, {
          raw: '{}',
          headers: {
            'content-type': 'application/json',
            ...buildGatewayHeaders({
              clientId: gateway.clientId,
              secret: gateway.secret,
              method: 'POST',
              path,
              body: '{}',
            }),
          },
        }).catch(() => undefined);
        return res?.status === 200 ? res.body : undefined;
      },
      { timeoutMs: 60_000, message: `reversal of ${txn} accepted` },
    );
  }

  for (let round = 1; round <= ROUNDS; round += 1) {
    it(`round ${round}: every paid recharge credited once, every swipe charged at most once`, async () => {
      const payers = await Promise.all([signedPayer(), signedPayer()]);
      const recharges: Array<{ outTradeNo: string; tradeNo: string; cardNo: string; userId: string }> = [];
      const swipes: Array<{ txnNo: string; reversed: boolean }> = [];

      await stack.alipay.control.injectNotifyFault({
        notifyType: 'trade_status_sync',
        action: 'duplicate',
        times: 2,
      });
      await stack.alipay.control.injectNotifyFault({
        notifyType: 'trade_status_sync',
        action: 'tamper',
        attempts: 1,
        times: 1,
      });
      await stack.alipay.control.injectNotifyFault({
        notifyType: 'trade_status_sync',
        action: 'reorder',
        times: 1,
      });
      await stack.alipay.control.injectNotifyFault({
        notifyType: 'trade_status_sync',
        action: 'delay',
        delayMs: 3_000,
        times: 2,
      });
      await stack.alipay.control.injectApiFault({
        method: 'alipay.trade.pay',
        times: 1,
        error: { code: '20000', subCode: 'ACQ.SYSTEM_ERROR' },
        applyEffect: true,
      });
      await stack.alipay.control.injectApiFault({
        method: 'alipay.trade.pay',
        times: 1,
        hangMs: 4_000,
        applyEffect: true,
      });

      const killAt = Math.floor((RECHARGES + SWIPES) * (0.3 + 0.4 * random()));
      let sent = 0;
      const maybeKill = async () => {
        sent += 1;
        if (sent !== killAt) return;
        // Both at once, mid-storm; back after a moment on the same port (what a supervisor does).
        await Promise.all([api!.kill9(), worker!.kill9()]);
        await new Promise((resolve) => setTimeout(resolve, 500 + 1_500 * random()));
        [api, worker] = await Promise.all([
          startProcess(stack, 'api', { port: apiPort }),
          startProcess(stack, 'worker'),
        ]);
      };

      for (let i = 0; i < RECHARGES + SWIPES; i += 1) {
        const payer = payers[i % payers.length];
        if (i % 2 === 0 && recharges.length < RECHARGES) {
          const created = await eventually(
            async () => {
              const res = await request('POST', `${apiUrl()}/api/v1/recharges`, {
                body: { bindingId: payer.bindingId, amountFen: 100 + i },
                token: payer.token,
              }).catch(() => undefined);
              return res?.status === 201 ? res.body : undefined;
            },
            { timeoutMs: 90_000, message: 'recharge created' },
          );
          await stack.alipay.control.payTrade({ tradeNO: created.tradeNo, userId: payer.userId });
          recharges.push({
            outTradeNo: created.outTradeNo,
            tradeNo: created.tradeNo,
            cardNo: payer.cardNo,
            userId: payer.userId,
          });
        } else {
          const { txnNo: txn, answer } = await swipe(payer.cardNo, 50 + i);
          const reversed = !answer || random() < 0.2;
          if (answer) assert.equal(answer.decision, 'APPROVED', JSON.stringify(answer));
          swipes.push({ txnNo: txn, reversed });
        }
        await maybeKill();
      }
      for (const s of swipes.filter((s) => s.reversed)) await reverse(s.txnNo);
      await stack.alipay.control.clearFaults();

      // Settled: no recharge paid but uncredited, no deduction still being collected or refunded.
      const { pool } = stack.app.deps;
      await eventually(
        async () => {
          const open = await pool.query(
            `select (select count(*)::int from recharge_orders where out_trade_no = any($1) and status <> 'CREDITED') as recharges,
                    (select count(*)::int from deductions where txn_no = any($2) and decision = 'APPROVED'
                       and (status in ('PENDING', 'RETRYING') or (reversal_requested_at is not null and status <> 'REVERSED'))) as deductions`,
            [recharges.map((r) => r.outTradeNo), swipes.map((s) => s.txnNo)],
          );
          return open.rows[0].recharges === 0 && open.rows[0].deductions === 0;
        },
        { timeoutMs: 120_000, intervalMs: 500, message: 'everything settled after the kills' },
      );

      for (const recharge of recharges) {
        const records = await stack.cardsys.control.getRecords(stack.school.code, recharge.cardNo);
        const credits = records.filter((r) => r.type === 'RECHARGE' && r.refNo === recharge.outTradeNo);
        assert.equal(credits.length, 1, `recharge ${recharge.outTradeNo} credited ${credits.length} times`);
      }
      const { rows: deductions } = await pool.query<{
        txn_no: string;
        deduction_no: string;
        status: string;
        amount_fen: number;
      }>(
        `select txn_no, deduction_no, status, amount_fen from deductions where txn_no = any($1) and decision = 'APPROVED'`,
        [swipes.map((s) => s.txnNo)],
      );
      for (const deduction of deductions) {
        const { trades, refundedFen } = await chargesOf(stack, deduction.deduction_no);
        // Trades that took money: still paid, or closed by a full refund.
        const paid = trades.filter(
          (t) => t.status === 'TRADE_SUCCESS' || t.status === 'TRADE_FINISHED' || t.refundedFen > 0,
        );
        assert.ok(paid.length <= 1, `${deduction.txn_no} charged ${paid.length} times`);
        const wasReversed = swipes.find((s) => s.txnNo === deduction.txn_no)!.reversed;
        if (wasReversed) {
          assert.equal(deduction.status, 'REVERSED', `${deduction.txn_no} reversed`);
          assert.equal(
            refundedFen,
            paid.length === 1 ? deduction.amount_fen : 0,
            `${deduction.txn_no} refunded once`,
          );
        } else {
          assert.equal(deduction.status, 'COLLECTED', `${deduction.txn_no} is ${deduction.status}`);
          assert.equal(paid.length, 1);
          assert.equal(refundedFen, 0);
        }
      }
    });
  }

  /** A payer signed through the API process (the worker binds the card at the card system). */
  async function signedPayer() {
    const payer = await userWithCard(stack);
    const sign = await payer.api.post('/api/v1/withholding/sign', { bindingId: payer.bindingId });
    assert.equal(sign.status, 201, sign.text);
    const signed = await stack.alipay.control.signAgreement({
      signStr: sign.body.signStr,
      userId: payer.user.userId,
    });
    assert.equal(signed.resultStatus, '7000');
    await eventually(
      async () =>
        (await stack.cardsys.control.getCard(stack.school.code, payer.card.cardNo)).alipayBind !== null,
      { timeoutMs: 60_000, message: 'card bound for withholding by the worker' },
    );
    return {
      bindingId: payer.bindingId,
      token: payer.api.token,
      userId: payer.user.userId,
      cardNo: payer.card.cardNo,
    };
  }
});
