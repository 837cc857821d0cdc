import assert from 'node:assert/strict';
import {
  claimDueCredits,
  markCreditedMany,
  markPaidNotifiedMany,
} from '../../../server/src/db/repos/recharge/recharges.js';
import { startStack, type Stack } from '../../support/stack.js';
import { insertedRecharge, userWithCard } from './helpers.js';

/**
 * order_status_changes is what an order's timeline shows and what the dashboard's daily statistics count
 * (`recharge.PAID`, `recharge.CREDITED`, folded by the writing transaction's id). The crediting path changes
 * many orders in one statement (the notifications and the credits of a moment), and the trigger writes the
 * history of a whole statement at once (migration 0030): one row per order whose status the statement
 * changed, none for an update that leaves the status alone.
 */
describe('recording the status changes of recharges written in batches', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ env: { RECHARGE_SWEEP_EVERY_MS: '3600000' } });
  });
  after(() => stack.stop());

  interface Change {
    order_no: string;
    from_status: string | null;
    to_status: string;
    amount_fen: number;
    changed_at: Date;
    txid: string;
  }

  async function historyOf(orderNos: string[]): Promise<Change[]> {
    const { rows } = await stack.app.deps.pool.query<Change>(
      `select order_no, from_status, to_status, amount_fen, changed_at, txid::text as txid
         from order_status_changes where order_kind = 'RECHARGE' and order_no = any($1) order by id`,
      [orderNos],
    );
    return rows;
  }

  it('writes one row per order a batch statement moves, with its statuses, amount and time, and none for a lease', async () => {
    const { bindingId } = await userWithCard(stack);
    const { db, pool } = stack.app.deps;
    const created = new Date(Date.now() - 60_000);
    const orders = [];
    for (const amountFen of [1_000, 2_000, 3_000])
      orders.push(
        await insertedRecharge(stack, bindingId, {
          amountFen,
          createdAt: created,
          updatedAt: created,
          expiresAt: new Date(Date.now() + 3_600_000),
        }),
      );
    const orderNos = orders.map((o) => o.outTradeNo);
    // Paid an hour from now: due for crediting only then, so the stack's drainer leaves them to this test.
    const paidAt = new Date(Date.now() + 3_600_000);
    const payment = (outTradeNo: string, tradeNo: string) => ({
      outTradeNo,
      tradeNo,
      buyerId: null,
      at: paidAt,
      form: { notify_type: 'trade_status_sync', out_trade_no: outTradeNo },
    });
    // One statement: three orders paid, and a second notification of the first order (moves nothing).
    const moved = await markPaidNotifiedMany(pool, [
      payment(orderNos[0], 'T1'),
      payment(orderNos[1], 'T2'),
      payment(orderNos[0], 'T1'),
      payment(orderNos[2], 'T3'),
    ]);
    assert.deepEqual(moved, [orders[0].id, orders[1].id, undefined, orders[2].id]);
    // The drainer's lease changes next_credit_at only.
    const leased = await claimDueCredits(db, {
      now: new Date(paidAt.getTime() + 1_000),
      leaseUntil: new Date(paidAt.getTime() + 61_000),
      limit: 10,
    });
    assert.deepEqual(leased.map((o) => o.id).sort(), orders.map((o) => o.id).sort());
    const creditedAt = new Date(paidAt.getTime() + 2_000);
    const credited = await markCreditedMany(pool, [
      { id: orders[2].id, at: creditedAt },
      { id: orders[0].id, at: creditedAt },
    ]);
    assert.deepEqual(
      credited.map((c) => c.isCredited),
      [true, true],
    );

    const history = await historyOf(orderNos);
    const summary = history.map((c) => [
      orderNos.indexOf(c.order_no),
      c.from_status,
      c.to_status,
      c.amount_fen,
      c.changed_at.toISOString(),
    ]);
    const at = (d: Date) => d.toISOString();
    const sortedByOrder = (rows: typeof summary) =>
      [...rows].sort((a, b) => Number(a[0]) - Number(b[0]) || String(a[4]).localeCompare(String(b[4])));
    assert.deepEqual(sortedByOrder(summary), [
      [0, null, 'CREATED', 1_000, at(created)],
      [0, 'CREATED', 'PAID', 1_000, at(paidAt)],
      [0, 'PAID', 'CREDITED', 1_000, at(creditedAt)],
      [1, null, 'CREATED', 2_000, at(created)],
      [1, 'CREATED', 'PAID', 2_000, at(paidAt)],
      [2, null, 'CREATED', 3_000, at(created)],
      [2, 'CREATED', 'PAID', 3_000, at(paidAt)],
      [2, 'PAID', 'CREDITED', 3_000, at(creditedAt)],
    ]);
    // Each order's changes in the order they happened.
    for (const orderNo of orderNos) {
      const statuses = history.filter((c) => c.order_no === orderNo).map((c) => c.to_status);
      assert.deepEqual(statuses, ['CREATED', 'PAID', 'CREDITED'].slice(0, statuses.length));
    }
    // A statement's changes carry its transaction's id: the three payments one, the two credits another.
    const txidsOf = (status: string) =>
      new Set(history.filter((c) => c.to_status === status).map((c) => c.txid));
    assert.equal(txidsOf('PAID').size, 1);
    assert.equal(txidsOf('CREDITED').size, 1);
    assert.notDeepEqual([...txidsOf('PAID')], [...txidsOf('CREDITED')]);
  });

  it('dates a change by now() when the statement leaves updated_at as it was', async () => {
    const { bindingId } = await userWithCard(stack);
    const { pool } = stack.app.deps;
    const created = new Date(Date.now() - 60_000);
    const order = await insertedRecharge(stack, bindingId, {
      amountFen: 500,
      createdAt: created,
      updatedAt: created,
      expiresAt: new Date(Date.now() + 3_600_000),
    });
    const before = Date.now();
    await pool.query(`update recharge_orders set status = 'CLOSED' where id = $1`, [order.id]);
    const [, closed] = await historyOf([order.outTradeNo]);
    assert.deepEqual([closed.from_status, closed.to_status], ['CREATED', 'CLOSED']);
    assert.ok(closed.changed_at.getTime() >= before - 1_000, `${closed.changed_at.toISOString()} is now()`);
  });
});
