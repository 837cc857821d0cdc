import assert from 'node:assert/strict';
import { reconcileRepayment, repaymentNotification } from '../../../server/src/domain/withholding/debts.js';
import { findRepayment } from '../../../server/src/db/repos/withholding/repayments.js';
import { OffsetClock } from '../../support/clock.js';
import { eventually } from '../../support/http.js';
import { startStack, type Stack } from '../../support/stack.js';
import { gatewayFor, sale, signedPayer, waitForDeduction, type Gateway } from './helpers.js';

/**
 * Repayments of arrears (DESIGN §7.4; issue 20, mutation testing): one trade for what is owed at one school,
 * its debts attached so they cannot be charged twice, PAID → the debts SETTLED once, CLOSED → owed again. The
 * notification and the sweep's look (reconcileRepayment) are driven by hand; the sweep job itself waits an
 * hour here.
 */
describe('repaying arrears', function () {
  this.timeout(120_000);
  let stack: Stack;
  let gateway: Gateway;
  const clock = new OffsetClock();

  before(async function () {
    this.timeout(180_000);
    stack = await startStack({ clock, env: { RECHARGE_SWEEP_EVERY_MS: '3600000' } });
    gateway = await gatewayFor(stack);
  });
  afterEach(() => stack.alipay.control.clearFaults());
  after(() => stack?.stop());

  const deps = () => stack.app.deps;

  /** A payer whose swipe of `amountFen` Alipay refused for good: one debt in ARREARS. */
  async function inArrears(amountFen: number) {
    const payer = await signedPayer(stack);
    await stack.alipay.control.injectApiFault({
      method: 'alipay.trade.pay',
      times: 1,
      error: { subCode: 'ACQ.AGREEMENT_INVALID' },
    });
    const res = await gateway.deduct(sale(payer.card.cardNo, amountFen));
    assert.equal(res.body.decision, 'APPROVED', res.text);
    await waitForDeduction(gateway, res.body.txnNo, 'ARREARS');
    return { ...payer, txnNo: res.body.txnNo as string, deductionId: res.body.deductionId as string };
  }

  async function repaymentRow(id: string) {
    const { rows } = await deps().pool.query('select * from repayments where id = $1', [id]);
    return rows[0] as {
      status: string;
      amount_fen: number;
      alipay_trade_no: string | null;
      out_trade_no: string;
    };
  }

  async function debtRow(deductionId: string) {
    const { rows } = await deps().pool.query(
      'select status, repayment_id from deductions where deduction_no = $1',
      [deductionId],
    );
    return rows[0] as { status: string; repayment_id: string | null };
  }

  function form(
    repayment: { out_trade_no: string; amount_fen: number },
    fields: Record<string, string> = {},
  ) {
    return {
      out_trade_no: repayment.out_trade_no,
      trade_no: `2026${Date.now()}`,
      total_amount: (repayment.amount_fen / 100).toFixed(2),
      seller_id: stack.school.alipaySellerId!,
      trade_status: 'TRADE_SUCCESS',
      ...fields,
    };
  }

  it('shows what is owed, per school, and repays it in one trade that settles the debt once', async () => {
    const payer = await inArrears(700);
    const debts = (await payer.api.get('/api/v1/debts')).body;
    assert.equal(debts.totalFen, 700);
    assert.equal(debts.pendingRepayment, null);
    assert.deepEqual(
      debts.items.map((d: Record<string, unknown>) => [
        d.kind,
        d.amountFen,
        d.status,
        d.txnNo,
        d.cardNo,
        d.lastErrorCode,
        d.nextAttemptAt,
        (d.school as { id: string }).id,
      ]),
      [
        [
          'WITHHOLDING',
          700,
          'ARREARS',
          payer.txnNo,
          payer.card.cardNo,
          'ACQ.AGREEMENT_INVALID',
          null,
          stack.school.id,
        ],
      ],
    );
    assert.deepEqual(
      debts.schools.map((s: Record<string, unknown>) => [
        s.schoolId,
        s.schoolName,
        s.totalFen,
        s.count,
        s.pendingRepayment,
      ]),
      [[stack.school.id, stack.school.name, 700, 1, null]],
    );
    assert.deepEqual((await payer.api.get('/api/v1/me')).body.debts, { totalFen: 700, count: 1 });

    const elsewhere = await payer.api.post('/api/v1/debts/repay', { schoolId: (await stack.addSchool()).id });
    assert.equal(elsewhere.status, 409);
    assert.equal(elsewhere.body.error.code, 'NO_DEBTS', 'nothing owed at that school');

    const repay = await payer.api.post('/api/v1/debts/repay', { schoolId: stack.school.id });
    assert.equal(repay.status, 201, repay.text);
    assert.equal(repay.body.amountFen, 700);
    const row = await repaymentRow(repay.body.repaymentId);
    assert.deepEqual([row.status, row.amount_fen, row.alipay_trade_no], ['CREATED', 700, repay.body.tradeNo]);
    assert.deepEqual(await debtRow(payer.deductionId), {
      status: 'ARREARS',
      repayment_id: repay.body.repaymentId,
    });
    const [trade] = (await stack.alipay.control.ledger({ outTradeNo: row.out_trade_no })).trades;
    assert.deepEqual(
      [trade.totalFen, trade.subject, trade.status],
      [700, `${stack.school.name} 校园卡欠款`, 'WAIT_BUYER_PAY'],
    );
    const shown = (await payer.api.get('/api/v1/debts')).body;
    const pending = { repaymentId: repay.body.repaymentId, tradeNo: repay.body.tradeNo, amountFen: 700 };
    assert.deepEqual(shown.pendingRepayment, pending);
    assert.deepEqual(shown.schools[0].pendingRepayment, pending);

    // Someone else cannot look at it.
    const other = await signedPayer(stack);
    assert.equal((await other.api.get(`/api/v1/debts/repayments/${repay.body.repaymentId}`)).status, 404);
    assert.equal((await other.api.post('/api/v1/debts/repay', {})).body.error.code, 'NO_DEBTS');

    await stack.alipay.control.payTrade({ tradeNO: repay.body.tradeNo, userId: payer.user.userId });
    const paid = await eventually(async () => {
      const view = (await payer.api.get(`/api/v1/debts/repayments/${repay.body.repaymentId}`)).body;
      return view.status === 'PAID' ? view : undefined;
    });
    assert.deepEqual(paid, {
      id: repay.body.repaymentId,
      amountFen: 700,
      status: 'PAID',
      tradeNo: repay.body.tradeNo,
    });
    assert.equal((await debtRow(payer.deductionId)).status, 'SETTLED');
    const { rows } = await deps().pool.query(
      `select outcome, detail from notify_log where body->>'out_trade_no' = $1 and outcome = 'APPLIED'`,
      [row.out_trade_no],
    );
    assert.deepEqual(rows, [{ outcome: 'APPLIED', detail: 'PAID, 1 deductions SETTLED' }]);
    // The same notification again changes nothing.
    const again = await repaymentNotification(deps(), deps().db, form(row, { trade_no: repay.body.tradeNo }));
    assert.deepEqual(again, { outcome: 'ALREADY_APPLIED', detail: 'repayment is PAID' });
    assert.deepEqual(await payer.api.get('/api/v1/debts').then((r) => r.body.totalFen), 0);
    assert.equal((await payer.api.post('/api/v1/debts/repay', {})).body.error.code, 'NO_DEBTS');
    assert.equal((await stack.alipay.control.getUser(payer.user.userId)).balanceFen, 100_000 - 700);
  });

  it('checks a notification against the repayment: unknown, another amount, waiting, closed', async () => {
    const payer = await inArrears(450);
    const repay = await payer.api.post('/api/v1/debts/repay', {});
    const row = await repaymentRow(repay.body.repaymentId);
    const run = (fields: Record<string, string>) =>
      repaymentNotification(deps(), deps().db, form(row, fields));

    assert.deepEqual(await run({ out_trade_no: `${row.out_trade_no}X` }), {
      outcome: 'REJECTED_UNKNOWN_ORDER',
    });
    assert.equal((await run({ total_amount: '4.49' })).outcome, 'REJECTED_AMOUNT');
    assert.deepEqual(await run({ trade_status: 'WAIT_BUYER_PAY' }), {
      outcome: 'IGNORED',
      detail: 'WAIT_BUYER_PAY',
    });
    assert.equal((await repaymentRow(repay.body.repaymentId)).status, 'CREATED');

    assert.deepEqual(await run({ trade_status: 'TRADE_CLOSED' }), {
      outcome: 'APPLIED',
      detail: 'TRADE_CLOSED',
    });
    assert.equal((await repaymentRow(repay.body.repaymentId)).status, 'CLOSED');
    assert.deepEqual(
      await debtRow(payer.deductionId),
      { status: 'ARREARS', repayment_id: null },
      'owed again',
    );
    assert.deepEqual(await run({ trade_status: 'TRADE_CLOSED' }), {
      outcome: 'IGNORED',
      detail: 'TRADE_CLOSED',
    });

    // Money that comes after the close still settles the debt it was for, if no other repayment took it.
    const late = await run({ trade_status: 'TRADE_SUCCESS' });
    assert.equal(late.outcome, 'APPLIED');
    assert.equal((await repaymentRow(repay.body.repaymentId)).status, 'PAID');
  });

  it('closes a repayment Alipay refuses to create and lets its debt go; keeps one whose answer was lost', async () => {
    const payer = await inArrears(320);
    await stack.alipay.control.injectApiFault({
      method: 'alipay.trade.create',
      times: 1,
      error: { subCode: 'ACQ.INVALID_PARAMETER' },
    });
    const refused = await payer.api.post('/api/v1/debts/repay', {});
    assert.notEqual(refused.status, 201);
    const { rows: closed } = await deps().pool.query('select status from repayments where user_id = $1', [
      payer.api.id,
    ]);
    assert.deepEqual(
      closed.map((r) => r.status),
      ['CLOSED'],
    );
    assert.deepEqual(await debtRow(payer.deductionId), { status: 'ARREARS', repayment_id: null });

    await stack.alipay.control.injectApiFault({
      method: 'alipay.trade.create',
      times: 1,
      error: { subCode: 'ACQ.SYSTEM_ERROR' },
    });
    const lost = await payer.api.post('/api/v1/debts/repay', {});
    assert.notEqual(lost.status, 201);
    const { rows: open } = await deps().pool.query(
      `select id, status from repayments where user_id = $1 and status = 'CREATED'`,
      [payer.api.id],
    );
    assert.equal(open.length, 1, 'an unanswered create may exist at Alipay: kept for the sweep');
    assert.equal((await debtRow(payer.deductionId)).repayment_id, open[0].id);

    // Repaying again closes that one first (Alipay has no trade for it), then makes a new one.
    const repay = await payer.api.post('/api/v1/debts/repay', {});
    assert.equal(repay.status, 201, repay.text);
    assert.notEqual(repay.body.repaymentId, open[0].id);
    assert.equal((await repaymentRow(open[0].id)).status, 'CLOSED');
    assert.equal(repay.body.amountFen, 320);
    const same = await payer.api.post('/api/v1/debts/repay', {});
    assert.deepEqual(same.body, repay.body, 'the same debts: the same repayment handed out again');
  });

  it('settles a paid repayment whose notification was lost, and closes an expired one at Alipay and here', async () => {
    const payer = await inArrears(260);
    await stack.alipay.control.injectNotifyFault({
      notifyType: 'trade_status_sync',
      action: 'drop',
      times: 1,
    });
    const repay = await payer.api.post('/api/v1/debts/repay', {});
    await stack.alipay.control.payTrade({ tradeNO: repay.body.tradeNo, userId: payer.user.userId });
    const unpaid = (await findRepayment(deps().db, repay.body.repaymentId))!;
    assert.equal(unpaid.status, 'CREATED');
    await reconcileRepayment(deps(), unpaid);
    assert.equal((await repaymentRow(repay.body.repaymentId)).status, 'PAID');
    assert.equal((await debtRow(payer.deductionId)).status, 'SETTLED');

    const next = await inArrears(180);
    const open = await next.api.post('/api/v1/debts/repay', {});
    const row = (await findRepayment(deps().db, open.body.repaymentId))!;
    await reconcileRepayment(deps(), row);
    assert.equal((await repaymentRow(row.id)).status, 'CREATED', 'unpaid and not expired: left alone');
    clock.advance(row.expiresAt.getTime() - clock.now().getTime() + 1_000);
    await reconcileRepayment(deps(), row);
    assert.equal((await repaymentRow(row.id)).status, 'CLOSED');
    const [trade] = (await stack.alipay.control.ledger({ outTradeNo: row.outTradeNo })).trades;
    assert.equal(trade.status, 'TRADE_CLOSED', 'closed at Alipay too, so it cannot be paid');
    assert.deepEqual(await debtRow(next.deductionId), { status: 'ARREARS', repayment_id: null });
  });
});
