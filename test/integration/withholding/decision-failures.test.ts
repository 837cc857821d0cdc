import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import pg from 'pg';
import {
  DecisionBatchFailed,
  DecisionBatches,
  SwipeDecisionFailed,
} from '../../../server/src/db/repos/withholding/decision-batches.js';
import type { DecisionInput } from '../../../server/src/db/repos/withholding/deductions.js';
import { DomainError } from '../../../server/src/domain/errors.js';
import { decideDeduction, type GatewayCaller } from '../../../server/src/domain/withholding/deductions.js';
import { startStack, type Stack } from '../../support/stack.js';
import {
  failCommitsOfTerminal,
  gatewayFor,
  sale,
  signedPayerWithoutWorker,
  txnNo,
  type Gateway,
} from './helpers.js';

/**
 * When a swipe cannot be decided (issue 18's batches, db/repos/withholding/decision-batches.ts): a batch
 * whose transaction failed wrote nothing, so each of its swipes is answered 503 "send it again with the same
 * txnNo"; a swipe whose own rules failed, or that its batch gave no answer for, fails alone, as an error of
 * ours (500), while the other swipes of its batch are decided. Swipes are grouped by hand here (one turn of
 * the event loop: one batch); the route's own batches answer the same way.
 */
describe('what the POS hears when a swipe cannot be decided', () => {
  let stack: Stack;
  let gateway: Gateway;
  const batchOf = (pool: pg.Pool) => new DecisionBatches(pool, { maxSwipes: 8, windowMs: 0, inFlight: 1 });
  before(async () => {
    stack = await startStack({ env: { ROLE: 'api' } });
    gateway = await gatewayFor(stack);
  });
  after(() => stack.stop());

  const caller = (): GatewayCaller => ({
    clientId: gateway.clientId,
    schoolId: stack.school.id,
    nonce: crypto.randomUUID(),
    nonceExpiresAt: new Date(Date.now() + 600_000),
  });
  const swipe = (cardNo: string, terminalId = 'POS-01') => ({
    txnNo: txnNo(),
    cardNo,
    amountFen: 100,
    terminalId,
    occurredAt: new Date(),
  });
  const input = (cardNo: string): DecisionInput => ({
    ...caller(),
    ...swipe(cardNo),
    dynamicCodeHash: null,
    deductionNo: `D${crypto.randomInt(2 ** 47)}`,
    now: new Date(),
  });

  async function recorded(txnNos: string[]) {
    const { rows } = await stack.app.deps.pool.query(
      'select txn_no, decision from deductions where school_id = $1 and txn_no = any($2) order by txn_no',
      [stack.school.id, txnNos],
    );
    return rows as Array<{ txn_no: string; decision: string }>;
  }

  it('answers every swipe of a batch whose transaction failed 503 "send it again with the same txnNo", and records none', async () => {
    const payer = await signedPayerWithoutWorker(stack);
    const undoFailure = await failCommitsOfTerminal(stack, 'POS-FAIL-BATCH');
    try {
      const batches = batchOf(stack.app.deps.pool);
      const swipes = [swipe(payer.card.cardNo), swipe(payer.card.cardNo, 'POS-FAIL-BATCH')];
      const settled = await Promise.allSettled(
        swipes.map((s) => decideDeduction(stack.app.deps, batches, caller(), s)),
      );
      const message =
        'The decision could not be made and nothing was recorded: send the swipe again with the same txnNo';
      for (const result of settled) {
        assert.equal(result.status, 'rejected');
        const error = (result as PromiseRejectedResult).reason as DomainError;
        assert.ok(error instanceof DomainError);
        assert.deepEqual(
          [error.code, error.status, error.message, error.field],
          ['SERVICE_UNAVAILABLE', 503, message, undefined],
        );
        // What the log shows of it: the batch that failed, and why.
        const cause = error.cause as DecisionBatchFailed;
        assert.ok(cause instanceof DecisionBatchFailed);
        assert.deepEqual(
          [cause.name, cause.message],
          ['DecisionBatchFailed', 'a batch of 2 swipe decisions failed; nothing was written'],
        );
        assert.match((cause.cause as Error).message, /injected: this commit fails/);
      }
      assert.deepEqual(await recorded(swipes.map((s) => s.txnNo)), []);

      const failed = await gateway.deduct(sale(payer.card.cardNo, 100, { terminalId: 'POS-FAIL-BATCH' }));
      assert.equal(failed.status, 503, failed.text);
      assert.deepEqual(failed.body.error, { code: 'SERVICE_UNAVAILABLE', message });
    } finally {
      await undoFailure();
    }
  });

  it('fails a swipe whose own rules failed alone, as an error of ours (500, not "send it again")', async () => {
    const [one, other] = [await signedPayerWithoutWorker(stack), await signedPayerWithoutWorker(stack)];
    // A real constraint that this one swipe breaks (the kind of failure no rule foresees).
    await stack.app.deps.pool.query(
      `alter table deductions add constraint test_no_bad_terminal check (terminal_id <> 'POS-BAD') not valid`,
    );
    try {
      const batches = batchOf(stack.app.deps.pool);
      const swipes = [swipe(one.card.cardNo), swipe(other.card.cardNo, 'POS-BAD')];
      const [good, bad] = await Promise.allSettled(
        swipes.map((s) => decideDeduction(stack.app.deps, batches, caller(), s)),
      );
      assert.equal(good.status === 'fulfilled' && good.value.decision, 'APPROVED');
      assert.equal(bad.status, 'rejected');
      const error = (bad as PromiseRejectedResult).reason as SwipeDecisionFailed;
      assert.ok(error instanceof SwipeDecisionFailed);
      assert.equal(error.name, 'SwipeDecisionFailed');
      assert.match(error.message, /^swipe decision failed: 23514 /);
      assert.deepEqual(await recorded([swipes[0].txnNo]), [
        { txn_no: swipes[0].txnNo, decision: 'APPROVED' },
      ]);

      const failed = await gateway.deduct(sale(other.card.cardNo, 100, { terminalId: 'POS-BAD' }));
      assert.deepEqual([failed.status, failed.body.error.code], [500, 'INTERNAL']);
    } finally {
      await stack.app.deps.pool.query('alter table deductions drop constraint test_no_bad_terminal');
    }
  });

  it('fails a swipe its batch returned no answer for, and only that one', async () => {
    const payer = await signedPayerWithoutWorker(stack);
    // decide_deductions as seen through a schema that loses the second swipe's answer.
    await stack.app.deps.pool.query(`
      create schema test_gap;
      create function test_gap.decide_deductions(p_swipes jsonb) returns table (
        swipe integer, outcome text, deduction_id uuid, deduction_no text, decision text,
        decline_reason text, status text, card_no text, error text
      ) language sql as $$ select * from public.decide_deductions(p_swipes) d where d.swipe <> 2 $$;`);
    const pool = new pg.Pool({
      connectionString: stack.app.databaseUrl,
      options: '-c search_path=test_gap,public',
    });
    try {
      const batches = batchOf(pool);
      const settled = await Promise.allSettled(
        [input(payer.card.cardNo), input(payer.card.cardNo), input(payer.card.cardNo)].map((i) =>
          batches.decide(i),
        ),
      );
      assert.deepEqual(
        settled.map((s) => s.status),
        ['fulfilled', 'rejected', 'fulfilled'],
      );
      const error = (settled[1] as PromiseRejectedResult).reason as SwipeDecisionFailed;
      assert.ok(error instanceof SwipeDecisionFailed);
      assert.equal(error.message, 'no answer for swipe 2 of its batch');
    } finally {
      await pool.end();
      await stack.app.deps.pool.query('drop schema test_gap cascade');
    }
  });
});
