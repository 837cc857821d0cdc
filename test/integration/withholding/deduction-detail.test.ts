import assert from 'node:assert/strict';
import { startStack, type Stack } from '../../support/stack.js';
import { userWithCard } from '../student/helpers.js';
import { gatewayFor, sale, signedPayer, txnNo, waitForDeduction, type Gateway } from './helpers.js';

/**
 * What the POS gateway shows of a swipe (GET /gateway/v1/deductions/:txnNo, docs/gateway-api.md), read whole:
 * the till reconciles its sales with it, so every field is the stored fact, for a collected swipe, a reversed
 * one, a declined one and a reversal that came before its swipe. Collection time is shrunk as in
 * alipay-answers.test.ts (retry slots of 300 ms).
 */
describe('what the POS gateway shows of a swipe', () => {
  let stack: Stack;
  let gateway: Gateway;
  before(async () => {
    stack = await startStack({
      env: { DEDUCTION_RETRY_SCALE: '0.001', DEDUCTION_POLL_INTERVAL_MS: '100' },
      schoolSettings: { retryScheduleSeconds: [300, 300, 300] },
    });
    gateway = await gatewayFor(stack);
  });
  afterEach(() => stack.alipay.control.clearFaults());
  after(() => stack.stop());

  /** The stored times of a deduction and of its attempts, as the gateway writes them (ISO 8601). */
  async function storedTimes(deductionNo: string) {
    const { rows } = await stack.app.deps.pool.query(
      `select d.collected_at, d.reversal_requested_at,
              coalesce(array_agg(a.created_at order by a.id) filter (where a.id is not null), '{}') as attempts
         from deductions d left join deduction_attempts a on a.deduction_id = d.id
        where d.deduction_no = $1 group by d.id`,
      [deductionNo],
    );
    const row = rows[0] as {
      collected_at: Date | null;
      reversal_requested_at: Date | null;
      attempts: Date[];
    };
    return {
      collectedAt: row.collected_at?.toISOString() ?? null,
      reversalRequestedAt: row.reversal_requested_at?.toISOString() ?? null,
      attemptsAt: row.attempts.map((at) => at.toISOString()),
    };
  }

  it('shows a collected swipe whole: card, sale, each attempt with its Alipay code and time, when it was collected', async () => {
    const payer = await signedPayer(stack);
    await stack.alipay.control.injectApiFault({
      method: 'alipay.trade.pay',
      times: 1,
      error: { subCode: 'ACQ.SELLER_BALANCE_NOT_ENOUGH' },
    });
    const body = sale(payer.card.cardNo, 430, {
      terminalId: 'POS-DETAIL',
      occurredAt: new Date(Date.now() - 60_000).toISOString(),
    });
    const answer = await gateway.deduct(body);
    assert.equal(answer.body.decision, 'APPROVED', answer.text);
    const detail = await waitForDeduction(gateway, body.txnNo, 'COLLECTED');
    const times = await storedTimes(answer.body.deductionId);
    assert.deepEqual(detail, {
      txnNo: body.txnNo,
      deductionId: answer.body.deductionId,
      decision: 'APPROVED',
      status: 'COLLECTED',
      cardNo: payer.card.cardNo,
      byDynamicCode: false,
      amountFen: 430,
      terminalId: 'POS-DETAIL',
      occurredAt: body.occurredAt,
      attempts: [
        {
          attemptNo: 1,
          outcome: 'RETRYABLE',
          code: 'ACQ.SELLER_BALANCE_NOT_ENOUGH',
          at: times.attemptsAt[0],
        },
        { attemptNo: 2, outcome: 'PAID', code: null, at: times.attemptsAt[1] },
      ],
      collectedAt: times.collectedAt,
      reversal: null,
    });
    assert.ok(times.collectedAt, 'collected_at is stored');
    // The attempts log keeps Alipay's answer as it came: its code and sub-code (none on the payment).
    const { rows } = await stack.app.deps.pool.query(
      `select a.alipay_code, a.alipay_sub_code from deduction_attempts a
         join deductions d on d.id = a.deduction_id where d.deduction_no = $1 order by a.id`,
      [answer.body.deductionId],
    );
    assert.deepEqual(
      rows.map((row) => [row.alipay_code, row.alipay_sub_code]),
      [
        ['40004', 'ACQ.SELLER_BALANCE_NOT_ENOUGH'],
        [null, null],
      ],
    );
  });

  it('shows a reversed collected swipe with when the reversal was asked and that its refund went through', async () => {
    const payer = await signedPayer(stack);
    const body = sale(payer.card.cardNo, 440);
    const answer = await gateway.deduct(body);
    await waitForDeduction(gateway, body.txnNo, 'COLLECTED');
    await gateway.reverse(body.txnNo);
    const detail = await waitForDeduction(gateway, body.txnNo, 'REVERSED');
    const times = await storedTimes(answer.body.deductionId);
    assert.deepEqual(
      [detail.decision, detail.collectedAt, detail.reversal],
      ['APPROVED', times.collectedAt, { requestedAt: times.reversalRequestedAt, refund: 'REFUNDED' }],
    );
  });

  it('shows a declined swipe with its reason, its sale and no attempts', async () => {
    const { card } = await userWithCard(stack);
    const body = sale(card.cardNo, 450, { terminalId: 'POS-DECLINE' });
    const answer = await gateway.deduct(body);
    const detail = (await gateway.get(`/gateway/v1/deductions/${body.txnNo}`)).body;
    assert.deepEqual(detail, {
      txnNo: body.txnNo,
      deductionId: answer.body.deductionId,
      decision: 'DECLINED',
      reason: 'NOT_BOUND',
      status: answer.body.status,
      cardNo: card.cardNo,
      byDynamicCode: false,
      amountFen: 450,
      terminalId: 'POS-DECLINE',
      occurredAt: body.occurredAt,
      attempts: [],
      collectedAt: null,
      reversal: null,
    });
  });

  it('shows a reversal that came before its swipe: no card and no sale, nothing to refund', async () => {
    const txn = txnNo();
    const reversed = await gateway.reverse(txn);
    assert.equal(reversed.status, 200, reversed.text);
    const times = await storedTimes(reversed.body.deductionId);
    assert.deepEqual(reversed.body, {
      txnNo: txn,
      deductionId: reversed.body.deductionId,
      decision: 'DECLINED',
      reason: 'REVERSED',
      status: 'REVERSED',
      cardNo: null,
      byDynamicCode: false,
      amountFen: null,
      terminalId: null,
      occurredAt: null,
      attempts: [],
      collectedAt: null,
      reversal: { requestedAt: times.reversalRequestedAt, refund: 'NOT_NEEDED' },
    });
    assert.deepEqual((await gateway.get(`/gateway/v1/deductions/${txn}`)).body, reversed.body);
  });

  it('names the txnNo field when a repeated txnNo comes with another amount (409 TXN_CONFLICT)', async () => {
    const { card } = await userWithCard(stack);
    const body = sale(card.cardNo, 460);
    await gateway.deduct(body);
    const conflict = await gateway.deduct({ ...body, amountFen: 461 });
    assert.deepEqual(
      [conflict.status, conflict.body.error.code, conflict.body.error.field],
      [409, 'TXN_CONFLICT', 'body.txnNo'],
    );
  });
});
