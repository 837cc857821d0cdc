import assert from 'node:assert/strict';
import { retryDeductionRefund } from '../../../server/src/domain/withholding/deduction-refunds.js';
import { OffsetClock } from '../../support/clock.js';
import { eventually } from '../../support/http.js';
import { startStack, type Stack } from '../../support/stack.js';
import { chargesOf, gatewayFor, sale, signedPayer, waitForDeduction, type Gateway } from './helpers.js';

/**
 * Every class of Alipay answer of ALIPAY.md §4.16 on the calls that move a swipe's money (trade.pay,
 * trade.query, trade.cancel, trade.refund), and what the deduction does with it. Time is shrunk as in
 * collection.test.ts: retry slots of 300 ms, polls every 100 ms for 1.5 s.
 */
interface Attempt {
  outcome: string;
  code: string | null;
}

async function startShrunkStack(): Promise<{ stack: Stack; gateway: Gateway }> {
  const stack = await startStack({
    env: {
      DEDUCTION_RETRY_SCALE: '0.001',
      DEDUCTION_POLL_INTERVAL_MS: '100',
      DEDUCTION_POLL_WINDOW_MS: '1500',
      DEDUCTION_REFUND_RETRY_MS: '100,100,100',
      ALIPAY_TIMEOUT_MS: '1000',
    },
    schoolSettings: { retryScheduleSeconds: [300, 300, 300] },
  });
  return { stack, gateway: await gatewayFor(stack) };
}

async function approve(gateway: Gateway, cardNo: string, amountFen: number) {
  const res = await gateway.deduct(sale(cardNo, amountFen));
  assert.equal(res.body.decision, 'APPROVED', res.text);
  return res.body as { txnNo: string; deductionId: string };
}

function outcomes(detail: { attempts: Attempt[] }): string[] {
  return detail.attempts.map((a) => a.outcome);
}

describe('collecting a swipe: every class of trade.pay answer', () => {
  let stack: Stack;
  let gateway: Gateway;
  before(async () => ({ stack, gateway } = await startShrunkStack()));
  afterEach(() => stack.alipay.control.clearFaults());
  after(() => stack.stop());

  it('treats ACQ.TRADE_HAS_SUCCESS as money taken: found by query and COLLECTED, never a debt', async () => {
    const payer = await signedPayer(stack);
    await stack.alipay.control.injectApiFault({
      method: 'alipay.trade.pay',
      times: 1,
      error: { subCode: 'ACQ.TRADE_HAS_SUCCESS' },
      applyEffect: true,
    });
    const approved = await approve(gateway, payer.card.cardNo, 610);
    const detail = await waitForDeduction(gateway, approved.txnNo, 'COLLECTED');
    assert.deepEqual(outcomes(detail), ['PAID_FOUND_BY_QUERY']);
    assert.equal((await chargesOf(stack, approved.deductionId)).paid.length, 1);
    assert.equal((await payer.api.get('/api/v1/debts')).body.totalFen, 0);
  });

  it('treats 20000 isp.unknow-error as unknown: asks before charging again, and charges once', async () => {
    const payer = await signedPayer(stack);
    await stack.alipay.control.injectApiFault({
      method: 'alipay.trade.pay',
      times: 1,
      error: { code: '20000', subCode: 'isp.unknow-error' },
      applyEffect: true,
    });
    const approved = await approve(gateway, payer.card.cardNo, 620);
    const detail = await waitForDeduction(gateway, approved.txnNo, 'COLLECTED');
    assert.deepEqual(outcomes(detail), ['PAID_FOUND_BY_QUERY']);
    assert.equal((await chargesOf(stack, approved.deductionId)).paid.length, 1);
  });

  for (const [subCode, code] of [
    ['ACQ.SELLER_BALANCE_NOT_ENOUGH', undefined],
    ['aop.ACCESS_LIMITED', '40005'],
  ] as const) {
    it(`retries on the school's schedule after a retryable ${code ?? ''} ${subCode}, keeping the same out_trade_no`, async () => {
      const payer = await signedPayer(stack);
      await stack.alipay.control.injectApiFault({
        method: 'alipay.trade.pay',
        times: 1,
        error: { subCode, ...(code ? { code } : {}) },
      });
      const approved = await approve(gateway, payer.card.cardNo, 630);
      const detail = await waitForDeduction(gateway, approved.txnNo, 'COLLECTED');
      assert.deepEqual(outcomes(detail), ['RETRYABLE', 'PAID']);
      assert.equal(detail.attempts[0].code, subCode);
      const { trades, paid } = await chargesOf(stack, approved.deductionId);
      assert.deepEqual(
        trades.map((t) => t.outTradeNo),
        [approved.deductionId],
      );
      assert.equal(paid.length, 1);
    });
  }

  it('puts a deduction in arrears at once on a final answer that is not about the agreement (ACQ.INVALID_PARAMETER)', async () => {
    const payer = await signedPayer(stack);
    await stack.alipay.control.injectApiFault({
      method: 'alipay.trade.pay',
      times: 1,
      error: { subCode: 'ACQ.INVALID_PARAMETER' },
    });
    const approved = await approve(gateway, payer.card.cardNo, 640);
    const detail = await waitForDeduction(gateway, approved.txnNo, 'ARREARS');
    assert.deepEqual(outcomes(detail), ['FINAL']);
    assert.equal(detail.attempts[0].code, 'ACQ.INVALID_PARAMETER');
    const debts = (await payer.api.get('/api/v1/debts')).body;
    assert.deepEqual([debts.totalFen, debts.items[0].lastErrorCode], [640, 'ACQ.INVALID_PARAMETER']);
  });

  it('charges under the next number at once, using no retry slot, when the current one was closed earlier (ACQ.TRADE_HAS_CLOSE)', async () => {
    const payer = await signedPayer(stack);
    await stack.alipay.control.injectApiFault({
      method: 'alipay.trade.pay',
      times: 1,
      error: { subCode: 'ACQ.TRADE_HAS_CLOSE' },
    });
    const approved = await approve(gateway, payer.card.cardNo, 650);
    const detail = await waitForDeduction(gateway, approved.txnNo, 'COLLECTED');
    assert.deepEqual(outcomes(detail), ['TRADE_CLOSED', 'PAID']);
    const { trades, paid } = await chargesOf(stack, approved.deductionId);
    assert.deepEqual(
      trades.map((t) => [t.outTradeNo, t.status]),
      [[`${approved.deductionId}_2`, 'TRADE_SUCCESS']],
    );
    assert.equal(paid.length, 1);
    const { rows } = await stack.app.deps.pool.query(
      'select retries_used from deductions where deduction_no = $1',
      [approved.deductionId],
    );
    assert.equal(rows[0].retries_used, 0);
  });

  it('uses every slot of the schedule before ARREARS: one charge and one retry per slot', async () => {
    const payer = await signedPayer(stack, { balanceFen: 0 });
    const approved = await approve(gateway, payer.card.cardNo, 660);
    const detail = await waitForDeduction(gateway, approved.txnNo, 'ARREARS');
    assert.deepEqual(outcomes(detail), ['RETRYABLE', 'RETRYABLE', 'RETRYABLE', 'RETRYABLE']);
    assert.equal((await chargesOf(stack, approved.deductionId)).paid.length, 0);
  });
});

describe('collecting a swipe when the query or the cancel fails too', () => {
  let stack: Stack;
  let gateway: Gateway;
  before(async () => ({ stack, gateway } = await startShrunkStack()));
  afterEach(() => stack.alipay.control.clearFaults());
  after(() => stack.stop());

  it('stays unknown while the query fails as well, and charges nothing more until a query answers', async () => {
    const payer = await signedPayer(stack);
    await stack.alipay.control.injectApiFault({
      method: 'alipay.trade.pay',
      times: 1,
      error: { subCode: 'ACQ.SYSTEM_ERROR' },
      applyEffect: true,
    });
    await stack.alipay.control.injectApiFault({
      method: 'alipay.trade.query',
      times: 2,
      error: { subCode: 'ACQ.SYSTEM_ERROR' },
    });
    const approved = await approve(gateway, payer.card.cardNo, 710);
    const detail = await waitForDeduction(gateway, approved.txnNo, 'COLLECTED');
    assert.deepEqual(outcomes(detail), ['QUERY_FAILED', 'QUERY_FAILED', 'PAID_ON_POLL']);
    assert.equal((await chargesOf(stack, approved.deductionId)).paid.length, 1);
    assert.equal((await payer.api.get('/api/v1/debts')).body.totalFen, 0);
  });

  it('keeps asking when the cancel of a trade the buyer never confirmed fails, then cancels and charges under the next number', async () => {
    const payer = await signedPayer(stack);
    await stack.alipay.control.injectApiFault({ method: 'alipay.trade.pay', times: 1, payInProcess: {} });
    await stack.alipay.control.injectApiFault({
      method: 'alipay.trade.cancel',
      times: 1,
      error: { subCode: 'ACQ.SYSTEM_ERROR' },
    });
    const approved = await approve(gateway, payer.card.cardNo, 720);
    const detail = await waitForDeduction(gateway, approved.txnNo, 'COLLECTED');
    const seen = outcomes(detail);
    const failedAt = seen.indexOf('CANCEL_FAILED');
    assert.ok(failedAt > 0, seen.join());
    assert.deepEqual(seen.slice(failedAt + 1), ['CANCELLED', 'PAID'], seen.join());
    const { trades, paid } = await chargesOf(stack, approved.deductionId);
    assert.deepEqual(trades.map((t) => [t.outTradeNo, t.status]).sort(), [
      [approved.deductionId, 'TRADE_CLOSED'],
      [`${approved.deductionId}_2`, 'TRADE_SUCCESS'],
    ]);
    assert.equal(paid.length, 1);
  });

  it('finds a waiting trade paid on the query after a failed cancel, and does not charge it again', async () => {
    const payer = await signedPayer(stack);
    await stack.alipay.control.injectApiFault({
      method: 'alipay.trade.pay',
      times: 1,
      // The buyer confirms well after the 1.5 s poll window, so that at least one cancel is tried (and fails)
      // first even on a loaded machine; every cancel until then fails (one every poll interval).
      payInProcess: { completeAfterMs: 4_000, outcome: 'success' },
    });
    await stack.alipay.control.injectApiFault({
      method: 'alipay.trade.cancel',
      times: 100,
      error: { subCode: 'ACQ.SYSTEM_ERROR' },
    });
    const approved = await approve(gateway, payer.card.cardNo, 730);
    const detail = await waitForDeduction(gateway, approved.txnNo, 'COLLECTED');
    assert.ok(outcomes(detail).includes('CANCEL_FAILED'));
    assert.equal(detail.attempts.at(-1)!.outcome, 'PAID_ON_POLL');
    const { trades, paid } = await chargesOf(stack, approved.deductionId);
    assert.deepEqual(
      trades.map((t) => t.outTradeNo),
      [approved.deductionId],
    );
    assert.equal(paid.length, 1);
  });
});

describe('refunding a reversed swipe: every class of trade.refund answer', () => {
  let stack: Stack;
  let gateway: Gateway;
  before(async () => ({ stack, gateway } = await startShrunkStack()));
  afterEach(() => stack.alipay.control.clearFaults());
  after(() => stack.stop());

  async function collected(amountFen: number) {
    const payer = await signedPayer(stack);
    const approved = await approve(gateway, payer.card.cardNo, amountFen);
    await waitForDeduction(gateway, approved.txnNo, 'COLLECTED');
    return { payer, approved };
  }

  async function deductionUuid(deductionNo: string): Promise<string> {
    const { rows } = await stack.app.deps.pool.query('select id from deductions where deduction_no = $1', [
      deductionNo,
    ]);
    return rows[0].id as string;
  }

  async function refundRow(deductionNo: string) {
    const { rows } = await stack.app.deps.pool.query(
      `select r.status, r.attempts, r.out_request_no from refunds r where r.out_request_no = $1`,
      [`${deductionNo}_R`],
    );
    return rows[0] as { status: string; attempts: number; out_request_no: string };
  }

  /**
   * The next trade.refund calls answer these sub_codes, one call each, in order; `firstGoesThrough`: the first
   * refund is made although its caller sees the failure (an answer lost).
   */
  async function refundAnswers(subCodes: string[], options: { firstGoesThrough?: boolean } = {}) {
    for (const [i, subCode] of subCodes.entries()) {
      await stack.alipay.control.injectApiFault({
        method: 'alipay.trade.refund',
        times: 1,
        error: { subCode },
        ...(i === 0 && options.firstGoesThrough ? { applyEffect: true } : {}),
      });
    }
  }

  /** The next refund query (fastpay.refund.query) gets no answer. */
  const unansweredRefundQuery = () =>
    stack.alipay.control.injectApiFault({
      method: 'alipay.trade.fastpay.refund.query',
      times: 1,
      error: { subCode: 'ACQ.SYSTEM_ERROR' },
    });

  const statusAndAttempts = (row: { status: string; attempts: number }) => [row.status, row.attempts];

  it('retries a retryable refusal with the same out_request_no and refunds once', async () => {
    const { approved } = await collected(810);
    await stack.alipay.control.injectApiFault({
      method: 'alipay.trade.refund',
      times: 1,
      error: { subCode: 'ACQ.SELLER_BALANCE_NOT_ENOUGH' },
    });
    const first = await gateway.reverse(approved.txnNo);
    assert.equal(first.body.reversal.refund, 'PENDING');
    const detail = await waitForDeduction(gateway, approved.txnNo, 'REVERSED');
    assert.equal(detail.reversal.refund, 'REFUNDED');
    const [trade] = (await chargesOf(stack, approved.deductionId)).trades;
    assert.deepEqual(
      trade.refunds.map((r: { outRequestNo: string }) => r.outRequestNo),
      [`${approved.deductionId}_R`],
    );
    assert.equal(trade.refundedFen, 810);
  });

  it('stops at a final refusal (FAILED, for an admin) and does not mark the swipe refunded', async () => {
    const { approved } = await collected(820);
    await stack.alipay.control.injectApiFault({
      method: 'alipay.trade.refund',
      times: 1,
      error: { subCode: 'ACQ.TRADE_NOT_ALLOW_REFUND' },
    });
    const reversed = await gateway.reverse(approved.txnNo);
    assert.deepEqual([reversed.body.status, reversed.body.reversal.refund], ['COLLECTED', 'PENDING']);
    const row = await refundRow(approved.deductionId);
    assert.deepEqual([row.status, row.attempts], ['FAILED', 1]);
    assert.equal((await chargesOf(stack, approved.deductionId)).refundedFen, 0);
  });

  it('takes a first refusal as final without asking Alipay, and never sends a FAILED refund again by itself', async () => {
    const { approved } = await collected(825);
    await refundAnswers(['ACQ.TRADE_NOT_ALLOW_REFUND']);
    // Were the refund asked about, this unanswered query would leave it open and retried.
    const query = await unansweredRefundQuery();
    await gateway.reverse(approved.txnNo);
    assert.deepEqual(statusAndAttempts(await refundRow(approved.deductionId)), ['FAILED', 1]);
    const asked = (await stack.alipay.control.listFaults()).find((f) => f.id === query.id);
    assert.equal(asked?.hits, 0, 'no refund query after a first refusal');

    // The refund job (or a repeated reversal) comes again: a FAILED refund waits for an admin.
    await retryDeductionRefund(stack.app.deps, await deductionUuid(approved.deductionId));
    await gateway.reverse(approved.txnNo);
    assert.deepEqual(statusAndAttempts(await refundRow(approved.deductionId)), ['FAILED', 1]);
    assert.equal((await chargesOf(stack, approved.deductionId)).refundedFen, 0);
  });

  it('retries a refusal after an unanswered attempt when the refund query fails too, and refunds once', async () => {
    const { approved } = await collected(835);
    // The first refund got no answer and did not go through; the repeat is refused; the query cannot tell.
    await refundAnswers(['ACQ.SYSTEM_ERROR', 'ACQ.TRADE_NOT_ALLOW_REFUND']);
    await unansweredRefundQuery();
    await gateway.reverse(approved.txnNo);
    const detail = await waitForDeduction(gateway, approved.txnNo, 'REVERSED');
    assert.equal(detail.reversal.refund, 'REFUNDED');
    assert.deepEqual(
      statusAndAttempts(await refundRow(approved.deductionId)),
      ['SUCCEEDED', 3],
      'three calls, one refund',
    );
    assert.equal((await chargesOf(stack, approved.deductionId)).refundedFen, 835);
  });

  it('makes a refusal after an unanswered attempt final when the refund query finds no refund', async () => {
    const { approved } = await collected(845);
    await refundAnswers(['ACQ.SYSTEM_ERROR', 'ACQ.TRADE_NOT_ALLOW_REFUND']);
    await gateway.reverse(approved.txnNo);
    await eventually(async () => (await refundRow(approved.deductionId)).status === 'FAILED');
    assert.equal((await refundRow(approved.deductionId)).attempts, 2);
    assert.equal((await chargesOf(stack, approved.deductionId)).refundedFen, 0);
    const detail = (await gateway.get(`/gateway/v1/deductions/${approved.txnNo}`)).body;
    assert.deepEqual([detail.status, detail.reversal.refund], ['COLLECTED', 'PENDING']);
  });

  it('asks before calling a refusal final after an attempt that got no answer, and finds the refund done', async () => {
    const { approved } = await collected(830);
    // The first refund went through but its answer was lost; the repeat is refused (as Alipay may do for a
    // request number it has already used): the query decides.
    await refundAnswers(['ACQ.SYSTEM_ERROR', 'ACQ.TRADE_NOT_ALLOW_REFUND'], { firstGoesThrough: true });
    await gateway.reverse(approved.txnNo);
    const detail = await waitForDeduction(gateway, approved.txnNo, 'REVERSED');
    assert.equal(detail.reversal.refund, 'REFUNDED');
    assert.equal((await refundRow(approved.deductionId)).status, 'SUCCEEDED');
    assert.equal((await chargesOf(stack, approved.deductionId)).refundedFen, 830);
  });

  it('refunds a reversed SETTLED swipe on the repayment trade that paid it', async () => {
    const payer = await signedPayer(stack, { balanceFen: 0 });
    const approved = await approve(gateway, payer.card.cardNo, 840);
    await waitForDeduction(gateway, approved.txnNo, 'ARREARS');
    await stack.alipay.control.setBalance(payer.user.userId, 5_000);
    const repay = await payer.api.post('/api/v1/debts/repay', {});
    assert.equal(repay.status, 201, repay.text);
    await stack.alipay.control.payTrade({ tradeNO: repay.body.tradeNo, userId: payer.user.userId });
    await waitForDeduction(gateway, approved.txnNo, 'SETTLED');

    const reversed = await gateway.reverse(approved.txnNo);
    assert.equal(reversed.status, 200);
    const detail = await waitForDeduction(gateway, approved.txnNo, 'REVERSED');
    assert.equal(detail.reversal.refund, 'REFUNDED');
    const { trades } = await stack.alipay.control.ledger({});
    const repaid = trades.find((t) => t.tradeNo === repay.body.tradeNo)!;
    assert.equal(repaid.refundedFen, 840);
    assert.equal((await chargesOf(stack, approved.deductionId)).paid.length, 0);
    assert.equal((await stack.alipay.control.getUser(payer.user.userId)).balanceFen, 5_000);
  });
});

describe('retry schedules and backstop sweeps on the injected clock', () => {
  let stack: Stack;
  let gateway: Gateway;
  const clock = new OffsetClock();
  before(async () => {
    stack = await startStack({
      clock,
      env: {
        DEDUCTION_RETRY_SCALE: '1',
        DEDUCTION_REFUND_RETRY_MS: '100',
        DEDUCTION_COLLECT_EVERY_MS: '200',
        RECHARGE_SWEEP_EVERY_MS: '300',
      },
      schoolSettings: { retryScheduleSeconds: [600, 1_800] },
    });
    gateway = await gatewayFor(stack);
  });
  afterEach(() => stack.alipay.control.clearFaults());
  after(() => stack.stop());

  async function schedule(deductionNo: string) {
    const { rows } = await stack.app.deps.pool.query(
      `select status, retries_used, extract(epoch from next_attempt_at - updated_at) * 1000 as delay_ms
         from deductions where deduction_no = $1`,
      [deductionNo],
    );
    return rows[0] as { status: string; retries_used: number; delay_ms: string };
  }

  // First: jobs scheduled with jobs.at run on real time, so this one runs before the clock moves.
  it('refunds, on the withholding sweep, a reversal whose refund retries ran out', async () => {
    const payer = await signedPayer(stack);
    const approved = await approve(gateway, payer.card.cardNo, 910);
    await waitForDeduction(gateway, approved.txnNo, 'COLLECTED');
    await stack.alipay.control.injectApiFault({
      method: 'alipay.trade.refund',
      times: 2,
      error: { subCode: 'ACQ.SELLER_BALANCE_NOT_ENOUGH' },
    });
    await gateway.reverse(approved.txnNo);
    await eventually(async () => {
      const { rows } = await stack.app.deps.pool.query(
        'select attempts from refunds where out_request_no = $1',
        [`${approved.deductionId}_R`],
      );
      return rows[0]?.attempts === 2;
    });
    assert.equal((await gateway.get(`/gateway/v1/deductions/${approved.txnNo}`)).body.status, 'COLLECTED');
    clock.advance(11 * 60_000);
    const detail = await waitForDeduction(gateway, approved.txnNo, 'REVERSED');
    assert.equal(detail.reversal.refund, 'REFUNDED');
    assert.equal((await chargesOf(stack, approved.deductionId)).refundedFen, 910);
  });

  it("waits each slot of the school's schedule after a refusal, counted from the attempt, then ARREARS", async () => {
    const payer = await signedPayer(stack, { balanceFen: 0 });
    const approved = await approve(gateway, payer.card.cardNo, 900);
    await waitForDeduction(gateway, approved.txnNo, 'RETRYING');
    const first = await schedule(approved.deductionId);
    assert.equal(first.retries_used, 1);
    assert.ok(Math.abs(Number(first.delay_ms) - 600_000) < 1_000, `first delay ${first.delay_ms} ms`);

    clock.advance(600_000);
    await eventually(async () => (await schedule(approved.deductionId)).retries_used === 2);
    const second = await schedule(approved.deductionId);
    assert.equal(second.status, 'RETRYING');
    assert.ok(Math.abs(Number(second.delay_ms) - 1_800_000) < 1_000, `second delay ${second.delay_ms} ms`);

    clock.advance(1_800_000);
    await waitForDeduction(gateway, approved.txnNo, 'ARREARS');
  });
});
