import assert from 'node:assert/strict';
import type { VendingMachine } from '../../../scripts/sandbox/vending/machine.js';
import { rotateGatewayClient } from '../../../server/src/domain/schools/gateway-clients.js';
import { sweepTerminalOrders } from '../../../server/src/domain/terminals/lifecycle.js';
import { OffsetClock } from '../../support/clock.js';
import { eventually } from '../../support/http.js';
import { startStack, type Stack } from '../../support/stack.js';
import { CHIPS, COLA, vendingMachine } from './helpers.js';

/** Where the money of one trade went, by the sandbox's ledger and balances. */
async function balanceOf(stack: Stack, accountId: string): Promise<number> {
  return (await stack.alipay.control.getAccount(accountId)).balanceFen;
}

describe('Terminal orders: a vending machine sells, people pay by QR or in the mini-program', function () {
  this.timeout(120_000);
  let stack: Stack;
  const clock = new OffsetClock();

  before(async function () {
    // Starting PostgreSQL and both sandboxes can take long on a busy machine.
    this.timeout(180_000);
    stack = await startStack({ clock });
  });
  after(async () => {
    await stack?.stop();
  });

  describe('paying with the Alipay camera (当面付 QR)', () => {
    let machine: VendingMachine;
    before(async () => {
      machine = await vendingMachine(stack);
    });
    after(() => machine.stop());

    it('makes an order with both QR payloads; a scan pays it and the machine is told, signed', async () => {
      const created = await machine.createOrder([COLA, CHIPS]);
      assert.equal(created.status, 200, JSON.stringify(created.body));
      const order = created.body;
      assert.equal(order.status, 'CREATED');
      assert.equal(order.amountFen, 1_200);
      assert.match(order.pay.qrCode ?? '', /^https?:\/\//);
      assert.match(
        order.pay.miniProgramUrl,
        /^alipays:\/\/platformapi\/startapp\?appId=\d+&page=pages%2Fterminal-pay%2Fterminal-pay&query=orderNo%3DT\d{30}$/,
      );

      const buyer = await stack.createUser();
      const schoolBefore = await balanceOf(stack, stack.school.alipaySellerId!);
      const scan = await stack.alipay.control.scanQrCode({ qrCode: order.pay.qrCode!, userId: buyer.userId });
      assert.equal(scan.resultCode, '9000');

      const callback = await machine.acknowledgedCallback(order.outOrderNo);
      assert.equal(callback.signatureValid, true);
      assert.equal(callback.order.status, 'PAID');
      assert.equal(callback.order.channel, 'QR');
      assert.equal(await balanceOf(stack, stack.school.alipaySellerId!), schoolBefore + 1_200);

      const polled = await machine.getOrder(order.outOrderNo);
      assert.equal(polled.body.status, 'PAID');
    });

    it('answers the create and the paid callback with the order exactly as a poll of the stored order shows it', async () => {
      const created = await machine.createOrder([COLA, CHIPS, { ...COLA, quantity: 2 }]);
      assert.equal(created.status, 200, JSON.stringify(created.body));
      assert.deepEqual(created.body, (await machine.getOrder(created.body.outOrderNo)).body);

      const buyer = await stack.createUser();
      await stack.alipay.control.scanQrCode({ qrCode: created.body.pay.qrCode!, userId: buyer.userId });
      const callback = await machine.acknowledgedCallback(created.body.outOrderNo);
      const polled = (await machine.getOrder(created.body.outOrderNo)).body;
      assert.equal(polled.status, 'PAID');
      assert.deepEqual(callback.order, polled);
    });

    it('stores the order with its QR at once; one made without a QR (precreate refused) gets it on a repeat', async () => {
      const qrOf = async (orderNo: string) =>
        (
          await stack.app.deps.pool.query('select qr_code from terminal_orders where order_no = $1', [
            orderNo,
          ])
        ).rows[0].qr_code as string | null;
      const made = (await machine.createOrder([COLA])).body;
      // Stored with the order, not after the answer: a poll at once shows it too.
      assert.equal(await qrOf(made.orderNo), made.pay.qrCode);
      assert.equal((await machine.getOrder(made.outOrderNo)).body.pay.qrCode, made.pay.qrCode);

      await stack.alipay.control.injectApiFault({
        method: 'alipay.trade.precreate',
        times: 1,
        error: { subCode: 'ACQ.SYSTEM_ERROR' },
      });
      const outOrderNo = `NOQR${Date.now()}`;
      const first = await machine.createOrder([COLA], { outOrderNo });
      assert.equal(first.status, 200, JSON.stringify(first.body));
      assert.equal(first.body.pay.qrCode, null, 'no QR: the machine still has the mini-program link');
      assert.equal(await qrOf(first.body.orderNo), null);
      const repeat = await machine.createOrder([COLA], { outOrderNo });
      assert.equal(repeat.body.orderNo, first.body.orderNo);
      assert.match(repeat.body.pay.qrCode ?? '', /^https?:\/\//);
      assert.equal(await qrOf(first.body.orderNo), repeat.body.pay.qrCode);
      const buyer = await stack.createUser();
      const scan = await stack.alipay.control.scanQrCode({
        qrCode: repeat.body.pay.qrCode!,
        userId: buyer.userId,
      });
      assert.equal(scan.resultCode, '9000');
      assert.equal((await machine.acknowledgedCallback(outOrderNo)).order.status, 'PAID');
    });

    it('records every acknowledgement of callbacks that arrive together, each once', async () => {
      const buyer = await stack.createUser();
      const orders = await Promise.all(Array.from({ length: 20 }, () => machine.createOrder([COLA])));
      await Promise.all(
        orders.map(async ({ body: order }) => {
          const scan = await stack.alipay.control.scanQrCode({
            qrCode: order.pay.qrCode!,
            userId: buyer.userId,
          });
          assert.equal(scan.resultCode, '9000');
          await machine.acknowledgedCallback(order.outOrderNo);
        }),
      );
      await eventually(async () => {
        const { rows } = await stack.app.deps.pool.query(
          `select callback_status as status, callback_attempts as attempts, callback_next_at as next,
                  callback_acknowledged_at is not null as acknowledged
             from terminal_orders where order_no = any($1)`,
          [orders.map((o) => o.body.orderNo)],
        );
        assert.equal(rows.length, 20);
        for (const row of rows)
          assert.deepEqual(row, { status: 'ACKNOWLEDGED', attempts: 1, next: null, acknowledged: true });
        return true;
      });
      const told = machine.callbacks.filter((c) => orders.some((o) => o.body.orderNo === c.order.orderNo));
      assert.equal(told.length, 20, 'one callback per order, none sent again');
    });

    it('answers 50 concurrent creates of one outOrderNo with one order, and 409 for other items', async () => {
      const outOrderNo = `SAME${Date.now()}`;
      const answers = await Promise.all(
        Array.from({ length: 50 }, () => machine.createOrder([COLA], { outOrderNo })),
      );
      assert.deepEqual(new Set(answers.map((a) => a.status)), new Set([200]));
      assert.equal(new Set(answers.map((a) => a.body.orderNo)).size, 1);
      assert.equal(new Set(answers.map((a) => a.body.pay.qrCode)).size, 1);
      const other = await machine.createOrder([CHIPS], { outOrderNo });
      assert.equal(other.status, 409);
      assert.equal((other.body as unknown as { error: { code: string } }).error.code, 'ORDER_CONFLICT');
    });

    it('refuses bad items with a 400 naming the field', async () => {
      const send = (items: unknown, amountFen: number) =>
        machine.post('/gateway/v1/terminal-orders', {
          terminalId: machine.options.terminalId,
          outOrderNo: `BAD${Date.now()}`,
          items,
          amountFen,
        });
      const cases: Array<[unknown, number, string]> = [
        [[{ name: '水', quantity: -1, unitFen: 100 }], 100, 'body.items.0.quantity'],
        [[{ name: '水', quantity: 1, unitFen: 0 }], 100, 'body.items.0.unitFen'],
        [[{ name: '水', quantity: 2, unitFen: 100 }], 150, 'body.amountFen'],
        [[], 100, 'body.items'],
        [Array.from({ length: 51 }, () => ({ name: '水', quantity: 1, unitFen: 1 })), 51, 'body.items'],
      ];
      for (const [items, amountFen, field] of cases) {
        const res = await send(items, amountFen);
        assert.equal(res.status, 400, field);
        assert.equal((res.body as { error: { field: string } }).error.field, field);
      }
    });

    it('refuses an order for another terminal id than the client signs for', async () => {
      const res = await machine.post('/gateway/v1/terminal-orders', {
        terminalId: 'SOMEONE-ELSE',
        outOrderNo: `X${Date.now()}`,
        items: [COLA],
        amountFen: 300,
      });
      assert.equal(res.status, 403);
    });
  });

  describe('a terminal changed by another process', () => {
    it('is seen at its very next order: another money mode is used at once, a disabled one refused at once', async () => {
      const machine = await vendingMachine(stack);
      const operator = await stack.alipay.control.createMerchant({ name: '饮料公司' });
      const { pool } = stack.app.deps;
      const sellerOf = async (orderNo: string) =>
        (await pool.query('select seller_id from terminal_orders where order_no = $1', [orderNo])).rows[0]
          .seller_id as string | null;
      try {
        // This process has made an order for the terminal (and keeps it in mind)…
        const first = await machine.createOrder([COLA]);
        assert.equal(first.status, 200, JSON.stringify(first.body));
        assert.equal(await sellerOf(first.body.orderNo), null);
        // …then the row changes behind its back (the operator CLI, another API process).
        await pool.query(`update terminals set money_mode = 'RESTRICTED', seller_id = $1 where id = $2`, [
          operator.accountId,
          machine.terminalRef,
        ]);
        const second = await machine.createOrder([COLA]);
        assert.equal(second.status, 200, JSON.stringify(second.body));
        assert.equal(await sellerOf(second.body.orderNo), operator.accountId);

        await pool.query(`update terminals set status = 'DISABLED' where id = $1`, [machine.terminalRef]);
        const refused = await machine.createOrder([COLA]);
        assert.equal(refused.status, 409);
        assert.equal(
          (refused.body as unknown as { error: { code: string } }).error.code,
          'TERMINAL_DISABLED',
        );
        // An order made before still answers its repeat.
        const repeat = await machine.createOrder([COLA], { outOrderNo: second.body.outOrderNo });
        assert.equal(repeat.status, 200);
        assert.equal(repeat.body.orderNo, second.body.orderNo);
      } finally {
        await machine.stop();
      }
    });
  });

  describe('paying in the mini-program', () => {
    it('opens the page, pays with my.tradePay, the machine is told, the payment is in my list', async () => {
      const machine = await vendingMachine(stack);
      try {
        const { body: order } = await machine.createOrder([COLA]);
        const buyer = await stack.createUser();
        const http = await buyer.login();
        const page = await http.get(`/api/v1/terminal-orders/${order.orderNo}`);
        assert.equal(page.status, 200);
        assert.equal(page.body.state, 'PAYABLE');
        assert.equal(page.body.amountFen, 300);
        const pay = await http.post(`/api/v1/terminal-orders/${order.orderNo}/pay`);
        assert.equal(pay.status, 200, pay.text);
        const paid = await stack.alipay.control.payTrade({ tradeNO: pay.body.tradeNo, userId: buyer.userId });
        assert.equal(paid.resultCode, '9000');
        const callback = await machine.acknowledgedCallback(order.outOrderNo);
        assert.equal(callback.order.channel, 'MINIAPP');
        assert.equal((await http.get(`/api/v1/terminal-orders/${order.orderNo}`)).body.state, 'PAID_BY_ME');
        const mine = await http.get('/api/v1/terminal-payments');
        assert.deepEqual(
          mine.body.items.map((i: { orderNo: string; amountFen: number }) => [i.orderNo, i.amountFen]),
          [[order.orderNo, 300]],
        );
      } finally {
        await machine.stop();
      }
    });
  });

  describe('where the money goes', () => {
    it('restricted collection: every trade pays into the operator account (seller_id)', async () => {
      const operator = await stack.alipay.control.createMerchant({ name: '饮料公司' });
      const machine = await vendingMachine(stack, { moneyMode: 'RESTRICTED', sellerId: operator.accountId });
      try {
        const { body: order } = await machine.createOrder([COLA]);
        const buyer = await stack.createUser();
        await stack.alipay.control.scanQrCode({ qrCode: order.pay.qrCode!, userId: buyer.userId });
        await machine.acknowledgedCallback(order.outOrderNo);
        assert.equal(await balanceOf(stack, operator.accountId), 300);
      } finally {
        await machine.stop();
      }
    });

    it('profit sharing on payment: the operator gets floor(30 %), the school the rest; a failed dispense refunds once and takes the share back', async () => {
      const operator = await stack.alipay.control.createMerchant({ name: '售货机运营商' });
      const machine = await vendingMachine(stack, {
        moneyMode: 'ROYALTY',
        royalty: { account: operator.accountId, bps: 3_000, timing: 'ON_PAYMENT' },
      });
      try {
        // 1,201 fen: the operator's 30 % is 360.3 → 360; the school keeps 841.
        const { body: order } = await machine.createOrder([
          { name: '便当', quantity: 1, unitFen: 901 },
          { name: '可乐', quantity: 1, unitFen: 300 },
        ]);
        const buyer = await stack.createUser();
        const http = await buyer.login();
        const school = stack.school.alipaySellerId!;
        const schoolBefore = await balanceOf(stack, school);
        const buyerBefore = await balanceOf(stack, buyer.userId);
        const pay = await http.post(`/api/v1/terminal-orders/${order.orderNo}/pay`);
        await stack.alipay.control.payTrade({ tradeNO: pay.body.tradeNo, userId: buyer.userId });
        await machine.acknowledgedCallback(order.outOrderNo);
        assert.equal(await balanceOf(stack, operator.accountId), 360);
        assert.equal(await balanceOf(stack, school), schoolBefore + 841);

        // The cola did not come out: 300 fen back, the operator returns floor-kept share: keeps floor(360 × 901 / 1201) = 270.
        const report = { result: 'FAILED' as const, failedItems: [{ index: 1, quantity: 1 }] };
        const reported = await machine.reportDispensed(order.outOrderNo, report);
        assert.equal(reported.status, 200, JSON.stringify(reported.body));
        assert.deepEqual(
          reported.body.dispense && [reported.body.dispense.result, reported.body.dispense.refundFen],
          ['PARTIAL', 300],
        );
        const again = await machine.reportDispensed(order.outOrderNo, report);
        assert.equal(again.status, 200);
        const other = await machine.reportDispensed(order.outOrderNo, { result: 'OK' });
        assert.equal(other.status, 409);
        await eventually(async () => (await balanceOf(stack, buyer.userId)) === buyerBefore - 1_201 + 300, {
          message: 'refund reached the buyer',
        });
        assert.equal(await balanceOf(stack, operator.accountId), 270);
        assert.equal(await balanceOf(stack, school), schoolBefore + 841 - 210);
        const [trade] = (await stack.alipay.control.ledger({ outTradeNo: `${order.orderNo}M1` })).trades;
        assert.equal(trade.refunds.length, 1, 'refunded exactly once');
      } finally {
        await machine.stop();
      }
    });

    it('profit sharing after dispensing: the trade is frozen, then settled on what was kept', async () => {
      const operator = await stack.alipay.control.createMerchant({ name: '窗口承包商' });
      const machine = await vendingMachine(stack, {
        moneyMode: 'ROYALTY',
        royalty: { account: operator.accountId, fixedFen: 50, timing: 'AFTER_DISPENSE' },
      });
      try {
        const { body: order } = await machine.createOrder([COLA]);
        const buyer = await stack.createUser();
        await stack.alipay.control.scanQrCode({ qrCode: order.pay.qrCode!, userId: buyer.userId });
        await machine.acknowledgedCallback(order.outOrderNo);
        assert.equal(await balanceOf(stack, operator.accountId), 0, 'nothing before the goods came out');
        assert.equal((await machine.reportDispensed(order.outOrderNo, { result: 'OK' })).status, 200);
        await eventually(async () => (await balanceOf(stack, operator.accountId)) === 50, {
          timeoutMs: 20_000,
          message: 'the settle split reached the operator',
        });
        // Alipay's settle message reaches the app gateway and is applied (or found applied by the query).
        const logged = await eventually(
          async () => {
            const { rows } = await stack.app.deps.pool.query(
              `select outcome, detail from notify_log where body->>'msg_method' = 'alipay.trade.order.settle.notify'
                 and detail like $1`,
              [`${order.orderNo}S%`],
            );
            return rows[0] as { outcome: string; detail: string } | undefined;
          },
          { message: 'the settle message was received' },
        );
        assert.ok(['APPLIED', 'ALREADY_APPLIED'].includes(logged.outcome), JSON.stringify(logged));
      } finally {
        await machine.stop();
      }
    });

    it('releases the frozen money when the share of what was kept comes to 0, and refunds it whole when nothing came out', async () => {
      const operator = await stack.alipay.control.createMerchant({ name: '零分润承包商' });
      const machine = await vendingMachine(stack, {
        moneyMode: 'ROYALTY',
        royalty: { account: operator.accountId, fixedFen: 50, timing: 'AFTER_DISPENSE' },
      });
      const tradeOf = async (orderNo: string) =>
        (await stack.alipay.control.ledger({ outTradeNo: `${orderNo}Q` })).trades[0];
      const paid = async (items: Parameters<typeof machine.createOrder>[0]) => {
        const { body: order } = await machine.createOrder(items);
        const buyer = await stack.createUser();
        await stack.alipay.control.scanQrCode({ qrCode: order.pay.qrCode!, userId: buyer.userId });
        await machine.acknowledgedCallback(order.outOrderNo);
        return order;
      };
      try {
        // 1 fen kept of 300: the operator's share is floor(1 × 50 / 300) = 0.
        const kept = await paid([
          { name: '口香糖', quantity: 1, unitFen: 1 },
          { name: '矿泉水', quantity: 1, unitFen: 299 },
        ]);
        assert.equal((await tradeOf(kept.orderNo)).frozenFen, 300, 'frozen until the split');
        const report = { result: 'FAILED' as const, failedItems: [{ index: 1, quantity: 1 }] };
        assert.equal((await machine.reportDispensed(kept.outOrderNo, report)).status, 200);
        const released = await eventually(
          async () => {
            const trade = await tradeOf(kept.orderNo);
            return trade.frozenFen === 0 && trade.refundedFen === 299 ? trade : undefined;
          },
          { timeoutMs: 20_000, message: 'the kept fen released and the rest refunded' },
        );
        assert.deepEqual(
          released.settlements.map((s) => [s.outRequestNo, s.finish, s.receivers.length, s.state]),
          [[`${kept.orderNo}S`, true, 0, 'SUCCESS']],
          'one 分账完结 with no receivers',
        );
        assert.equal(await balanceOf(stack, operator.accountId), 0);

        // Nothing came out: the whole refund takes the frozen money back; nothing is left to release.
        const lost = await paid([COLA]);
        assert.equal((await machine.reportDispensed(lost.outOrderNo, { result: 'FAILED' })).status, 200);
        const refunded = await eventually(
          async () => {
            const trade = await tradeOf(lost.orderNo);
            return trade.refundedFen === 300 ? trade : undefined;
          },
          { timeoutMs: 20_000, message: 'the whole order refunded' },
        );
        assert.equal(refunded.frozenFen, 0);
        assert.deepEqual(refunded.settlements, []);
      } finally {
        await machine.stop();
      }
    });
  });

  describe('callbacks, timeouts and late payments', () => {
    it('retries the callback until the machine acknowledges it', async () => {
      const machine = await vendingMachine(stack);
      try {
        machine.dropNext = 2;
        const { body: order } = await machine.createOrder([COLA]);
        const buyer = await stack.createUser();
        await stack.alipay.control.scanQrCode({ qrCode: order.pay.qrCode!, userId: buyer.userId });
        const callback = await machine.acknowledgedCallback(order.outOrderNo, 30_000);
        assert.equal(callback.order.status, 'PAID');
        const tries = machine.callbacks.filter((c) => c.order.outOrderNo === order.outOrderNo);
        assert.deepEqual(
          tries.map((c) => c.acknowledged),
          [false, false, true],
        );
      } finally {
        await machine.stop();
      }
    });

    it('signs the callbacks with the terminal’s current secret once it is rotated', async () => {
      const machine = await vendingMachine(stack);
      try {
        const buyer = await stack.createUser();
        const pay = async (order: { pay: { qrCode: string | null } }) =>
          stack.alipay.control.scanQrCode({ qrCode: order.pay.qrCode!, userId: buyer.userId });
        const first = (await machine.createOrder([COLA])).body;
        await pay(first);
        assert.equal((await machine.acknowledgedCallback(first.outOrderNo)).signatureValid, true);

        // Made with the old secret (valid for the grace period); told with the new one, which is all the
        // machine checks from now on: a callback signed with the old one would be refused (401) until it gave up.
        const rotated = await rotateGatewayClient(stack.app.deps, machine.options.clientId, 10);
        const second = (await machine.createOrder([COLA])).body;
        machine.options.secret = rotated.secret;
        await pay(second);
        assert.equal((await machine.acknowledgedCallback(second.outOrderNo)).signatureValid, true);
        assert.ok(machine.callbacks.every((c) => c.signatureValid));
      } finally {
        await machine.stop();
      }
    });

    it('closes an unpaid order after the timeout and refunds a payment that arrives afterwards', async () => {
      const machine = await vendingMachine(stack);
      try {
        const { body: order } = await machine.createOrder([COLA]);
        const buyer = await stack.createUser();
        const http = await buyer.login();
        // The person opened the page in time; the trade exists, but they pay after the machine gave up.
        const pay = await http.post(`/api/v1/terminal-orders/${order.orderNo}/pay`);
        assert.equal(pay.status, 200, pay.text);
        const buyerBefore = await balanceOf(stack, buyer.userId);
        // Alipay does not answer the close: the trade stays payable until its own time_expire. Every close
        // fails (until the finally below), so that a sweep job running meanwhile on a loaded machine does not
        // close the trade either.
        await stack.alipay.control.injectApiFault({
          method: 'alipay.trade.close',
          rate: 1,
          error: { subCode: 'ACQ.SYSTEM_ERROR' },
        });
        clock.advance(10 * 60_000);
        try {
          await sweepTerminalOrders(stack.app.deps);
        } finally {
          clock.advance(-10 * 60_000);
        }
        const closed = await machine.getOrder(order.outOrderNo);
        assert.equal(closed.body.status, 'CLOSED');
        assert.equal((await http.post(`/api/v1/terminal-orders/${order.orderNo}/pay`)).status, 409);

        const late = await stack.alipay.control.payTrade({ tradeNO: pay.body.tradeNo, userId: buyer.userId });
        assert.equal(late.resultCode, '9000');
        await eventually(async () => (await balanceOf(stack, buyer.userId)) === buyerBefore, {
          message: 'the late payment came back',
        });
        assert.equal((await machine.getOrder(order.outOrderNo)).body.status, 'CLOSED');
        assert.equal(machine.callbacks.length, 0, 'the machine is never told of a closed order');
      } finally {
        await stack.alipay.control.clearFaults();
        await machine.stop();
      }
    });
  });
});
