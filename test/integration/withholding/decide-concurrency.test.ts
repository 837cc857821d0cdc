import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import pg from 'pg';
import { eventually } from '../../support/http.js';
import { startStack, type Stack } from '../../support/stack.js';
import { dynamicCodeHash } from '../../../server/src/domain/membercard/dynamic-codes.js';
import { cardInWallet, dynamicCode } from '../membercard/helpers.js';
import { signedPayer } from './helpers.js';

/**
 * The daily limit under concurrency, at the level where the race lives: two decisions for one card whose
 * sum is over the limit, the first held open in a transaction. The second must wait for it and then see
 * it; without the per-card lock in decide_deduction both would be approved.
 */
describe('deciding two swipes of one card, or of one dynamic code, at the same moment', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({
      schoolSettings: { txnLimitFen: 5_000, dailyLimitFen: 5_000 },
      membercard: {},
    });
  });
  after(() => stack.stop());

  const decide = (
    client: pg.ClientBase,
    cardNo: string | null,
    amountFen: number,
    codeHash: string | null = null,
  ) =>
    client.query(
      'select decision, decline_reason from decide_deduction($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)',
      [
        'gw_test',
        crypto.randomUUID(),
        new Date(Date.now() + 600_000),
        stack.school.id,
        `T${crypto.randomInt(1e12)}`,
        cardNo,
        codeHash,
        amountFen,
        'POS-1',
        new Date(),
        `D${crypto.randomInt(2 ** 47)}`,
        new Date(),
      ],
    );

  it('makes the second wait for the first and then declines it over the daily limit', async () => {
    const payer = await signedPayer(stack);
    const first = new pg.Client({ connectionString: stack.app.databaseUrl });
    const second = new pg.Client({ connectionString: stack.app.databaseUrl });
    await Promise.all([first.connect(), second.connect()]);
    try {
      await first.query('begin');
      assert.equal((await decide(first, payer.card.cardNo, 3_000)).rows[0].decision, 'APPROVED');
      let settled = false;
      const pending = decide(second, payer.card.cardNo, 3_000).finally(() => (settled = true));
      // The second is queued behind the first one's per-card lock (and has not answered).
      await eventually(async () => {
        const { rows } = await first.query(
          `select count(*)::int as n from pg_locks where locktype = 'advisory' and not granted`,
        );
        return rows[0].n === 1;
      });
      assert.equal(settled, false, 'the second decision waits while the first is uncommitted');
      await first.query('commit');
      const { rows } = await pending;
      assert.deepEqual([rows[0].decision, rows[0].decline_reason], ['DECLINED', 'OVER_DAILY_LIMIT']);
    } finally {
      await first.end();
      await second.end();
    }
  });

  it('makes a second swipe with the same dynamic code wait for the first and then finds the code used', async () => {
    const payer = await signedPayer(stack);
    await cardInWallet(stack, payer.user);
    const code = await dynamicCode(stack, payer.user);
    const codeHash = dynamicCodeHash(stack.app.deps.protector, stack.school.id, code);
    const first = new pg.Client({ connectionString: stack.app.databaseUrl });
    const second = new pg.Client({ connectionString: stack.app.databaseUrl });
    await Promise.all([first.connect(), second.connect()]);
    try {
      await first.query('begin');
      assert.equal((await decide(first, null, 500, codeHash)).rows[0].decision, 'APPROVED');
      let settled = false;
      const pending = decide(second, null, 500, codeHash).finally(() => (settled = true));
      // The second waits on the code's row, locked by the first until it commits.
      await eventually(async () => {
        const { rows } = await first.query(
          `select count(*)::int as n from pg_locks where locktype = 'transactionid' and not granted`,
        );
        return rows[0].n === 1;
      });
      assert.equal(settled, false, 'the second decision waits while the first is uncommitted');
      await first.query('commit');
      const { rows } = await pending;
      assert.deepEqual([rows[0].decision, rows[0].decline_reason], ['DECLINED', 'CODE_USED']);
    } finally {
      await first.end();
      await second.end();
    }
  });
});
