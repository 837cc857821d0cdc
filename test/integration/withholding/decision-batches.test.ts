import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import pg from 'pg';
import {
  DecisionBatchFailed,
  DecisionBatches,
  SwipeDecisionFailed,
} from '../../../server/src/db/repos/withholding/decision-batches.js';
import { decideSwipes, type DecisionInput } from '../../../server/src/db/repos/withholding/deductions.js';
import { dynamicCodeHash } from '../../../server/src/domain/membercard/dynamic-codes.js';
import { deductionDecisionBatches } from '../../../server/src/lib/metrics.js';
import { eventually } from '../../support/http.js';
import { startStack, type Stack } from '../../support/stack.js';
import { cardInWallet, dynamicCode } from '../membercard/helpers.js';
import { failCommitsOfTerminal, gatewayFor, sale, signedPayer, txnNo, type Gateway } from './helpers.js';

/**
 * Swipes decided together (issue 18 §1): decide_deductions decides a batch in one transaction, each swipe
 * as if the ones before it in the batch had committed; the route's DecisionBatches groups the swipes that
 * arrive together. The rules of one swipe are pinned by decision-rules.test.ts (a batch of one).
 */
const LIMITS = { txnLimitFen: 5_000, dailyLimitFen: 5_000 };

interface Answer {
  swipe: number;
  outcome: string;
  deduction_no: string | null;
  decision: string | null;
  decline_reason: string | null;
  error: string | null;
}

function swipeFor(stack: Stack, input: Partial<DecisionInput> & { cardNo: string | null }): DecisionInput {
  const now = input.now ?? new Date();
  return {
    clientId: 'gw_batch',
    nonce: crypto.randomUUID(),
    nonceExpiresAt: new Date(now.getTime() + 600_000),
    schoolId: stack.school.id,
    txnNo: txnNo(),
    dynamicCodeHash: null,
    amountFen: 100,
    terminalId: 'POS-1',
    occurredAt: now,
    deductionNo: `D${crypto.randomInt(2 ** 47)}`,
    now,
    ...input,
  };
}

/** decide_deductions as the batcher calls it, on any connection (one held open in a transaction, too). */
async function decideBatch(
  executor: { query: pg.Pool['query'] },
  swipes: DecisionInput[],
): Promise<Answer[]> {
  const { rows } = await executor.query('select * from decide_deductions($1::jsonb)', [
    JSON.stringify(
      swipes.map((s) => ({
        client_id: s.clientId,
        nonce: s.nonce,
        nonce_expires_at: s.nonceExpiresAt,
        school_id: s.schoolId,
        txn_no: s.txnNo,
        card_no: s.cardNo,
        dynamic_code_hash: s.dynamicCodeHash,
        amount_fen: s.amountFen,
        terminal_id: s.terminalId,
        occurred_at: s.occurredAt,
        deduction_no: s.deductionNo,
        decided_at: s.now,
      })),
    ),
  ]);
  return rows;
}

const answerOf = (a: Answer) =>
  a.outcome === 'NEW' || a.outcome === 'REPEAT' ? (a.decline_reason ?? a.decision) : a.outcome;

async function deductionsOf(stack: Stack, txnNos: string[]) {
  const { rows } = await stack.app.deps.pool.query(
    'select txn_no, decision, decline_reason, amount_fen from deductions where school_id = $1 and txn_no = any($2)',
    [stack.school.id, txnNos],
  );
  return rows;
}

describe('deciding a batch of swipes in one transaction', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ schoolSettings: LIMITS, membercard: {} });
  });
  after(() => stack.stop());

  it('decides the swipes in the order they came: the same card at its daily limit approves the first only', async () => {
    const payer = await signedPayer(stack);
    // "Later" swipes stay PENDING (not due), so the day's sum is exactly what the test made.
    const now = new Date('2031-02-03T04:00:00Z');
    const answers = await decideBatch(stack.app.deps.pool, [
      swipeFor(stack, { cardNo: payer.card.cardNo, amountFen: 3_000, now }),
      swipeFor(stack, { cardNo: payer.card.cardNo, amountFen: 2_500, now }),
      swipeFor(stack, { cardNo: payer.card.cardNo, amountFen: 2_000, now }),
    ]);
    assert.deepEqual(answers.map(answerOf), ['APPROVED', 'OVER_DAILY_LIMIT', 'APPROVED']);
    assert.deepEqual(
      answers.map((a) => a.swipe),
      [1, 2, 3],
    );
  });

  it('answers a txnNo repeated in one batch with its first answer, and a conflict for another amount', async () => {
    const payer = await signedPayer(stack);
    const first = swipeFor(stack, { cardNo: payer.card.cardNo, amountFen: 100 });
    const answers = await decideBatch(stack.app.deps.pool, [
      first,
      { ...first, nonce: crypto.randomUUID(), deductionNo: `D${crypto.randomInt(2 ** 47)}` },
      { ...first, nonce: crypto.randomUUID(), amountFen: 200, deductionNo: `D${crypto.randomInt(2 ** 47)}` },
    ]);
    assert.deepEqual(
      answers.map((a) => a.outcome),
      ['NEW', 'REPEAT', 'CONFLICT'],
    );
    assert.equal(answers[1].deduction_no, answers[0].deduction_no);
    assert.equal((await deductionsOf(stack, [first.txnNo])).length, 1);
  });

  it('spends one nonce once: of two swipes of a batch with one nonce, the first is decided, the second is a replay', async () => {
    const payer = await signedPayer(stack);
    const first = swipeFor(stack, { cardNo: payer.card.cardNo });
    const second = swipeFor(stack, { cardNo: payer.card.cardNo, nonce: first.nonce });
    const answers = await decideBatch(stack.app.deps.pool, [first, second]);
    assert.deepEqual(answers.map(answerOf), ['APPROVED', 'REPLAY']);
    assert.deepEqual(
      (await deductionsOf(stack, [first.txnNo, second.txnNo])).map((d) => d.txn_no),
      [first.txnNo],
    );
  });

  it('fails one bad swipe alone: the others of its batch are decided and recorded', async () => {
    const [one, other] = await Promise.all([signedPayer(stack), signedPayer(stack)]);
    // A real constraint that this one swipe breaks (the kind of failure no rule foresees).
    await stack.app.deps.pool.query(
      `alter table deductions add constraint test_no_bad_terminal check (terminal_id <> 'POS-BAD') not valid`,
    );
    try {
      const batches = new DecisionBatches(stack.app.deps.pool, { maxSwipes: 8, windowMs: 0, inFlight: 1 });
      const swipes = [
        swipeFor(stack, { cardNo: one.card.cardNo }),
        swipeFor(stack, { cardNo: other.card.cardNo, terminalId: 'POS-BAD' }),
        swipeFor(stack, { cardNo: other.card.cardNo }),
      ];
      // Asked in one turn of the event loop: one batch.
      const settled = await Promise.allSettled(swipes.map((s) => batches.decide(s)));
      assert.equal(settled[0].status, 'fulfilled');
      assert.equal(settled[2].status, 'fulfilled');
      assert.equal(settled[1].status, 'rejected');
      assert.ok((settled[1] as PromiseRejectedResult).reason instanceof SwipeDecisionFailed);
      assert.match(String((settled[1] as PromiseRejectedResult).reason.message), /23514/);
      const recorded = await deductionsOf(
        stack,
        swipes.map((s) => s.txnNo),
      );
      assert.deepEqual(recorded.map((d) => d.txn_no).sort(), [swipes[0].txnNo, swipes[2].txnNo].sort());
      assert.ok(recorded.every((d) => d.decision === 'APPROVED'));
    } finally {
      await stack.app.deps.pool.query('alter table deductions drop constraint test_no_bad_terminal');
    }
  });

  it('decides again, each swipe alone, a batch one swipe of which fails: one answer per swipe, the others new', async () => {
    const [one, other] = await Promise.all([signedPayer(stack), signedPayer(stack)]);
    await stack.app.deps.pool.query(
      `alter table deductions add constraint test_no_bad_terminal check (terminal_id <> 'POS-BAD') not valid`,
    );
    try {
      // The swipe before the bad one was decided, and undone, before the batch was decided again.
      const answers = await decideBatch(stack.app.deps.pool, [
        swipeFor(stack, { cardNo: one.card.cardNo }),
        swipeFor(stack, { cardNo: other.card.cardNo, terminalId: 'POS-BAD' }),
        swipeFor(stack, { cardNo: other.card.cardNo }),
      ]);
      assert.deepEqual(
        answers.map((a) => [a.swipe, a.outcome]),
        [
          [1, 'NEW'],
          [2, 'ERROR'],
          [3, 'NEW'],
        ],
      );
    } finally {
      await stack.app.deps.pool.query('alter table deductions drop constraint test_no_bad_terminal');
    }
  });

  it('decides a batch without a failing swipe in one subtransaction: its deductions share one transaction id', async () => {
    const [one, other] = await Promise.all([signedPayer(stack), signedPayer(stack)]);
    const swipes = [
      swipeFor(stack, { cardNo: one.card.cardNo }),
      swipeFor(stack, { cardNo: other.card.cardNo }),
      swipeFor(stack, { cardNo: one.card.cardNo, amountFen: 999_999 }),
    ];
    assert.deepEqual((await decideBatch(stack.app.deps.pool, swipes)).map(answerOf), [
      'APPROVED',
      'APPROVED',
      'OVER_TXN_LIMIT',
    ]);
    // A subtransaction per swipe would give each row its own xmin (a subtransaction's own XID).
    const { rows } = await stack.app.deps.pool.query(
      'select count(*)::int as rows, count(distinct xmin::text)::int as xids from deductions where school_id = $1 and txn_no = any($2)',
      [stack.school.id, swipes.map((s) => s.txnNo)],
    );
    assert.deepEqual(rows[0], { rows: 3, xids: 1 });
  });

  it('answers every swipe of a batch whose transaction fails with a retryable error, and writes nothing', async () => {
    const payer = await signedPayer(stack);
    const gateway = await gatewayFor(stack);
    // The commit itself fails: checked when the batch's transaction commits.
    const undoFailure = await failCommitsOfTerminal(stack, 'POS-FAIL-COMMIT');
    try {
      const batches = new DecisionBatches(stack.app.deps.pool, { maxSwipes: 8, windowMs: 0, inFlight: 1 });
      const swipes = [
        swipeFor(stack, { cardNo: payer.card.cardNo }),
        swipeFor(stack, { cardNo: payer.card.cardNo, terminalId: 'POS-FAIL-COMMIT' }),
        swipeFor(stack, { cardNo: payer.card.cardNo }),
      ];
      const settled = await Promise.allSettled(swipes.map((s) => batches.decide(s)));
      for (const result of settled) {
        assert.equal(result.status, 'rejected');
        assert.ok((result as PromiseRejectedResult).reason instanceof DecisionBatchFailed);
      }
      assert.deepEqual(
        await deductionsOf(
          stack,
          swipes.map((s) => s.txnNo),
        ),
        [],
      );
      const { rows: nonces } = await stack.app.deps.pool.query(
        'select count(*)::int as n from gateway_nonces where client_id = $1 and nonce = any($2)',
        ['gw_batch', swipes.map((s) => s.nonce)],
      );
      assert.equal(nonces[0].n, 0, 'the nonces are not spent either');

      // Through the route: 503, retry with the same txnNo.
      const body = sale(payer.card.cardNo, 100, { terminalId: 'POS-FAIL-COMMIT' });
      const failed = await gateway.deduct(body);
      assert.equal(failed.status, 503, failed.text);
      assert.equal(failed.body.error.code, 'SERVICE_UNAVAILABLE');
      await undoFailure();
      const retried = await gateway.deduct(body);
      assert.equal(retried.status, 200, retried.text);
      assert.equal(retried.body.decision, 'APPROVED');
    } finally {
      await undoFailure();
    }
  });

  it('declines a swipe REVERSED when the reversal that commits while it is decided came first, without deciding its batch again', async () => {
    const payer = await signedPayer(stack);
    const reversal = new pg.Client({ connectionString: stack.app.databaseUrl });
    await reversal.connect();
    const swipe = swipeFor(stack, { cardNo: payer.card.cardNo });
    // Decided before it in its batch: were the race an error, the batch would be decided again, each swipe
    // in its own subtransaction (its own transaction id).
    const before = [
      swipeFor(stack, { cardNo: payer.card.cardNo }),
      swipeFor(stack, { cardNo: payer.card.cardNo }),
    ];
    try {
      await reversal.query('begin');
      // What insertReversalTombstone writes, still uncommitted when the swipe is decided.
      await reversal.query(
        `insert into deductions (deduction_no, school_id, txn_no, gateway_client_id, decision, decline_reason, status,
           reversed_at, reversal_requested_at, created_at, updated_at)
         values ($1, $2, $3, 'gw_batch', 'DECLINED', 'REVERSED', 'REVERSED', now(), now(), now(), now())`,
        [`D${crypto.randomInt(2 ** 47)}`, stack.school.id, swipe.txnNo],
      );
      const pending = decideBatch(stack.app.deps.pool, [...before, swipe]);
      await eventually(async () => {
        const { rows } = await reversal.query(
          `select count(*)::int as n from pg_locks where locktype = 'transactionid' and not granted`,
        );
        return rows[0].n === 1;
      });
      await reversal.query('commit');
      const answers = await pending;
      assert.deepEqual(answers.map(answerOf), ['APPROVED', 'APPROVED', 'REVERSED']);
      assert.deepEqual(
        [answers[2].outcome, answers[2].decision, answers[2].decline_reason],
        ['REPEAT', 'DECLINED', 'REVERSED'],
      );
      const { rows } = await stack.app.deps.pool.query(
        'select count(distinct xmin::text)::int as xids from deductions where school_id = $1 and txn_no = any($2)',
        [stack.school.id, before.map((s) => s.txnNo)],
      );
      assert.equal(rows[0].xids, 1, 'the batch was decided once');
    } finally {
      await reversal.end();
    }
  });

  it('locks the card a dynamic code stands for: a swipe by code waits for an open swipe by card number', async () => {
    const payer = await signedPayer(stack);
    await cardInWallet(stack, payer.user);
    const codeHash = dynamicCodeHash(
      stack.app.deps.protector,
      stack.school.id,
      await dynamicCode(stack, payer.user),
    );
    const first = new pg.Client({ connectionString: stack.app.databaseUrl });
    await first.connect();
    try {
      await first.query('begin');
      const [held] = await decideBatch(first, [
        swipeFor(stack, { cardNo: payer.card.cardNo, amountFen: 3_000 }),
      ]);
      assert.equal(answerOf(held), 'APPROVED');
      let settled = false;
      const pending = decideBatch(stack.app.deps.pool, [
        swipeFor(stack, { cardNo: null, dynamicCodeHash: codeHash, amountFen: 3_000 }),
      ]).finally(() => (settled = true));
      await eventually(async () => {
        const { rows } = await first.query(
          `select count(*)::int as n from pg_locks where locktype = 'advisory' and not granted`,
        );
        return rows[0].n === 1;
      });
      assert.equal(settled, false, 'the swipe by code waits for the open one of its card');
      await first.query('commit');
      const [byCode] = await pending;
      assert.equal(answerOf(byCode), 'OVER_DAILY_LIMIT');
    } finally {
      await first.end();
    }
  });

  it('locks the cards of a batch in one order: two batches with the same cards in opposite orders never deadlock', async () => {
    const [one, other] = await Promise.all([signedPayer(stack), signedPayer(stack)]);
    const [a, b] = [one.card.cardNo, other.card.cardNo];
    const sale10 = (cardNo: string) => swipeFor(stack, { cardNo, amountFen: 10 });
    const decided: Answer[] = [];
    const txnNos: string[] = [];
    const decide = async (executor: { query: pg.Pool['query'] }, swipes: DecisionInput[]) => {
      txnNos.push(...swipes.map((s) => s.txnNo));
      const answers = await decideBatch(executor, swipes);
      decided.push(...answers);
      return answers;
    };
    const waiting = async (n: number) =>
      eventually(async () => {
        const { rows } = await stack.app.deps.pool.query(
          `select count(*)::int as n from pg_locks where locktype = 'advisory' and not granted`,
        );
        return rows[0].n === n;
      });

    // Forced: an open swipe holds card A, a batch A,B queues behind it, then a batch B,A. When the swipe
    // commits, the first batch gets A; had the locks been taken in the order the swipes came, it would then
    // wait for B, held by the second batch while that one waits for A — a deadlock.
    const holder = new pg.Client({ connectionString: stack.app.databaseUrl });
    await holder.connect();
    try {
      await holder.query('begin');
      await decide(holder, [sale10(a)]);
      const ab = decide(stack.app.deps.pool, [sale10(a), sale10(b)]);
      await waiting(1);
      const ba = decide(stack.app.deps.pool, [sale10(b), sale10(a)]);
      await waiting(2);
      await holder.query('commit');
      await Promise.all([ab, ba]);
    } finally {
      await holder.end();
    }
    // And left to chance, many times over.
    for (let round = 0; round < 20; round += 1) {
      await Promise.all([
        decide(stack.app.deps.pool, [sale10(a), sale10(b)]),
        decide(stack.app.deps.pool, [sale10(b), sale10(a)]),
      ]);
    }

    assert.equal(decided.length, 1 + 2 * 2 + 20 * 2 * 2);
    assert.deepEqual(new Set(decided.map(answerOf)), new Set(['APPROVED']));
    const recorded = await deductionsOf(stack, txnNos);
    assert.equal(recorded.length, txnNos.length);
    assert.ok(recorded.every((d) => d.decision === 'APPROVED' && d.amount_fen === 10));
  });

  it('answers a repeated txnNo with another, unused dynamic code as a conflict and leaves that code unused', async () => {
    const payer = await signedPayer(stack);
    await cardInWallet(stack, payer.user);
    const first = swipeFor(stack, { cardNo: payer.card.cardNo });
    assert.equal(answerOf((await decideBatch(stack.app.deps.pool, [first]))[0]), 'APPROVED');
    const codeHash = dynamicCodeHash(
      stack.app.deps.protector,
      stack.school.id,
      await dynamicCode(stack, payer.user),
    );
    const [repeat] = await decideBatch(stack.app.deps.pool, [
      swipeFor(stack, { txnNo: first.txnNo, cardNo: null, dynamicCodeHash: codeHash }),
    ]);
    assert.equal(repeat.outcome, 'CONFLICT');
    const [fresh] = await decideBatch(stack.app.deps.pool, [
      swipeFor(stack, { cardNo: null, dynamicCodeHash: codeHash }),
    ]);
    assert.equal(answerOf(fresh), 'APPROVED');
  });

  it('plans decide_deductions once per connection: a named statement, reused by every batch after the first', async () => {
    const pool = new pg.Pool({ connectionString: stack.app.databaseUrl, max: 1 });
    try {
      for (let batch = 0; batch < 2; batch += 1)
        await decideSwipes(pool, [swipeFor(stack, { cardNo: `NO-SUCH-CARD-${batch}` })]);
      const { rows } = await pool.query('select name, statement from pg_prepared_statements');
      assert.deepEqual(rows, [
        { name: 'decide_deductions', statement: 'select * from decide_deductions($1::jsonb)' },
      ]);
    } finally {
      await pool.end();
    }
  });
});

describe('the deduct route with batching on (200 concurrent swipes)', () => {
  let stack: Stack;
  let gateway: Gateway;
  before(async () => {
    stack = await startStack({ schoolSettings: LIMITS });
    gateway = await gatewayFor(stack);
  });
  after(() => stack.stop());

  it('answers each swipe as if it were alone: repeats, a card at its daily limit, reversed txnNos and bad signatures', async () => {
    const [regular, atLimit, other] = await Promise.all([
      signedPayer(stack),
      signedPayer(stack),
      signedPayer(stack),
    ]);
    const repeated = Array.from({ length: 30 }, (_, i) => sale(regular.card.cardNo, 10 + i));
    const limited = Array.from({ length: 30 }, () => sale(atLimit.card.cardNo, 500));
    const reversed = Array.from({ length: 10 }, () => sale(other.card.cardNo, 100));
    for (const body of reversed) assert.equal((await gateway.reverse(body.txnNo)).status, 200);
    const forged = Array.from({ length: 30 }, () => sale(other.card.cardNo, 100));
    const fresh = Array.from({ length: 70 }, () => sale(other.card.cardNo, 10));

    const batchesBefore =
      (await deductionDecisionBatches.get()).values.find((v) => v.metricName?.endsWith('_count'))?.value ?? 0;
    const requests: Array<{
      kind: string;
      body: ReturnType<typeof sale>;
      send: () => Promise<{ status: number; body: any }>;
    }> = [
      ...repeated.flatMap((body) => [
        { kind: 'repeated', body, send: () => gateway.deduct(body) },
        { kind: 'repeated', body, send: () => gateway.deduct(body) },
      ]),
      ...limited.map((body) => ({ kind: 'limited', body, send: () => gateway.deduct(body) })),
      ...reversed.map((body) => ({ kind: 'reversed', body, send: () => gateway.deduct(body) })),
      ...forged.map((body) => ({
        kind: 'forged',
        body,
        send: () =>
          gateway.post('/gateway/v1/deductions', body, { secret: crypto.randomBytes(32).toString('hex') }),
      })),
      ...fresh.map((body) => ({ kind: 'fresh', body, send: () => gateway.deduct(body) })),
    ];
    assert.equal(requests.length, 200);
    const answers = await Promise.all(requests.map((r) => r.send()));
    const of = (kind: string) => answers.filter((_, i) => requests[i].kind === kind);

    // Repeats: both answers the same deduction, approved; one row each.
    for (const body of repeated) {
      const both = answers.filter((_, i) => requests[i].body === body);
      assert.deepEqual(
        both.map((a) => a.status),
        [200, 200],
      );
      assert.equal(both[0].body.deductionId, both[1].body.deductionId);
      assert.deepEqual(
        both.map((a) => a.body.decision),
        ['APPROVED', 'APPROVED'],
      );
    }
    // The card at its limit: exactly 5,000 fen approved, the rest declined over the daily limit.
    const limitedAnswers = of('limited');
    assert.ok(limitedAnswers.every((a) => a.status === 200));
    assert.equal(limitedAnswers.filter((a) => a.body.decision === 'APPROVED').length, 10);
    assert.equal(limitedAnswers.filter((a) => a.body.reason === 'OVER_DAILY_LIMIT').length, 20);
    // Reversed before they came: declined REVERSED.
    assert.ok(of('reversed').every((a) => a.status === 200 && a.body.reason === 'REVERSED'));
    // Bad signatures: refused, nothing recorded.
    assert.ok(of('forged').every((a) => a.status === 401 && a.body.error.code === 'GATEWAY_AUTH_FAILED'));
    assert.ok(of('fresh').every((a) => a.status === 200 && a.body.decision === 'APPROVED'));

    // The ledger: one row per txnNo that was decided, none for the forged ones, the limit held.
    const ledger = await deductionsOf(
      stack,
      requests.map((r) => r.body.txnNo),
    );
    const byTxn = new Map(ledger.map((row) => [row.txn_no, row]));
    assert.equal(ledger.length, byTxn.size);
    assert.equal(ledger.length, 30 + 30 + 10 + 70);
    assert.ok(forged.every((body) => !byTxn.has(body.txnNo)));
    const approvedAtLimit = limited
      .map((body) => byTxn.get(body.txnNo)!)
      .filter((row) => row.decision === 'APPROVED')
      .reduce((sum, row) => sum + row.amount_fen, 0);
    assert.equal(approvedAtLimit, LIMITS.dailyLimitFen);
    assert.ok(reversed.every((body) => byTxn.get(body.txnNo)!.decline_reason === 'REVERSED'));

    // And they were decided together: fewer transactions than swipes.
    const batchesAfter = (await deductionDecisionBatches.get()).values.find((v) =>
      v.metricName?.endsWith('_count'),
    )!.value;
    assert.ok(
      batchesAfter - batchesBefore < 170,
      `${batchesAfter - batchesBefore} batches for 170 signed swipes`,
    );
  });
});
