import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import pg from 'pg';
import { eventually } from '../../support/http.js';
import { startStack, type Stack } from '../../support/stack.js';
import { gatewayFor, sale, signedPayer, waitForDeduction, type Gateway } from './helpers.js';

/**
 * The rules of decide_deduction (the SQL of the latest decide_deduction migration) at their edges, asked
 * directly with a chosen `now`, as the gateway route asks them. Each test here kills one or more of the SQL
 * mutants listed in docs/testing.md (scripts/mutation/sql-mutants.ts applies them one at a time).
 *
 * Swipes decided "in the future" stay PENDING (their first charge is not due yet), so the collector leaves
 * them alone and the day's sum is exactly what the test made.
 */
const SCHOOL = { txnLimitFen: 5_000, dailyLimitFen: 5_000, swipeMaxAgeMinutes: 60, swipeMaxAheadMinutes: 2 };

interface Decision {
  decision: string;
  decline_reason: string | null;
}

function decideWith(executor: { query: pg.Pool['query'] }, schoolId: string) {
  return async (cardNo: string, amountFen: number, now: Date, occurredAt = now): Promise<Decision> => {
    const { rows } = await executor.query(
      'select decision, decline_reason from decide_deduction($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)',
      [
        'gw_rules',
        crypto.randomUUID(),
        new Date(now.getTime() + 600_000),
        schoolId,
        `T${crypto.randomInt(1e12)}`,
        cardNo,
        null, // no dynamic code: the card number is given
        amountFen,
        'POS-1',
        occurredAt,
        `D${crypto.randomInt(2 ** 47)}`,
        now,
      ],
    );
    return rows[0];
  };
}

const answer = (d: Decision) => (d.decision === 'APPROVED' ? 'APPROVED' : d.decline_reason);

describe('the daily limit counts one Beijing calendar day', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ schoolSettings: SCHOOL });
  });
  after(() => stack.stop());

  it('starts a new day at 00:00 Beijing time (16:00 UTC), not at midnight UTC', async () => {
    const payer = await signedPayer(stack);
    const decide = decideWith(stack.app.deps.pool, stack.school.id);
    assert.equal(
      answer(await decide(payer.card.cardNo, 5_000, new Date('2030-03-04T15:59:59Z'))),
      'APPROVED',
    );
    assert.equal(
      answer(await decide(payer.card.cardNo, 5_000, new Date('2030-03-04T16:00:01Z'))),
      'APPROVED',
    );
  });

  it("keeps the Beijing day whatever the database session's time zone (here UTC)", async () => {
    const payer = await signedPayer(stack);
    const session = new pg.Client({ connectionString: stack.app.databaseUrl });
    await session.connect();
    try {
      await session.query(`set time zone 'UTC'`);
      const decide = decideWith(session, stack.school.id);
      const at = (iso: string) => new Date(iso);
      assert.equal(answer(await decide(payer.card.cardNo, 5_000, at('2030-04-05T15:59:59Z'))), 'APPROVED');
      assert.equal(answer(await decide(payer.card.cardNo, 5_000, at('2030-04-05T16:00:01Z'))), 'APPROVED');
      assert.equal(
        answer(await decide(payer.card.cardNo, 1, at('2030-04-06T00:00:01Z'))),
        'OVER_DAILY_LIMIT',
      );
    } finally {
      await session.end();
    }
  });

  it('keeps one Beijing day across midnight UTC, and counts a swipe made exactly at 00:00 Beijing', async () => {
    const payer = await signedPayer(stack);
    const decide = decideWith(stack.app.deps.pool, stack.school.id);
    assert.equal(
      answer(await decide(payer.card.cardNo, 3_000, new Date('2030-05-06T16:00:00Z'))),
      'APPROVED',
    );
    assert.equal(
      answer(await decide(payer.card.cardNo, 2_001, new Date('2030-05-07T00:00:01Z'))),
      'OVER_DAILY_LIMIT',
    );
    assert.equal(
      answer(await decide(payer.card.cardNo, 2_000, new Date('2030-05-07T15:59:59Z'))),
      'APPROVED',
    );
  });

  it('approves exactly the daily limit and declines one fen over it', async () => {
    const payer = await signedPayer(stack);
    const decide = decideWith(stack.app.deps.pool, stack.school.id);
    const now = new Date('2030-07-08T04:00:00Z');
    assert.equal(answer(await decide(payer.card.cardNo, 4_999, now)), 'APPROVED');
    assert.equal(answer(await decide(payer.card.cardNo, 2, now)), 'OVER_DAILY_LIMIT');
    assert.equal(answer(await decide(payer.card.cardNo, 1, now)), 'APPROVED');
    assert.equal(answer(await decide(payer.card.cardNo, 1, now)), 'OVER_DAILY_LIMIT');
  });

  it("keeps each card's own daily sum: another card's swipes that day use none of it", async () => {
    const [one, other] = await Promise.all([signedPayer(stack), signedPayer(stack)]);
    const decide = decideWith(stack.app.deps.pool, stack.school.id);
    const now = new Date('2030-08-09T04:00:00Z');
    assert.equal(answer(await decide(one.card.cardNo, 5_000, now)), 'APPROVED');
    assert.equal(answer(await decide(other.card.cardNo, 5_000, now)), 'APPROVED');
  });

  it('approves exactly the per-transaction limit and declines one fen over it, before looking at the day', async () => {
    const payer = await signedPayer(stack);
    const decide = decideWith(stack.app.deps.pool, stack.school.id);
    const now = new Date('2030-09-10T04:00:00Z');
    assert.equal(answer(await decide(payer.card.cardNo, 5_001, now)), 'OVER_TXN_LIMIT');
    assert.equal(answer(await decide(payer.card.cardNo, 5_000, now)), 'APPROVED');
    assert.equal(answer(await decide(payer.card.cardNo, 5_001, now)), 'OVER_TXN_LIMIT');
  });

  it('leaves declined swipes out of the day and gives a reversed swipe its amount back', async () => {
    const payer = await signedPayer(stack);
    const gateway = await gatewayFor(stack);
    const decide = decideWith(stack.app.deps.pool, stack.school.id);
    // Today (real time), so that it is collected and then reversed through the gateway.
    const first = await gateway.deduct(sale(payer.card.cardNo, 3_000));
    assert.equal(first.body.decision, 'APPROVED');
    assert.equal(answer(await decide(payer.card.cardNo, 2_001, new Date())), 'OVER_DAILY_LIMIT');
    assert.equal(answer(await decide(payer.card.cardNo, 2_000, new Date())), 'APPROVED');
    assert.equal(answer(await decide(payer.card.cardNo, 1, new Date())), 'OVER_DAILY_LIMIT');
    await waitForDeduction(gateway, first.body.txnNo, 'COLLECTED');
    assert.equal((await gateway.reverse(first.body.txnNo)).status, 200);
    assert.equal(answer(await decide(payer.card.cardNo, 3_000, new Date())), 'APPROVED');
  });
});

describe('the swipe time window at its edges', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ schoolSettings: SCHOOL });
  });
  after(() => stack.stop());

  it('accepts a swipe exactly swipe_max_age old or swipe_max_ahead ahead, and not a millisecond beyond', async () => {
    const card = await stack.createCard();
    const decide = decideWith(stack.app.deps.pool, stack.school.id);
    const now = new Date('2030-01-02T03:04:05.678Z');
    const at = (ms: number) => new Date(now.getTime() + ms);
    const seen = [];
    for (const offsetMs of [-60 * 60_000 - 1, -60 * 60_000, 2 * 60_000, 2 * 60_000 + 1])
      seen.push(answer(await decide(card.cardNo, 100, now, at(offsetMs))));
    // Inside the window the card rules decide: this card has no payer.
    assert.deepEqual(seen, ['OUTSIDE_TIME_WINDOW', 'NOT_BOUND', 'NOT_BOUND', 'OUTSIDE_TIME_WINDOW']);
  });
});

describe('arrears block the payer, and only the payer', () => {
  let stack: Stack;
  let gateway: Gateway;
  before(async () => {
    // One long slot: a refused charge stays RETRYING for the whole test.
    stack = await startStack({ schoolSettings: { ...SCHOOL, retryScheduleSeconds: [3_600] } });
    gateway = await gatewayFor(stack);
  });
  after(() => stack.stop());

  it('declines IN_ARREARS while an earlier swipe of the payer is RETRYING, and approves another payer meanwhile', async () => {
    const owing = await signedPayer(stack, { balanceFen: 0 });
    const other = await signedPayer(stack);
    const first = await gateway.deduct(sale(owing.card.cardNo, 300));
    assert.equal(first.body.decision, 'APPROVED');
    await waitForDeduction(gateway, first.body.txnNo, 'RETRYING');
    const blocked = await gateway.deduct(sale(owing.card.cardNo, 100));
    assert.deepEqual([blocked.body.decision, blocked.body.reason], ['DECLINED', 'IN_ARREARS']);
    const fine = await gateway.deduct(sale(other.card.cardNo, 100));
    assert.equal(fine.body.decision, 'APPROVED', 'arrears are per payer');
  });

  it('approves a second swipe while the first is only waiting to be collected (PENDING is not arrears)', async () => {
    const payer = await signedPayer(stack);
    const decide = decideWith(stack.app.deps.pool, stack.school.id);
    const later = new Date('2030-11-12T04:00:00Z');
    assert.equal(answer(await decide(payer.card.cardNo, 100, later)), 'APPROVED');
    assert.equal(answer(await decide(payer.card.cardNo, 100, later)), 'APPROVED');
  });
});

describe('the per-card lock of a decision', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ schoolSettings: SCHOOL });
  });
  after(() => stack.stop());

  it("lets another card's swipe through while one card's decision is still open", async () => {
    const [held, free] = await Promise.all([signedPayer(stack), signedPayer(stack)]);
    const first = new pg.Client({ connectionString: stack.app.databaseUrl });
    await first.connect();
    try {
      await first.query('begin');
      const now = new Date('2030-12-01T04:00:00Z');
      assert.equal(answer(await decideWith(first, stack.school.id)(held.card.cardNo, 100, now)), 'APPROVED');
      const other = decideWith(stack.app.deps.pool, stack.school.id)(free.card.cardNo, 100, now);
      let answered: string | null | undefined;
      void other.then((d) => (answered = answer(d)));
      await eventually(async () => answered !== undefined, {
        timeoutMs: 5_000,
        message: "another card waited for this card's lock",
      });
      assert.equal(answered, 'APPROVED');
    } finally {
      await first.query('rollback').catch(() => undefined);
      await first.end();
    }
  });
});

describe('a school that is not ACTIVE takes no new swipes', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ schoolSettings: SCHOOL });
  });
  after(() => stack.stop());

  it('declines SCHOOL_SUSPENDED at a suspended school and WITHHOLDING_DISABLED where withholding is off, for a payer it approves otherwise', async () => {
    const payer = await signedPayer(stack);
    const decide = decideWith(stack.app.deps.pool, stack.school.id);
    const setSchool = (assignments: string) =>
      stack.app.deps.pool.query(`update schools set ${assignments} where id = $1`, [stack.school.id]);
    const now = new Date('2030-10-11T04:00:00Z');
    const answers: Array<string | null> = [];
    answers.push(answer(await decide(payer.card.cardNo, 100, now)));
    await setSchool(`status = 'SUSPENDED', suspension_reason = 'OPERATOR'`);
    answers.push(answer(await decide(payer.card.cardNo, 100, now)));
    await setSchool(`status = 'ACTIVE', suspension_reason = null, withholding_enabled = false`);
    answers.push(answer(await decide(payer.card.cardNo, 100, now)));
    await setSchool(`withholding_enabled = true`);
    answers.push(answer(await decide(payer.card.cardNo, 100, now)));
    assert.deepEqual(answers, ['APPROVED', 'SCHOOL_SUSPENDED', 'WITHHOLDING_DISABLED', 'APPROVED']);
  });
});
