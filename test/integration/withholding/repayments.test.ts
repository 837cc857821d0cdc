import assert from 'node:assert/strict';
import { reconcileRepayment, repaymentNotification } from '../../../server/src/domain/withholding/debts.js';
import { findRepayment } from '../../../server/src/db/repos/withholding/repayments.js';
import { OffsetClock } from '../../support/clock.js';
import { eventually } from '../../support/http.js';
import { startStack, type Stack } from '../../support/stack.js';
import { gatewayFor, sale, signedPayer, waitForDeduction, type Gateway, type Payer } from './helpers.js';

/**
 * Repayments of arrears (DESIGN §7.4; issue 20, mutation testing): one trade for what is owed at one school,
 * its debts attached so they cannot be charged twice, PAID → the debts SETTLED once, CLOSED → owed again. The
 * notification and the sweep's look (reconcileRepayment) are driven by hand; the sweep job itself waits an
 * hour here. At the edges: which school a repayment is for, when an open one is handed out again, what the
 * sweep's look settles or closes (to the millisecond of expiry), a debt reversed while a repayment holds it.
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

  /**
   * Swipes of the payer, one per amount (the first the oldest), sent together so that each is approved before
   * the first refusal puts the payer in arrears, which Alipay refuses for good: debts in ARREARS.
   */
  async function debtsOf(payer: Payer, amountsFen: number[], terminalId = 'POS-01') {
    await stack.alipay.control.injectApiFault({
      method: 'alipay.trade.pay',
      times: amountsFen.length,
      error: { subCode: 'ACQ.AGREEMENT_INVALID' },
    });
    const swipes = amountsFen.map((amountFen, i) =>
      sale(payer.card.cardNo, amountFen, {
        terminalId,
        occurredAt: new Date(Date.now() - (amountsFen.length - i) * 1_000).toISOString(),
      }),
    );
    const answers = await Promise.all(swipes.map((swipe) => gateway.deduct(swipe)));
    const debts = [];
    for (const res of answers) {
      assert.equal(res.body.decision, 'APPROVED', res.text);
      await waitForDeduction(gateway, res.body.txnNo, 'ARREARS');
      debts.push({ txnNo: res.body.txnNo as string, deductionId: res.body.deductionId as string });
    }
    return debts;
  }

  async function debtOf(payer: Payer, amountFen: number) {
    const [debt] = await debtsOf(payer, [amountFen]);
    return debt;
  }

  /** A new payer whose swipe of `amountFen` Alipay refused for good: one debt in ARREARS. */
  async function inArrears(amountFen: number) {
    const payer = await signedPayer(stack);
    return { ...payer, ...(await debtOf(payer, amountFen)) };
  }

  /** The payer repays what is owed and pays at Alipay, but the notification never comes. */
  async function repaidUnheard(payer: Payer) {
    await stack.alipay.control.injectNotifyFault({
      notifyType: 'trade_status_sync',
      action: 'drop',
      times: 1,
    });
    const repay = await payer.api.post('/api/v1/debts/repay', {});
    assert.equal(repay.status, 201, repay.text);
    await stack.alipay.control.payTrade({ tradeNO: repay.body.tradeNo, userId: payer.user.userId });
    return repay;
  }

  async function repaymentRow(id: string) {
    const { rows } = await deps().pool.query('select * from repayments where id = $1', [id]);
    return rows[0] as {
      status: string;
      amount_fen: number;
      alipay_trade_no: string | null;
      out_trade_no: string;
      expires_at: Date;
      closed_at: Date | null;
    };
  }

  async function debtRow(deductionId: string) {
    const { rows } = await deps().pool.query(
      'select status, repayment_id from deductions where deduction_no = $1',
      [deductionId],
    );
    return rows[0] as { status: string; repayment_id: string | null };
  }

  async function tradeStatus(outTradeNo: string) {
    const [trade] = (await stack.alipay.control.ledger({ outTradeNo })).trades;
    return trade?.status;
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
    const notHers = await other.api.get(`/api/v1/debts/repayments/${repay.body.repaymentId}`);
    assert.deepEqual(
      [notHers.status, notHers.body.error.code, notHers.body.error.message],
      [404, 'NOT_FOUND', 'No such repayment'],
    );
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
    const repay = await repaidUnheard(payer);
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

  it('lists each debt whole, oldest first, and asks which school when the payer owes at several', async () => {
    const payer = await signedPayer(stack);
    const [first, second] = await debtsOf(payer, [410, 590], 'POS-07');
    const other = await stack.addSchool();
    // The second debt belongs to another school (signing there needs that school's own Alipay set-up).
    await deps().pool.query('update deductions set school_id = $1 where deduction_no = $2', [
      other.id,
      second.deductionId,
    ]);

    const debts = (await payer.api.get('/api/v1/debts')).body;
    assert.equal(debts.totalFen, 1_000);
    const [a, b] = debts.items;
    assert.deepEqual(
      [a.txnNo, a.amountFen, a.terminalId, a.place, a.holderName, a.attempts, a.school.id],
      [first.txnNo, 410, 'POS-07', 'test POS · POS-07', payer.card.holderName, 1, stack.school.id],
    );
    assert.deepEqual(
      [b.txnNo, b.amountFen, b.holderName, b.school],
      [second.txnNo, 590, null, { id: other.id, name: other.name }],
      'no binding of that card at the other school: no holder name',
    );
    assert.ok(a.occurredAt <= b.occurredAt && !Number.isNaN(Date.parse(a.occurredAt)));
    assert.deepEqual(
      debts.schools.map((s: Record<string, unknown>) => [s.schoolId, s.schoolName, s.totalFen, s.count]),
      [
        [stack.school.id, stack.school.name, 410, 1],
        [other.id, other.name, 590, 1],
      ],
    );
    assert.deepEqual((await payer.api.get('/api/v1/me')).body.debts, { totalFen: 1_000, count: 2 });

    const unsaid = await payer.api.post('/api/v1/debts/repay', {});
    assert.equal(unsaid.status, 400, unsaid.text);
    assert.deepEqual(
      [unsaid.body.error.code, unsaid.body.error.message, unsaid.body.error.field],
      ['VALIDATION_FAILED', 'body.schoolId: you owe at several schools; say which', 'body.schoolId'],
    );

    const here = await payer.api.post('/api/v1/debts/repay', { schoolId: stack.school.id });
    assert.equal(here.status, 201, here.text);
    assert.equal(here.body.amountFen, 410, 'only what is owed at that school');
    const shown = (await payer.api.get('/api/v1/debts')).body;
    const pending = { repaymentId: here.body.repaymentId, tradeNo: here.body.tradeNo, amountFen: 410 };
    assert.deepEqual(
      shown.schools.map((s: { pendingRepayment: unknown }) => s.pendingRepayment),
      [pending, null],
      'the open repayment is shown under its own school only',
    );
    assert.equal((await debtRow(second.deductionId)).repayment_id, null);
  });

  it('hands out an open repayment again only for the same debts; a debt that joins closes it at Alipay first', async () => {
    const payer = await signedPayer(stack);
    const [older, held] = await debtsOf(payer, [700, 300]);
    // A collector holds the second debt right now (its charge may still succeed): it stays out.
    await deps().pool.query(
      `update deductions set lease_until = now() + interval '1 hour' where deduction_no = $1`,
      [held.deductionId],
    );
    const before = clock.now().getTime();
    const first = await payer.api.post('/api/v1/debts/repay', {});
    const after = clock.now().getTime();
    assert.equal(first.status, 201, first.text);
    assert.equal(first.body.amountFen, 700, 'the debt a collector holds is not repaid twice');
    assert.equal((await debtRow(held.deductionId)).repayment_id, null);
    const row = await repaymentRow(first.body.repaymentId);
    const timeoutMs = deps().config.deductions.repaymentTimeoutMinutes * 60_000;
    const expiresAt = row.expires_at.getTime();
    assert.ok(
      expiresAt >= before + timeoutMs && expiresAt <= after + timeoutMs,
      `expires ${timeoutMs} ms after it is made (${new Date(expiresAt).toISOString()})`,
    );

    // The collector let it go: the open repayment no longer covers everything owed.
    await deps().pool.query('update deductions set lease_until = null where deduction_no = $1', [
      held.deductionId,
    ]);
    const second = await payer.api.post('/api/v1/debts/repay', {});
    assert.equal(second.status, 201, second.text);
    assert.notEqual(second.body.repaymentId, first.body.repaymentId);
    assert.equal(second.body.amountFen, 1_000, 'one trade for everything owed now');
    assert.equal((await repaymentRow(first.body.repaymentId)).status, 'CLOSED');
    assert.equal(await tradeStatus(row.out_trade_no), 'TRADE_CLOSED', 'the old trade can no longer be paid');
    for (const debt of [older, held])
      assert.equal((await debtRow(debt.deductionId)).repayment_id, second.body.repaymentId);
    const again = await payer.api.post('/api/v1/debts/repay', {});
    assert.deepEqual(again.body, second.body, 'the same debts: the same repayment');
  });

  it('makes no repayment while a collector holds every debt, nor while the open one cannot be closed at Alipay', async () => {
    const payer = await signedPayer(stack);
    const [first, joining] = await debtsOf(payer, [500, 200]);
    const hold = (debt: { deductionId: string }, leaseUntil: Date | null) =>
      deps().pool.query('update deductions set lease_until = $2 where deduction_no = $1', [
        debt.deductionId,
        leaseUntil,
      ]);
    const anHourOn = new Date(clock.now().getTime() + 3_600_000);
    await hold(first, anHourOn);
    await hold(joining, anHourOn);
    const allHeld = await payer.api.post('/api/v1/debts/repay', {});
    assert.deepEqual(
      [allHeld.status, allHeld.body.error.code, allHeld.body.error.message],
      [409, 'NO_DEBTS', 'Nothing to repay right now; look at the debts again'],
      'everything owed is being charged by a collector: nothing to repay yet',
    );

    await hold(first, null);
    const open = await payer.api.post('/api/v1/debts/repay', {});
    assert.equal(open.status, 201, open.text);
    assert.equal(open.body.amountFen, 500);
    const openRow = await repaymentRow(open.body.repaymentId);

    // The second debt joins; the open trade must be closed at Alipay first, and Alipay does not answer.
    await hold(joining, null);
    await stack.alipay.control.injectApiFault({
      method: 'alipay.trade.close',
      times: 1,
      error: { subCode: 'ACQ.SYSTEM_ERROR' },
    });
    const unclosed = await payer.api.post('/api/v1/debts/repay', {});
    assert.deepEqual([unclosed.status, unclosed.body.error.code], [503, 'ALIPAY_UNAVAILABLE'], unclosed.text);
    const { rows } = await deps().pool.query('select id, status from repayments where user_id = $1', [
      payer.api.id,
    ]);
    assert.deepEqual(rows, [{ id: open.body.repaymentId, status: 'CREATED' }], 'no second trade beside it');
    assert.equal(await tradeStatus(openRow.out_trade_no), 'WAIT_BUYER_PAY');
    assert.equal((await debtRow(joining.deductionId)).repayment_id, null);

    const both = await payer.api.post('/api/v1/debts/repay', {});
    assert.equal(both.status, 201, both.text);
    assert.equal(both.body.amountFen, 700, 'once Alipay closed the old trade: one trade for both');
    assert.equal((await repaymentRow(open.body.repaymentId)).status, 'CLOSED');
  });

  it('closes a replaced repayment Alipay made no trade for here only, without a close at Alipay', async () => {
    const payer = await inArrears(150);
    await stack.alipay.control.injectApiFault({
      method: 'alipay.trade.create',
      times: 1,
      error: { subCode: 'ACQ.SYSTEM_ERROR' },
    });
    assert.notEqual((await payer.api.post('/api/v1/debts/repay', {})).status, 201);
    const { rows } = await deps().pool.query('select id from repayments where user_id = $1', [payer.api.id]);
    const lost = rows[0] as { id: string };
    assert.equal((await repaymentRow(lost.id)).status, 'CREATED', 'not expired yet');

    // A close at Alipay would fail now: a trade Alipay never made needs none.
    const closeFault = await stack.alipay.control.injectApiFault({
      method: 'alipay.trade.close',
      times: 1,
      error: { subCode: 'ACQ.SYSTEM_ERROR' },
    });
    const repay = await payer.api.post('/api/v1/debts/repay', {});
    assert.equal(repay.status, 201, repay.text);
    assert.equal(repay.body.amountFen, 150);
    assert.equal((await repaymentRow(lost.id)).status, 'CLOSED');
    const unused = (await stack.alipay.control.listFaults()).find((f) => f.id === closeFault.id);
    assert.equal(unused?.hits, 0, 'trade.close was not called');
  });

  it("settles only Alipay's own total, and closes here a repayment Alipay closed before it expired", async () => {
    const payer = await signedPayer(stack);
    const debt = await debtOf(payer, 640);
    const repay = await repaidUnheard(payer);
    // Our record says one fen more than Alipay took.
    await deps().pool.query('update repayments set amount_fen = 641 where id = $1', [repay.body.repaymentId]);
    await reconcileRepayment(deps(), (await findRepayment(deps().db, repay.body.repaymentId))!);
    assert.equal(
      (await repaymentRow(repay.body.repaymentId)).status,
      'CREATED',
      'another total: not settled',
    );
    assert.deepEqual(await debtRow(debt.deductionId), {
      status: 'ARREARS',
      repayment_id: repay.body.repaymentId,
    });

    const next = await signedPayer(stack);
    const owed = await debtOf(next, 230);
    const open = await next.api.post('/api/v1/debts/repay', {});
    const row = (await findRepayment(deps().db, open.body.repaymentId))!;
    await deps().alipay!.closeTrade({
      outTradeNo: row.outTradeNo,
      appAuthToken: deps().schools.appAuthToken(stack.school),
    });
    await reconcileRepayment(deps(), row);
    assert.equal((await repaymentRow(row.id)).status, 'CLOSED', 'closed at Alipay: closed here, not expired');
    assert.deepEqual((await debtRow(owed.deductionId)).repayment_id, null, 'owed again');
  });

  it('closes a repayment from the very millisecond it expires, at Alipay and here, or here only when Alipay has no trade', async () => {
    const payer = await signedPayer(stack);
    const debt = await debtOf(payer, 180);
    const open = await payer.api.post('/api/v1/debts/repay', {});
    const row = (await findRepayment(deps().db, open.body.repaymentId))!;
    const at = (ms: number) => ({ ...deps(), clock: { now: () => new Date(ms) } });

    await reconcileRepayment(at(row.expiresAt.getTime() - 1), row);
    assert.equal((await repaymentRow(row.id)).status, 'CREATED', 'one millisecond before: still open');
    assert.equal(await tradeStatus(row.outTradeNo), 'WAIT_BUYER_PAY');
    await reconcileRepayment(at(row.expiresAt.getTime()), row);
    const closed = await repaymentRow(row.id);
    assert.deepEqual([closed.status, closed.closed_at?.getTime()], ['CLOSED', row.expiresAt.getTime()]);
    assert.equal(await tradeStatus(row.outTradeNo), 'TRADE_CLOSED');
    assert.equal((await debtRow(debt.deductionId)).repayment_id, null);

    // trade.create got no answer and Alipay made no trade: once expired, nothing to close there.
    const lost = await signedPayer(stack);
    const lostDebt = await debtOf(lost, 90);
    await stack.alipay.control.injectApiFault({
      method: 'alipay.trade.create',
      times: 1,
      error: { subCode: 'ACQ.SYSTEM_ERROR' },
    });
    assert.notEqual((await lost.api.post('/api/v1/debts/repay', {})).status, 201);
    const kept = (await deps().pool.query(`select id from repayments where user_id = $1`, [lost.api.id]))
      .rows[0] as { id: string };
    const unanswered = (await findRepayment(deps().db, kept.id))!;
    await reconcileRepayment(at(unanswered.expiresAt.getTime() - 1), unanswered);
    assert.equal((await repaymentRow(kept.id)).status, 'CREATED', 'not expired: the sweep waits');
    await reconcileRepayment(at(unanswered.expiresAt.getTime()), unanswered);
    assert.equal((await repaymentRow(kept.id)).status, 'CLOSED');
    assert.equal((await debtRow(lostDebt.deductionId)).repayment_id, null);
  });

  it('voids a debt reversed while a repayment holds it once that repayment closes unpaid', async () => {
    const payer = await signedPayer(stack);
    const [reversed, kept] = await debtsOf(payer, [510, 120]);
    const repay = await payer.api.post('/api/v1/debts/repay', {});
    assert.equal(repay.body.amountFen, 630);
    const res = await gateway.reverse(reversed.txnNo);
    assert.equal(res.status, 200, res.text);
    assert.equal(
      (await debtRow(reversed.deductionId)).status,
      'ARREARS',
      "the repayment's trade already asks for it",
    );

    await reconcileRepayment(deps(), (await findRepayment(deps().db, repay.body.repaymentId))!, {
      close: true,
    });
    assert.deepEqual(await debtRow(reversed.deductionId), { status: 'REVERSED', repayment_id: null });
    const { rows } = await deps().pool.query('select reversed_at from deductions where deduction_no = $1', [
      reversed.deductionId,
    ]);
    assert.ok(rows[0].reversed_at, 'reversed_at set');
    assert.deepEqual(await debtRow(kept.deductionId), { status: 'ARREARS', repayment_id: null });
    assert.equal((await payer.api.get('/api/v1/debts')).body.totalFen, 120);
  });
});
