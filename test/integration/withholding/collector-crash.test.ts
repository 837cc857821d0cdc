import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { eventually } from '../../support/http.js';
import { startStack, type Stack } from '../../support/stack.js';
import { chargesOf, gatewayFor, sale, signedPayer, waitForDeduction, type Gateway } from './helpers.js';

/**
 * A collector process killed (`kill -9`) while its trade.pay is at Alipay: Alipay has taken the money, we
 * never heard the answer. The next collector must find that charge with a query and never charge again.
 * The deployment is split the way production runs it: this process serves the API only, the collectors
 * are separate `ROLE=worker` processes of `server/src/main.ts` on the same database.
 */
describe('a collector that dies in the middle of a charge', function () {
  // Spawns `tsx` processes, whose cold start takes many seconds on a busy 2-core machine.
  this.timeout(180_000);
  let stack: Stack;
  let gateway: Gateway;
  let worker: ChildProcess | undefined;

  /** Backends of Agenda connections to this suite's database: a worker that is up has opened new ones. */
  async function jobBackends(): Promise<number[]> {
    const { rows } = await stack.app.deps.pool.query<{ pid: number }>(
      `select pid from pg_stat_activity
        where datname = current_database() and application_name = 'campus-card-jobs'`,
    );
    return rows.map((row) => row.pid);
  }

  /**
   * A `ROLE=worker` process, resolved once it is taking jobs (tsx compiles the whole server first, which on a
   * busy machine takes longer than a test's own waits).
   */
  async function startWorker(): Promise<ChildProcess> {
    const before = new Set(await jobBackends());
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/src/main.ts'], {
      env: { ...process.env, ...stack.app.env, ROLE: 'worker', PORT: '0' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    worker = child;
    await eventually(async () => (await jobBackends()).some((pid) => !before.has(pid)), {
      timeoutMs: 60_000,
      message: 'the worker process never connected',
    });
    return child;
  }

  async function kill9(child: ChildProcess): Promise<void> {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  async function chargeStateOf(deductionNo: string) {
    const { rows } = await stack.app.deps.pool.query<{ status: string; charge_state: string | null }>(
      'select status, charge_state from deductions where deduction_no = $1',
      [deductionNo],
    );
    return rows[0];
  }

  /** Approves a swipe and lets the first worker send its trade.pay, which Alipay applies and never answers. */
  async function chargeInFlightThenCrash(amountFen: number) {
    await startWorker();
    const payer = await signedPayer(stack);
    await stack.alipay.control.injectApiFault({
      method: 'alipay.trade.pay',
      times: 1,
      hangMs: 20_000,
      applyEffect: true,
    });
    const res = await gateway.deduct(sale(payer.card.cardNo, amountFen));
    assert.equal(res.body.decision, 'APPROVED', res.text);
    const approved = res.body as { txnNo: string; deductionId: string };
    await eventually(async () => (await chargesOf(stack, approved.deductionId)).paid.length === 1, {
      message: 'Alipay took the money',
    });
    await kill9(worker!);
    worker = undefined;
    await stack.alipay.control.clearFaults();
    return { payer, approved };
  }

  before(async () => {
    stack = await startStack({
      env: {
        ROLE: 'api',
        // A dead collector's hold runs out quickly, so the next one takes over within the test.
        DEDUCTION_LEASE_MS: '2000',
        DEDUCTION_POLL_INTERVAL_MS: '100',
        ALIPAY_TIMEOUT_MS: '30000',
      },
    });
    gateway = await gatewayFor(stack);
  });
  afterEach(async () => {
    if (worker) await kill9(worker);
    worker = undefined;
    await stack.alipay.control.clearFaults();
  });
  after(() => stack.stop());

  it('leaves the deduction marked as charged-but-unknown, and the next collector finds the money by query', async () => {
    const { approved } = await chargeInFlightThenCrash(730);
    // The dead collector recorded nothing after trade.pay; the claim's own mark is what remains.
    assert.deepEqual(await chargeStateOf(approved.deductionId), {
      status: 'PENDING',
      charge_state: 'UNKNOWN',
    });

    await startWorker();
    const detail = await waitForDeduction(gateway, approved.txnNo, 'COLLECTED', 20_000);
    assert.equal(detail.attempts.at(-1).outcome, 'PAID_ON_POLL');
    const { trades, paid, refundedFen } = await chargesOf(stack, approved.deductionId);
    assert.equal(trades.length, 1, 'no second trade was opened');
    assert.equal(paid[0].totalFen, 730);
    assert.equal(refundedFen, 0);
  });

  it('does not void a reversal asked while the charge is unknown: it refunds once the charge is found', async () => {
    const { approved } = await chargeInFlightThenCrash(560);
    const reversal = await gateway.reverse(approved.txnNo);
    assert.equal(reversal.status, 200, reversal.text);
    assert.equal(reversal.body.status, 'PENDING', 'not voided: the charge may have gone through');

    await startWorker();
    const done = await waitForDeduction(gateway, approved.txnNo, 'REVERSED', 20_000);
    assert.equal(done.reversal.refund, 'REFUNDED');
    await eventually(async () => (await chargesOf(stack, approved.deductionId)).refundedFen === 560, {
      message: 'the charge was refunded',
    });
    // Charged once (Alipay closes a trade refunded in full), refunded once.
    const { trades } = await chargesOf(stack, approved.deductionId);
    assert.equal(trades.length, 1);
    assert.equal(trades[0].totalFen, 560);
    assert.equal(trades[0].refunds.length, 1);
  });
});
