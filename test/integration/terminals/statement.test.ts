import assert from 'node:assert/strict';
import { eventually } from '../../support/http.js';
import { startStack, type Stack } from '../../support/stack.js';
import { userWithCard } from '../student/helpers.js';
import { COLA, CHIPS, vendingMachine } from './helpers.js';

/** Terminal payments on the payer's card statement (issue #15: "statement rows", one StatementSource). */
describe('Terminal payments on the card statement', function () {
  this.timeout(60_000);
  let stack: Stack;

  before(async function () {
    // Starting PostgreSQL and both sandboxes can take long on a busy machine.
    this.timeout(180_000);
    stack = await startStack();
  });
  after(async () => {
    await stack?.stop();
  });

  it("shows a mini-program payment on the payer's card, less the items the machine failed to give out", async () => {
    const machine = await vendingMachine(stack);
    try {
      const payer = await userWithCard(stack);
      const { body: order } = await machine.createOrder([COLA, CHIPS]);
      const pay = await payer.api.post(`/api/v1/terminal-orders/${order.orderNo}/pay`);
      await stack.alipay.control.payTrade({ tradeNO: pay.body.tradeNo, userId: payer.user.userId });
      await machine.acknowledgedCallback(order.outOrderNo);
      await machine.reportDispensed(order.outOrderNo, {
        result: 'FAILED',
        failedItems: [{ index: 0, quantity: 1 }],
      });

      const entry = await eventually(async () => {
        const res = await payer.api.get(`/api/v1/bindings/${payer.bindingId}/statement`);
        return res.body.entries.find(
          (e: { kind: string; status: string }) =>
            e.kind === 'TERMINAL_ORDER' && e.status === 'PARTIALLY_REFUNDED',
        );
      });
      assert.equal(entry.amountFen, -900);
      assert.equal(entry.orderNo, `${order.orderNo}M1`);
      assert.match(entry.place, /饮料机/);
      const receipt = await eventually(async () => {
        const res = await payer.api.get(`/api/v1/bindings/${payer.bindingId}/statement/${entry.id}`);
        return res.body.timeline?.some((t: { event: string }) => t.event === 'REFUNDED')
          ? res.body
          : undefined;
      });
      assert.deepEqual(
        receipt.timeline.map((t: { event: string }) => t.event),
        ['CREATED', 'PAID', 'REFUNDED'],
      );
      assert.equal(receipt.reference, order.outOrderNo);
    } finally {
      await machine.stop();
    }
  });
});
