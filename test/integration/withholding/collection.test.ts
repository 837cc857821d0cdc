import assert from 'node:assert/strict';
import { startStack, type Stack } from '../../support/stack.js';
import { eventually } from '../../support/http.js';
import { chargesOf, gatewayFor, sale, signedPayer, waitForDeduction, type Gateway } from './helpers.js';

/**
 * Collection against Alipay faults (ALIPAY.md §4.4, §4.16): whatever Alipay answers, each deduction ends
 * with exactly one charge on the sandbox ledger. Time is shrunk through configuration: the school's retry
 * schedule is 3 × 300 s scaled by 0.001 (300 ms), trade polls every 100 ms for 1.5 s, the SDK gives up
 * after 1 s.
 */
describe('collecting approved swipes from Alipay', () => {
  let stack: Stack;
  let gateway: Gateway;
  before(async () => {
    stack = await startStack({
      env: {
        DEDUCTION_RETRY_SCALE: '0.001',
        DEDUCTION_POLL_INTERVAL_MS: '100',
        DEDUCTION_POLL_WINDOW_MS: '1500',
        ALIPAY_TIMEOUT_MS: '1000',
      },
      schoolSettings: { retryScheduleSeconds: [300, 300, 300] },
    });
    gateway = await gatewayFor(stack);
  });
  afterEach(() => stack.alipay.control.clearFaults());
  after(() => stack.stop());

  async function approve(payer: { card: { cardNo: string } }, amountFen: number) {
    const res = await gateway.deduct(sale(payer.card.cardNo, amountFen));
    assert.equal(res.body.decision, 'APPROVED', res.text);
    return res.body as { txnNo: string; deductionId: string };
  }

  async function expectOneCharge(deductionId: string, amountFen: number) {
    const { paid, refundedFen } = await chargesOf(stack, deductionId);
    assert.equal(paid.length, 1, 'exactly one paid trade');
    assert.equal(paid[0].totalFen, amountFen);
    assert.equal(refundedFen, 0);
  }

  it('retries a payer whose balance ran out, and collects with the retry once the balance is back', async () => {
    const payer = await signedPayer(stack, { balanceFen: 0 });
    const approved = await approve(payer, 800);
    const retrying = await waitForDeduction(gateway, approved.txnNo, 'RETRYING');
    assert.equal(retrying.attempts[0].code, 'ACQ.BUYER_BALANCE_NOT_ENOUGH');
    const debts = (await payer.api.get('/api/v1/debts')).body;
    assert.equal(debts.totalFen, 800);
    assert.equal(debts.items[0].status, 'RETRYING');
    assert.equal(debts.items[0].lastErrorCode, 'ACQ.BUYER_BALANCE_NOT_ENOUGH');
    await stack.alipay.control.setBalance(payer.user.userId, 5_000);
    await waitForDeduction(gateway, approved.txnNo, 'COLLECTED');
    await expectOneCharge(approved.deductionId, 800);
    assert.equal((await stack.alipay.control.getUser(payer.user.userId)).balanceFen, 4_200);
  });

  it('finds the money with a query when Alipay took it but answered SYSTEM_ERROR', async () => {
    const payer = await signedPayer(stack);
    await stack.alipay.control.injectApiFault({
      method: 'alipay.trade.pay',
      times: 1,
      error: { subCode: 'ACQ.SYSTEM_ERROR' },
      applyEffect: true,
    });
    const approved = await approve(payer, 650);
    const detail = await waitForDeduction(gateway, approved.txnNo, 'COLLECTED');
    assert.equal(detail.attempts.at(-1).outcome, 'PAID_FOUND_BY_QUERY');
    await expectOneCharge(approved.deductionId, 650);
  });

  it('charges once when trade.pay hangs past the SDK timeout after taking the money', async () => {
    const payer = await signedPayer(stack);
    await stack.alipay.control.injectApiFault({
      method: 'alipay.trade.pay',
      times: 1,
      hangMs: 2_500,
      applyEffect: true,
    });
    const approved = await approve(payer, 420);
    await waitForDeduction(gateway, approved.txnNo, 'COLLECTED');
    await expectOneCharge(approved.deductionId, 420);
  });

  it('pays again under the same out_trade_no when a timed-out call never reached Alipay', async () => {
    const payer = await signedPayer(stack);
    await stack.alipay.control.injectApiFault({ method: 'alipay.trade.pay', times: 1, hangMs: 2_500 });
    const approved = await approve(payer, 330);
    await waitForDeduction(gateway, approved.txnNo, 'COLLECTED');
    await expectOneCharge(approved.deductionId, 330);
    assert.equal((await chargesOf(stack, approved.deductionId)).trades[0].outTradeNo, approved.deductionId);
  });

  it('polls a 10003 trade until the buyer confirms', async () => {
    const payer = await signedPayer(stack);
    await stack.alipay.control.injectApiFault({
      method: 'alipay.trade.pay',
      times: 1,
      payInProcess: { completeAfterMs: 300, outcome: 'success' },
    });
    const approved = await approve(payer, 900);
    const detail = await waitForDeduction(gateway, approved.txnNo, 'COLLECTED');
    assert.deepEqual(
      [detail.attempts[0].outcome, detail.attempts.at(-1).outcome],
      ['AWAITING_BUYER', 'PAID_ON_POLL'],
    );
    await expectOneCharge(approved.deductionId, 900);
  });

  it('cancels a 10003 trade the buyer never confirms and collects under a new out_trade_no', async () => {
    const payer = await signedPayer(stack);
    await stack.alipay.control.injectApiFault({
      method: 'alipay.trade.pay',
      times: 1,
      payInProcess: {},
    });
    const approved = await approve(payer, 560);
    await waitForDeduction(gateway, approved.txnNo, 'COLLECTED');
    const { trades, paid } = await chargesOf(stack, approved.deductionId);
    assert.deepEqual(trades.map((t) => [t.outTradeNo, t.status]).sort(), [
      [approved.deductionId, 'TRADE_CLOSED'],
      [`${approved.deductionId}_2`, 'TRADE_SUCCESS'],
    ]);
    assert.equal(paid.length, 1);
  });

  it('keeps a debt whose retry is waiting for the buyer out of a repayment, so it cannot be paid twice', async () => {
    const payer = await signedPayer(stack, { balanceFen: 0 });
    const approved = await approve(payer, 650);
    await waitForDeduction(gateway, approved.txnNo, 'RETRYING');
    // The retry's trade.pay answers 10003: a trade now waits for the buyer under this debt.
    await stack.alipay.control.injectApiFault({ method: 'alipay.trade.pay', times: 1, payInProcess: {} });
    const waiting = await eventually(async () => {
      const detail = (await gateway.get(`/gateway/v1/deductions/${approved.txnNo}`)).body;
      return detail.attempts.some((a: { outcome: string }) => a.outcome === 'AWAITING_BUYER')
        ? detail
        : undefined;
    });
    assert.equal(waiting.status, 'RETRYING', 'a debt waiting for the buyer is still a debt');
    const repay = await payer.api.post('/api/v1/debts/repay', {});
    assert.equal(repay.status, 409, repay.text);
    assert.equal(repay.body.error.code, 'NO_DEBTS');

    await stack.alipay.control.setBalance(payer.user.userId, 10_000);
    await waitForDeduction(gateway, approved.txnNo, 'COLLECTED');
    const { paid } = await chargesOf(stack, approved.deductionId);
    assert.equal(paid.length, 1);
  });

  it('declines new swipes while the payer owes (IN_ARREARS), settles them with one repayment, then approves again', async () => {
    const payer = await signedPayer(stack, { balanceFen: 0, cardBalanceFen: 5_000 });
    const first = await approve(payer, 700);
    await waitForDeduction(gateway, first.txnNo, 'ARREARS');
    const blocked = await gateway.deduct(sale(payer.card.cardNo, 100));
    assert.deepEqual([blocked.body.decision, blocked.body.reason], ['DECLINED', 'IN_ARREARS']);

    const debts = (await payer.api.get('/api/v1/debts')).body;
    assert.equal(debts.totalFen, 700);
    assert.equal(debts.items[0].status, 'ARREARS');
    assert.equal(debts.items[0].attempts, 4);
    assert.equal((await payer.api.delete('/api/v1/withholding')).body.error.code, 'HAS_ARREARS');

    await stack.alipay.control.setBalance(payer.user.userId, 2_000);
    const repay = await payer.api.post('/api/v1/debts/repay', {});
    assert.equal(repay.status, 201, repay.text);
    assert.equal(repay.body.amountFen, 700);
    const again = await payer.api.post('/api/v1/debts/repay', {});
    assert.equal(again.body.repaymentId, repay.body.repaymentId, 'the open repayment is handed out again');
    assert.equal(
      (await payer.api.get('/api/v1/debts')).body.pendingRepayment.repaymentId,
      repay.body.repaymentId,
    );
    await stack.alipay.control.payTrade({ tradeNO: repay.body.tradeNo, userId: payer.user.userId });
    await eventually(
      async () =>
        (await payer.api.get(`/api/v1/debts/repayments/${repay.body.repaymentId}`)).body.status === 'PAID',
    );
    await waitForDeduction(gateway, first.txnNo, 'SETTLED');
    assert.equal((await payer.api.get('/api/v1/debts')).body.totalFen, 0);
    assert.equal((await payer.api.get('/api/v1/me')).body.debts.count, 0);
    assert.equal((await chargesOf(stack, first.deductionId)).paid.length, 0, 'never charged by withholding');

    const resumed = await approve(payer, 300);
    await waitForDeduction(gateway, resumed.txnNo, 'COLLECTED');
    assert.equal((await stack.alipay.control.getUser(payer.user.userId)).balanceFen, 2_000 - 700 - 300);
  });

  it('puts a deduction in arrears at once when the agreement is gone (final failure)', async () => {
    const payer = await signedPayer(stack);
    await stack.alipay.control.injectApiFault({
      method: 'alipay.trade.pay',
      times: 1,
      error: { subCode: 'ACQ.AGREEMENT_INVALID' },
    });
    const approved = await approve(payer, 200);
    const detail = await waitForDeduction(gateway, approved.txnNo, 'ARREARS');
    assert.equal(detail.attempts.length, 1);
    assert.equal(detail.attempts[0].outcome, 'AGREEMENT_GONE');
  });
});
