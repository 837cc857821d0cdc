import assert from 'node:assert/strict';
import pg from 'pg';
import {
  findDeductionByTxn,
  findUnrefundedReversals,
} from '../../../server/src/db/repos/withholding/deductions.js';
import { collectDeduction } from '../../../server/src/domain/withholding/deduction-collection.js';
import { eventually } from '../../support/http.js';
import { startStack, type Stack } from '../../support/stack.js';
import { userWithCard } from '../student/helpers.js';
import {
  chargesOf,
  claimAsCollector,
  gatewayFor,
  sale,
  signedPayerWithoutWorker,
  type Gateway,
  type Payer,
} from './helpers.js';

/**
 * A reversal of a swipe the collectors have had in hand (DESIGN §6.2, domain reverseDeduction): a charge of
 * unknown outcome is resolved by the collector first — the reversal makes it due now and wakes the
 * collectors —, a swipe nothing was charged for is voided at once, one a repayment settled is refunded at
 * once. This suite plays the collectors itself (ROLE=api: no job runs), so that what the reversal itself
 * did is all there is to see; it LISTENs on the collectors' wake-up channel.
 */
describe('reversing a swipe the collectors have had in hand', () => {
  let stack: Stack;
  let gateway: Gateway;
  let listener: pg.Client;
  const wakeUps: string[] = [];
  before(async () => {
    stack = await startStack({
      env: { ROLE: 'api', DEDUCTION_LEASE_MS: '1000', DEDUCTION_POLL_INTERVAL_MS: '100' },
    });
    gateway = await gatewayFor(stack);
    listener = new pg.Client({ connectionString: stack.app.databaseUrl });
    await listener.connect();
    listener.on('notification', (message) => {
      if (message.channel === 'deductions_due') wakeUps.push(message.payload ?? '');
    });
    await listener.query('listen deductions_due');
  });
  beforeEach(() => {
    wakeUps.length = 0;
  });
  afterEach(() => stack.alipay.control.clearFaults());
  after(async () => {
    await listener?.end();
    await stack?.stop();
  });

  async function approve(payer: Payer, amountFen: number) {
    const res = await gateway.deduct(sale(payer.card.cardNo, amountFen));
    assert.equal(res.body.decision, 'APPROVED', res.text);
    // The approval's own wake-up, so that the ones after it are the reversal's.
    await eventually(async () => wakeUps.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    wakeUps.length = 0;
    return res.body as { txnNo: string; deductionId: string };
  }

  const claim = (txnNo: string, leaseMs?: number) => claimAsCollector(stack, txnNo, leaseMs);

  async function stored(txnNo: string) {
    const { rows } = await stack.app.deps.pool.query(
      `select d.status, d.next_attempt_at, d.reversal_requested_at, d.reversed_at,
              array_agg(a.created_at order by a.id) filter (where a.id is not null) as attempts_at
         from deductions d left join deduction_attempts a on a.deduction_id = d.id
        where d.school_id = $1 and d.txn_no = $2 group by d.id`,
      [stack.school.id, txnNo],
    );
    return rows[0] as {
      status: string;
      next_attempt_at: Date | null;
      reversal_requested_at: Date | null;
      reversed_at: Date | null;
      attempts_at: Date[] | null;
    };
  }

  it('makes a swipe whose charge has an unknown outcome due now and wakes the collectors, who void it once Alipay has no trade', async () => {
    const payer = await signedPayerWithoutWorker(stack);
    const approved = await approve(payer, 480);
    // A collector claimed it (marked possibly charged) and died before its trade.pay; its lease ran out.
    await claim(approved.txnNo, 200);
    await new Promise((resolve) => setTimeout(resolve, 300));

    const reversed = await gateway.reverse(approved.txnNo);
    assert.equal(reversed.status, 200, reversed.text);
    assert.deepEqual(
      [reversed.body.status, reversed.body.reversal.refund],
      ['PENDING', 'NOT_NEEDED'],
      'the open charge is resolved first',
    );
    const asked = await stored(approved.txnNo);
    assert.deepEqual(asked.next_attempt_at, asked.reversal_requested_at, 'due at once');
    await eventually(async () => wakeUps.length > 0, { message: 'the collectors are woken' });

    // The collector's turn: it asks Alipay, finds no trade, and voids the swipe instead of charging it.
    const row = await claim(approved.txnNo, 60_000);
    await collectDeduction(stack.app.deps, row, { school: stack.school });
    const voided = await stored(approved.txnNo);
    assert.equal(voided.status, 'REVERSED');
    assert.ok(voided.reversed_at, 'when it was voided is recorded');
    assert.deepEqual(voided.reversed_at, voided.attempts_at?.at(-1), 'voided by that attempt');
    assert.deepEqual((await chargesOf(stack, approved.deductionId)).trades, []);
    const detail = (await gateway.get(`/gateway/v1/deductions/${approved.txnNo}`)).body;
    assert.deepEqual([detail.status, detail.reversal.refund], ['REVERSED', 'NOT_NEEDED']);
  });

  it('wakes the collectors for an approval only: not for a decline, nor for a repeat of an approved txnNo', async () => {
    const payer = await signedPayerWithoutWorker(stack);
    const approved = sale(payer.card.cardNo, 470);
    assert.equal((await gateway.deduct(approved)).body.decision, 'APPROVED');
    await eventually(async () => wakeUps.length === 1, { message: 'the approval wakes them' });
    const { card } = await userWithCard(stack);
    const declined = await gateway.deduct(sale(card.cardNo, 470));
    assert.deepEqual([declined.body.decision, declined.body.reason], ['DECLINED', 'NOT_BOUND']);
    assert.equal(
      (await gateway.deduct(approved)).body.decision,
      'APPROVED',
      'the repeat gets its first answer',
    );
    // A wake-up of either would have been sent before its answer: a marker sent now comes after it.
    await stack.app.deps.pool.query(`select pg_notify('deductions_due', 'marker')`);
    await eventually(async () => wakeUps.includes('marker'));
    assert.deepEqual(wakeUps, ['', 'marker'], "one wake-up, the approval's");
  });

  it('voids a swipe nothing was charged for at once, without waking the collectors', async () => {
    const payer = await signedPayerWithoutWorker(stack);
    const approved = await approve(payer, 490);
    const reversed = await gateway.reverse(approved.txnNo);
    assert.deepEqual(
      [reversed.status, reversed.body.status, reversed.body.reversal.refund],
      [200, 'REVERSED', 'NOT_NEEDED'],
    );
    const voided = await stored(approved.txnNo);
    assert.deepEqual([voided.next_attempt_at, voided.reversed_at], [null, voided.reversal_requested_at]);
    // A wake-up of the reversal would have been sent before its answer: a marker sent now comes after it.
    await stack.app.deps.pool.query(`select pg_notify('deductions_due', 'marker')`);
    await eventually(async () => wakeUps.includes('marker'));
    assert.deepEqual(wakeUps, ['marker'], 'nothing for the collectors to do');
  });

  it('refunds a reversed swipe that a repayment settled, on the repayment trade that paid it; PENDING and left to the refund sweep while Alipay has not answered', async () => {
    const payer = await signedPayerWithoutWorker(stack);
    const approved = await approve(payer, 840);
    // Alipay refuses the charge for good: the swipe is owed (ARREARS), and the payer repays it.
    await stack.alipay.control.injectApiFault({
      method: 'alipay.trade.pay',
      times: 1,
      error: { subCode: 'ACQ.AGREEMENT_INVALID' },
    });
    await collectDeduction(stack.app.deps, await claim(approved.txnNo, 60_000), { school: stack.school });
    assert.equal((await stored(approved.txnNo)).status, 'ARREARS');
    const repay = await payer.api.post('/api/v1/debts/repay', {});
    assert.equal(repay.status, 201, repay.text);
    await stack.alipay.control.payTrade({ tradeNO: repay.body.tradeNo, userId: payer.user.userId });
    await eventually(async () => (await stored(approved.txnNo)).status === 'SETTLED');
    const id = (await findDeductionByTxn(stack.app.deps.db, stack.school.id, approved.txnNo))!.id;
    const swept = async () =>
      (await findUnrefundedReversals(stack.app.deps.db, new Date(), 1_000)).some((row) => row.id === id);
    assert.equal(await swept(), false, 'no reversal asked yet');

    // The first refund gets no answer: still SETTLED, its refund PENDING, and the sweep's to finish.
    await stack.alipay.control.injectApiFault({
      method: 'alipay.trade.refund',
      times: 1,
      error: { subCode: 'ACQ.SYSTEM_ERROR' },
    });
    const pending = await gateway.reverse(approved.txnNo);
    assert.deepEqual(
      [pending.status, pending.body.status, pending.body.reversal.refund],
      [200, 'SETTLED', 'PENDING'],
    );
    assert.equal(await swept(), true, 'the refund sweep finds it');

    const reversed = await gateway.reverse(approved.txnNo);
    assert.deepEqual(
      [reversed.status, reversed.body.status, reversed.body.reversal.refund],
      [200, 'REVERSED', 'REFUNDED'],
    );
    const { trades } = await stack.alipay.control.ledger({});
    const repaid = trades.find((t) => t.tradeNo === repay.body.tradeNo)!;
    assert.equal(repaid.refundedFen, 840);
    assert.equal(repaid.refunds.length, 1, 'refunded once, under one request number');
    assert.equal(await swept(), false, 'nothing left for the sweep');
    assert.equal(
      (await findDeductionByTxn(stack.app.deps.db, stack.school.id, approved.txnNo))!.refundOutRequestNo,
      `${approved.deductionId}_R`,
    );
  });
});
