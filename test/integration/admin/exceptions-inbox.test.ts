import assert from 'node:assert/strict';
import { refreshDailyStats } from '../../../server/src/domain/dashboard/daily-stats.js';
import { adminOf } from '../../support/admins.js';
import { arrearsOf, creditFailedRecharge } from './helpers.js';
import { eventually } from '../../support/http.js';
import { startStack, type Stack } from '../../support/stack.js';
import { userWithCard, vendorCreditsFor, waitForRecharge } from '../student/helpers.js';
import {
  chargesOf,
  gatewayFor,
  sale,
  signedPayer,
  waitForDeduction,
  type Gateway,
} from '../withholding/helpers.js';

/**
 * The school admins' exceptions inbox end to end against both sandboxes (issue 13): every action through
 * the HTTP API as staff would tap it, each checked at the card system's or Alipay's ledger, each idempotent
 * under a double tap and written in the audit log.
 */
describe('exceptions inbox', function () {
  this.timeout(120_000);
  let stack: Stack;
  let gateway: Gateway;
  let staff: Awaited<ReturnType<typeof adminOf>>['http'];
  let viewer: Awaited<ReturnType<typeof adminOf>>['http'];
  let base: string;

  before(async () => {
    stack = await startStack({
      env: {
        RECHARGE_CREDIT_RETRY_MS: '50',
        DEDUCTION_RETRY_SCALE: '0.001',
        DEDUCTION_POLL_INTERVAL_MS: '100',
        ADMIN_STATS_LAG_MS: '0',
      },
      schoolSettings: { retryScheduleSeconds: [100] },
    });
    gateway = await gatewayFor(stack);
    staff = (await adminOf(stack, stack.school.id, 'STAFF')).http;
    viewer = (await adminOf(stack, stack.school.id, 'VIEWER')).http;
    base = `/api/v1/admin/schools/${stack.school.id}`;
  });
  after(() => stack.stop());

  async function auditActions(target: string): Promise<string[]> {
    const { rows } = await stack.app.deps.pool.query(
      'select action from audit_log where school_id = $1 and target = $2 order by id',
      [stack.school.id, target],
    );
    return rows.map((r) => r.action as string);
  }

  async function outTradeNoOf(orderId: string): Promise<string> {
    const { rows } = await stack.app.deps.pool.query(
      'select out_trade_no from recharge_orders where id = $1',
      [orderId],
    );
    return rows[0].out_trade_no;
  }

  it('lists a CREDIT_FAILED recharge and credits it once when staff retry crediting, even tapped twice', async () => {
    const failed = await creditFailedRecharge(stack);
    const inbox = await staff.get(`${base}/inbox?kind=recharge.credit-failed`);
    assert.equal(inbox.status, 200, inbox.text);
    const item = inbox.body.items.find((i: { id: string }) => i.id === failed.orderId);
    assert.ok(item, 'the recharge is in the inbox');
    assert.deepEqual(
      item.actions.map((a: { name: string }) => a.name),
      ['retry-credit', 'refund'],
    );

    await stack.cardsys.control.setStatus(stack.school.code, failed.card.cardNo, 'NORMAL');
    const path = `${base}/inbox/recharge.credit-failed/${failed.orderId}/retry-credit`;
    const [first, second] = await Promise.all([staff.post(path, {}), staff.post(path, {})]);
    assert.deepEqual([first.status, second.status], [200, 200], `${first.text} ${second.text}`);
    assert.deepEqual(
      [first.body.changed, second.body.changed].sort(),
      [false, true],
      'one tap does it, the other changes nothing',
    );
    await waitForRecharge(failed.api, failed.orderId, 'CREDITED');
    const outTradeNo = await outTradeNoOf(failed.orderId);
    assert.equal((await vendorCreditsFor(stack, failed.card.cardNo, outTradeNo)).length, 1, 'credited once');
    assert.deepEqual(await auditActions(outTradeNo), ['recharge.credit.retry']);
    const again = await staff.post(path, {});
    assert.deepEqual([again.body.changed, again.body.status], [false, 'CREDITED']);
  });

  it('refunds a CREDIT_FAILED recharge at Alipay with one stable request number (REFUNDED)', async () => {
    const failed = await creditFailedRecharge(stack, 2_000);
    const path = `${base}/inbox/recharge.credit-failed/${failed.orderId}/refund`;
    const [first, second] = await Promise.all([staff.post(path, {}), staff.post(path, {})]);
    assert.deepEqual([first.status, second.status], [200, 200], `${first.text} ${second.text}`);
    await waitForRecharge(failed.api, failed.orderId, 'REFUNDED');
    const outTradeNo = await outTradeNoOf(failed.orderId);
    const { trades } = await stack.alipay.control.ledger({});
    const trade = trades.find((t) => t.outTradeNo === outTradeNo)!;
    assert.equal(trade.refundedFen, 2_000, 'refunded once, in full');
    assert.deepEqual(await auditActions(outTradeNo), ['recharge.refund']);
    const retry = await staff.post(`${base}/inbox/recharge.credit-failed/${failed.orderId}/retry-credit`, {});
    assert.equal(retry.body.changed, false);
    assert.equal((await vendorCreditsFor(stack, failed.card.cardNo, outTradeNo)).length, 0, 'never credited');
  });

  it('refuses to refund a recharge the card system has credited, and says why', async () => {
    const payer = await userWithCard(stack);
    const created = await payer.api.post('/api/v1/recharges', { bindingId: payer.bindingId, amountFen: 500 });
    await stack.alipay.control.payTrade({ tradeNO: created.body.tradeNo, userId: payer.user.userId });
    await waitForRecharge(payer.api, created.body.id, 'CREDITED');
    const res = await staff.post(`${base}/inbox/recharge.credit-failed/${created.body.id}/refund`, {});
    assert.deepEqual([res.status, res.body.error.code], [409, 'RECHARGE_ALREADY_CREDITED']);
  });

  it('asks the card system before refunding: a credit found in its records makes the order CREDITED instead', async () => {
    const failed = await creditFailedRecharge(stack, 900);
    const outTradeNo = await outTradeNoOf(failed.orderId);
    // The vendor credits the flow number after we gave up (e.g. its answer was lost): only its records know.
    await stack.cardsys.control.setStatus(stack.school.code, failed.card.cardNo, 'NORMAL');
    await stack.app.deps.schools
      .cardSystem(stack.school)
      .recharge({ cardNo: failed.card.cardNo, amountFen: 900, flowNo: outTradeNo });
    const res = await staff.post(`${base}/inbox/recharge.credit-failed/${failed.orderId}/refund`, {});
    assert.deepEqual([res.status, res.body.error.code], [409, 'RECHARGE_ALREADY_CREDITED']);
    await waitForRecharge(failed.api, failed.orderId, 'CREDITED');
    const { trades } = await stack.alipay.control.ledger({});
    assert.equal(trades.find((t) => t.outTradeNo === outTradeNo)!.refundedFen, 0, 'no money went back');
    assert.deepEqual(await auditActions(outTradeNo), ['recharge.found-credited']);
  });

  it('lets viewers read the inbox but not act, and masks card numbers for them', async () => {
    const failed = await creditFailedRecharge(stack, 800);
    const seen = await viewer.get(`${base}/inbox?kind=recharge.credit-failed`);
    const item = seen.body.items.find((i: { id: string }) => i.id === failed.orderId);
    assert.match(item.cardNo, /^\*+\d{4}$/);
    const acted = await viewer.post(`${base}/inbox/recharge.credit-failed/${failed.orderId}/refund`, {});
    assert.equal(acted.status, 403);
    assert.deepEqual(await auditActions(await outTradeNoOf(failed.orderId)), []);
  });

  /** The deduction's row id (the gateway answers with its number). */
  it('waives an ARREARS deduction: WAIVED, the school takes the loss, the payer is approved again', async () => {
    const payer = await signedPayer(stack, { balanceFen: 0 });
    const owed = await arrearsOf(stack, gateway, payer, 600);
    const blocked = await gateway.deduct(sale(payer.card.cardNo, 100));
    assert.equal(blocked.body.reason, 'IN_ARREARS');

    const path = `${base}/inbox/deduction.unpaid/${owed.id}/waive`;
    const noReason = await staff.post(path, {});
    assert.deepEqual([noReason.status, noReason.body.error.field], [400, 'body.reason']);
    const [first, second] = await Promise.all([
      staff.post(path, { reason: '家庭困难，学校承担' }),
      staff.post(path, { reason: '家庭困难，学校承担' }),
    ]);
    assert.deepEqual([first.status, second.status], [200, 200], `${first.text} ${second.text}`);
    assert.deepEqual([first.body.changed, second.body.changed].sort(), [false, true]);
    assert.equal((await gateway.get(`/gateway/v1/deductions/${owed.txnNo}`)).body.status, 'WAIVED');

    await stack.alipay.control.setBalance(payer.user.userId, 10_000);
    const next = await gateway.deduct(sale(payer.card.cardNo, 100));
    assert.equal(next.body.decision, 'APPROVED', 'approvals resume');
    assert.equal((await payer.api.get('/api/v1/debts')).body.totalFen, 0);
    const { paid } = await chargesOf(stack, owed.deductionNo);
    assert.equal(paid.length, 0, 'nothing was charged for the waived swipe');
    const { rows } = await stack.app.deps.pool.query(
      `select action, after->>'reason' as reason from audit_log where target = $1`,
      [owed.deductionNo],
    );
    assert.deepEqual(rows, [{ action: 'deduction.waive', reason: '家庭困难，学校承担' }]);
  });

  it('collects an ARREARS deduction now with one attempt of the collector, tapped twice: COLLECTED, one trade', async () => {
    const payer = await signedPayer(stack, { balanceFen: 0 });
    const owed = await arrearsOf(stack, gateway, payer, 900);
    const item = (await staff.get(`${base}/inbox?kind=deduction.unpaid`)).body.items.find(
      (i: { id: string }) => i.id === owed.id,
    );
    assert.deepEqual(
      item.actions.map((a: { name: string }) => a.name),
      ['collect-now', 'waive'],
    );
    await stack.alipay.control.setBalance(payer.user.userId, 5_000);
    const path = `${base}/inbox/deduction.unpaid/${owed.id}/collect-now`;
    const [first, second] = await Promise.all([staff.post(path, {}), staff.post(path, {})]);
    assert.deepEqual([first.status, second.status], [200, 200], `${first.text} ${second.text}`);
    const done = [first.body, second.body].find((b) => b.changed);
    assert.equal(done.status, 'COLLECTED');
    await waitForDeduction(gateway, owed.txnNo, 'COLLECTED');
    const { paid } = await chargesOf(stack, owed.deductionNo);
    assert.equal(paid.length, 1, 'exactly one paid trade');
    assert.equal(paid[0].totalFen, 900);
    assert.equal((await gateway.deduct(sale(payer.card.cardNo, 100))).body.decision, 'APPROVED');
  });

  it('leaves a deduction in ARREARS when collecting now fails again, as the collector would', async () => {
    const payer = await signedPayer(stack, { balanceFen: 0 });
    const owed = await arrearsOf(stack, gateway, payer, 300);
    const res = await staff.post(`${base}/inbox/deduction.unpaid/${owed.id}/collect-now`, {});
    assert.deepEqual([res.body.changed, res.body.status], [true, 'ARREARS']);
    const waive = await staff.post(`${base}/inbox/deduction.unpaid/${owed.id}/waive`, {
      reason: '测试',
    });
    assert.equal(waive.body.status, 'WAIVED');
  });

  it("retries a reversal's refund that Alipay refused: refunded once under the swipe's _R number, the swipe REVERSED", async () => {
    const payer = await signedPayer(stack, { balanceFen: 5_000 });
    const body = sale(payer.card.cardNo, 260);
    const deductionNo = (await gateway.deduct(body)).body.deductionId as string;
    await waitForDeduction(gateway, body.txnNo, 'COLLECTED');
    await stack.alipay.control.injectApiFault({
      method: 'alipay.trade.refund',
      times: 1,
      error: { subCode: 'ACQ.TRADE_NOT_ALLOW_REFUND' },
    });
    const reversed = await gateway.reverse(body.txnNo);
    assert.deepEqual([reversed.body.status, reversed.body.reversal.refund], ['COLLECTED', 'PENDING']);
    const item = await eventually(
      async () =>
        (await staff.get(`${base}/inbox?kind=refund.stuck&limit=50`)).body.items.find(
          (i: { orderNo: string }) => i.orderNo === deductionNo,
        ),
      { message: 'the refused refund in the inbox' },
    );
    assert.equal(item.status, 'FAILED');

    const retried = await staff.post(`${base}/inbox/refund.stuck/${item.id}/retry-refund`, {});
    assert.equal(retried.status, 200, retried.text);
    assert.deepEqual([retried.body.changed, retried.body.status], [true, 'REFUNDED']);
    const detail = (await gateway.get(`/gateway/v1/deductions/${body.txnNo}`)).body;
    assert.deepEqual([detail.status, detail.reversal.refund], ['REVERSED', 'REFUNDED']);
    const [trade] = (await chargesOf(stack, deductionNo)).trades;
    assert.deepEqual(
      trade.refunds.map((r: { outRequestNo: string }) => r.outRequestNo),
      [`${deductionNo}_R`],
    );
    assert.equal(trade.refundedFen, 260);
  });

  it("shows an order's timeline: status changes, every call with its outcome and duration, notifications, admin actions", async () => {
    const failed = await creditFailedRecharge(stack, 1_200);
    await stack.cardsys.control.setStatus(stack.school.code, failed.card.cardNo, 'NORMAL');
    await staff.post(`${base}/inbox/recharge.credit-failed/${failed.orderId}/retry-credit`, {});
    const detail = await staff.get(`${base}/orders/RECHARGE/${failed.orderId}`);
    assert.equal(detail.status, 200, detail.text);
    const timeline = detail.body.timeline as Array<Record<string, unknown>>;
    const statuses = timeline.filter((e) => e.kind === 'STATUS').map((e) => e.title);
    assert.deepEqual(statuses, [
      'CREATED',
      'CREATED → PAID',
      'PAID → CREDIT_FAILED',
      'CREDIT_FAILED → PAID',
      'PAID → CREDITED',
    ]);
    const calls = timeline.filter((e) => e.kind === 'CALL');
    assert.ok(
      calls.some((c) => c.title === 'alipay.trade.create' && c.outcome === 'OK' && c.code === '10000'),
    );
    const recharges = calls.filter((c) => c.title === '一卡通 recharge');
    assert.deepEqual(
      recharges.map((c) => [c.outcome, c.subCode]),
      [
        ['FINAL', 'CARD_FROZEN'],
        ['OK', null],
      ],
    );
    assert.ok(calls.every((c) => typeof c.durationMs === 'number'));
    assert.ok(timeline.some((e) => e.kind === 'NOTIFICATION' && e.outcome === 'APPLIED'));
    assert.ok(timeline.some((e) => e.kind === 'ADMIN' && e.title === 'recharge.credit.retry'));
    const seen = await viewer.get(`${base}/orders/RECHARGE/${failed.orderId}`);
    assert.match(seen.body.order.cardNo, /^\*+\d{4}$/);
    assert.match(seen.body.order.holderName, /\*/);
  });

  it('searches orders by card, order number, txnNo, status and time, paged', async () => {
    const payer = await signedPayer(stack);
    const txns = [];
    for (let i = 0; i < 3; i += 1) {
      const res = await gateway.deduct(sale(payer.card.cardNo, 100 + i));
      txns.push(res.body);
    }
    await Promise.all(txns.map((t) => waitForDeduction(gateway, t.txnNo, 'COLLECTED')));
    const page1 = await staff.get(`${base}/orders?kind=DEDUCTION&cardNo=${payer.card.cardNo}&limit=2`);
    assert.equal(page1.status, 200, page1.text);
    assert.deepEqual(
      page1.body.items.map((i: { txnNo: string }) => i.txnNo),
      [txns[2].txnNo, txns[1].txnNo],
    );
    const page2 = await staff.get(
      `${base}/orders?kind=DEDUCTION&cardNo=${payer.card.cardNo}&limit=2&cursor=${page1.body.nextCursor}`,
    );
    assert.deepEqual(
      page2.body.items.map((i: { txnNo: string }) => i.txnNo),
      [txns[0].txnNo],
    );
    const byTxn = await staff.get(`${base}/orders?kind=DEDUCTION&txnNo=${txns[1].txnNo}`);
    assert.equal(byTxn.body.items[0].orderNo, txns[1].deductionId);
    const byNo = await staff.get(`${base}/orders?kind=DEDUCTION&orderNo=${txns[1].deductionId}`);
    assert.equal(byNo.body.items[0].txnNo, txns[1].txnNo);
    const since = new Date(Date.now() - 60_000).toISOString();
    const byTime = await staff.get(`${base}/orders?kind=DEDUCTION&status=COLLECTED&from=${since}&limit=50`);
    assert.ok(
      txns.every((t) => byTime.body.items.some((i: { orderNo: string }) => i.orderNo === t.deductionId)),
    );
    const bad = await staff.get(`${base}/orders?kind=DEDUCTION&from=yesterday`);
    assert.deepEqual([bad.status, bad.body.error.field], [400, 'query.from']);
  });

  it('shows on the dashboard what happened today and what stands open', async () => {
    await refreshDailyStats(stack.app.deps);
    const before = (await viewer.get(`${base}/dashboard`)).body;
    const payer = await signedPayer(stack);
    const approved = await gateway.deduct(sale(payer.card.cardNo, 250));
    await waitForDeduction(gateway, approved.body.txnNo, 'COLLECTED');
    const declined = await gateway.deduct(sale('99999999', 100));
    assert.equal(declined.body.decision, 'DECLINED');
    const failed = await creditFailedRecharge(stack, 700);
    await eventually(async () => (await refreshDailyStats(stack.app.deps)).deductions >= 0);
    await refreshDailyStats(stack.app.deps);
    const after = (await viewer.get(`${base}/dashboard`)).body;
    assert.equal(after.days.length, 7);
    const [today, was] = [after.days[0], before.days[0]];
    assert.equal(today.deductions.approvedCount - was.deductions.approvedCount, 1);
    assert.equal(today.deductions.approvedFen - was.deductions.approvedFen, 250);
    assert.equal(today.deductions.collectedCount - was.deductions.collectedCount, 1);
    assert.equal(
      (today.deductions.declinedByReason[declined.body.reason] ?? 0) -
        (was.deductions.declinedByReason[declined.body.reason] ?? 0),
      1,
    );
    assert.equal(today.recharges.paidCount - was.recharges.paidCount, 1);
    assert.equal(today.recharges.paidFen - was.recharges.paidFen, 700);
    assert.equal(today.recharges.creditFailedCount - was.recharges.creditFailedCount, 1);
    assert.equal(after.now.recharges.creditFailed.count - before.now.recharges.creditFailed.count, 1);
    assert.equal(after.now.activeBindings - before.now.activeBindings, 2);
    assert.equal(after.now.activeAgreements - before.now.activeAgreements, 1);
    assert.ok(after.now.inboxCount >= 1);
    assert.ok(after.statsAsOf);
    assert.ok(failed.orderId);
  });
});
