import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  freePort,
  startEmbeddedPostgres,
  type EmbeddedPostgres,
} from '../../server/src/db/embedded-postgres.js';
import { createLogger } from '../../server/src/lib/logger.js';
import { eventually, request } from '../support/http.js';
import { startStack, type Stack } from '../support/stack.js';
import { userWithCard, vendorCreditsFor, waitForRecharge } from '../integration/student/helpers.js';
import {
  chargesOf,
  gatewayFor,
  sale,
  signedPayer,
  waitForDeduction,
  type Gateway,
} from '../integration/withholding/helpers.js';

/**
 * Drill: PostgreSQL killed (`kill -9` of the postmaster) under traffic, then started again on the same
 * port. The platform must ride it out by itself: /readyz red only while the database is down, pool and
 * LISTEN connections re-established, Agenda back at work, and nothing lost — a payment made during the
 * outage is credited once, a swipe after it is collected. `npm run test:chaos` repeats the outage
 * (CHAOS_ROUNDS); CI runs one round.
 */
const ROUNDS = Number(process.env.CHAOS_ROUNDS ?? 1);

describe('drill: PostgreSQL killed and restarted under traffic', function () {
  this.timeout(240_000 * ROUNDS);
  const baseDir = fs.mkdtempSync(path.join(os.tmpdir(), 'chaos-pg-'));
  const logger = createLogger({ level: 'error' });
  let port: number;
  let db: EmbeddedPostgres;
  let stack: Stack;
  let gateway: Gateway;

  const startDatabase = async () => {
    // Backends of a killed postmaster take a moment to notice and release its shared memory.
    for (let attempt = 1; ; attempt += 1) {
      try {
        // Full durability, as in production: a killed database keeps every commit it acknowledged.
        return await startEmbeddedPostgres({ baseDir, database: 'campus', logger, durability: 'full', port });
      } catch (error) {
        if (attempt >= 20) throw error;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  };
  const readyz = async () =>
    (await request('GET', `${stack.app.url}/readyz`).catch(() => ({ status: 0 }))).status;

  before(async () => {
    port = await freePort();
    db = await startDatabase();
    stack = await startStack({
      env: {
        DATABASE_URL: db.url,
        DEDUCTION_COLLECT_EVERY_MS: '2000',
        RECHARGE_CREDIT_EVERY_MS: '2000',
        RECHARGE_SWEEP_EVERY_MS: '2000',
        RECHARGE_SWEEP_AFTER_MS: '1000',
        JOBS_PROCESS_EVERY_MS: '500',
      },
    });
    gateway = await gatewayFor(stack);
  });
  after(async () => {
    await stack?.stop();
    await db?.stop();
    fs.rmSync(baseDir, { recursive: true, force: true });
  });

  for (let round = 1; round <= ROUNDS; round += 1) {
    it(`round ${round}: recovers by itself and loses nothing`, async () => {
      const payer = await signedPayer(stack);
      const { user, api, card, bindingId } = await userWithCard(stack, { cardBalanceFen: 0 });
      const order = (await api.post('/api/v1/recharges', { bindingId, amountFen: 1_500 })).body;
      assert.ok(order.tradeNo, 'recharge created');

      await db.kill();
      await eventually(async () => (await readyz()) === 503, {
        message: '/readyz red while the database is down',
      });
      // Paid while we cannot write it down: Alipay's notification fails and is sent again later.
      await stack.alipay.control.payTrade({ tradeNO: order.tradeNo, userId: user.userId });
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      assert.equal(await readyz(), 503);

      db = await startDatabase();
      await eventually(async () => (await readyz()) === 200, {
        timeoutMs: 30_000,
        message: '/readyz green again without a restart of the platform',
      });
      try {
        await waitForRecharge(api, order.id, 'CREDITED', 120_000);
      } catch (error) {
        const { rows } = await stack.app.deps.pool.query(
          'select status, last_error, next_credit_at, credit_attempts from recharge_orders where id = $1',
          [order.id],
        );
        const jobs = await stack.app.deps.pool.query(
          'select name, next_run_at, locked_at, last_run_at, fail_reason from agenda_jobs order by name',
        );
        const notes = await stack.alipay.control.notifications({ outTradeNo: order.outTradeNo });
        throw new Error(
          `${(error as Error).message}: ${JSON.stringify(rows)} jobs ${JSON.stringify(jobs.rows)} notifications ${JSON.stringify(notes)}`,
          { cause: error },
        );
      }
      assert.equal((await vendorCreditsFor(stack, card.cardNo, order.outTradeNo)).length, 1);

      const swipe = await gateway.deduct(sale(payer.card.cardNo, 320));
      assert.equal(swipe.body.decision, 'APPROVED', swipe.text);
      await waitForDeduction(gateway, swipe.body.txnNo, 'COLLECTED', 120_000);
      assert.equal((await chargesOf(stack, swipe.body.deductionId)).paid.length, 1);
    });
  }
});
