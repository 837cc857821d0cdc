import assert from 'node:assert/strict';
import { findRepayment } from '../../../server/src/db/repos/withholding/repayments.js';
import { updateSchoolSettings } from '../../../server/src/domain/schools/schools.js';
import { TEST_OPERATOR } from '../../support/admins.js';
import { reconcileRepayment } from '../../../server/src/domain/withholding/debts.js';
import type { CampusCodeUploadAnswer } from '../../../shared/gateway-api.js';
import { adminOf } from '../../support/admins.js';
import { eventually } from '../../support/http.js';
import { startStack, type Stack } from '../../support/stack.js';
import { userWithCard } from '../student/helpers.js';
import { gatewayFor, type Gateway } from '../withholding/helpers.js';
import { issuedCode, uploadBatch, waitForCampusCodePayment } from './helpers.js';

/**
 * The student's side of campus codes (DESIGN §7.5): payments on the card's statement with their state, a
 * payment Alipay refused as a debt of the student's bindings, repaid like withholding arrears, and the
 * way into Alipay's campus code from the card home.
 */
describe('campus codes for the student', () => {
  let stack: Stack;
  let device: Gateway;

  before(async function () {
    // Starting the stack (PostgreSQL, sandboxes, server) takes longer than a test on a busy machine.
    this.timeout(120_000);
    stack = await startStack();
    device = await gatewayFor(stack);
  });
  after(() => stack.stop());

  /** A student with a bound card and an Alipay account. */
  async function student(balanceFen = 10_000) {
    const bound = await userWithCard(stack, { balanceFen });
    return { ...bound, studentNo: bound.card.studentNo!, studentName: bound.card.holderName };
  }

  async function payWithCode(who: Awaited<ReturnType<typeof student>>, amountFen: number) {
    const payment = await issuedCode(stack, who.user.userId, who, { amountFen, terminalId: 'POS-SHOP-2' });
    const [answer] = ((await uploadBatch(device, [payment])).body as CampusCodeUploadAnswer).results;
    assert.equal(answer.result, 'ACCEPTED');
    return { txnNo: payment.txnNo, paymentNo: answer.paymentNo! };
  }

  it('shows paid campus-code payments on the card’s statement with the terminal and state', async () => {
    const me = await student();
    const sale = await payWithCode(me, 880);
    await waitForCampusCodePayment(device, sale.txnNo, 'PAID');
    const statement = await me.api.get(`/api/v1/bindings/${me.bindingId}/statement`);
    assert.equal(statement.status, 200, statement.text);
    const entry = statement.body.entries.find((e: { kind: string }) => e.kind === 'CAMPUS_CODE');
    assert.deepEqual(
      { amountFen: entry.amountFen, place: entry.place, state: entry.status },
      { amountFen: -880, place: 'test POS · POS-SHOP-2', state: 'PAID' },
    );
    const stranger = await student();
    const theirs = await stranger.api.get(`/api/v1/bindings/${stranger.bindingId}/statement`);
    assert.ok(!theirs.body.entries.some((e: { kind: string }) => e.kind === 'CAMPUS_CODE'));
  });

  it('makes a payment Alipay refused (the code expired there) a debt of the student, repaid like arrears', async () => {
    const me = await student(10_000);
    // The device held the payment too long: at Alipay the code is past its 10 days.
    const payment = await issuedCode(stack, me.user.userId, me, { amountFen: 1_550 });
    await stack.alipay.control.advanceClock({ days: 10, hours: 1 });
    const [answer] = ((await uploadBatch(device, [payment])).body as CampusCodeUploadAnswer).results;
    assert.equal(answer.result, 'ACCEPTED', 'fresh by our clock');
    const failed = await waitForCampusCodePayment(device, payment.txnNo, 'FAILED');
    assert.equal(failed.attempts[0].code, 'ACQ.PAYMENT_AUTH_CODE_INVALID');
    // The school's loss, shown to its admins with the student to recover it from.
    const admin = await adminOf(stack, stack.school.id, 'STAFF');
    const inbox = await admin.http.get(
      `/api/v1/admin/schools/${stack.school.id}/campus-code/exceptions?kind=FAILED`,
    );
    const item = inbox.body.items.find((i: { txnNo: string }) => i.txnNo === payment.txnNo);
    assert.deepEqual(
      [item.student, item.reason, item.amountFen],
      [{ studentNo: me.studentNo, studentName: me.studentName }, 'ACQ.PAYMENT_AUTH_CODE_INVALID', 1_550],
    );

    const debts = (await me.api.get('/api/v1/debts')).body;
    assert.equal(debts.totalFen, 1_550);
    assert.deepEqual(
      [debts.items[0].kind, debts.items[0].status, debts.items[0].cardNo, debts.items[0].txnNo],
      ['CAMPUS_CODE', 'FAILED', me.card.cardNo, payment.txnNo],
    );
    assert.deepEqual((await me.api.get('/api/v1/me')).body.debts, { totalFen: 1_550, count: 1 });
    const statement = (await me.api.get(`/api/v1/bindings/${me.bindingId}/statement`)).body;
    assert.equal(statement.entries.find((e: { kind: string }) => e.kind === 'CAMPUS_CODE').status, 'FAILED');

    const repay = await me.api.post('/api/v1/debts/repay', {});
    assert.equal(repay.status, 201, repay.text);
    assert.equal(repay.body.amountFen, 1_550);
    await stack.alipay.control.payTrade({ tradeNO: repay.body.tradeNo, userId: me.user.userId });
    await eventually(
      async () =>
        (await me.api.get(`/api/v1/debts/repayments/${repay.body.repaymentId}`)).body.status === 'PAID',
    );
    await waitForCampusCodePayment(device, payment.txnNo, 'SETTLED');
    const { rows } = await stack.app.deps.pool.query(
      `select l.detail from notify_log l join repayments r on r.out_trade_no = l.body->>'out_trade_no'
        where r.id = $1 and l.outcome = 'APPLIED'`,
      [repay.body.repaymentId],
    );
    assert.deepEqual(
      rows,
      [{ detail: 'PAID, 1 deductions SETTLED' }],
      'the campus-code debt counted as settled',
    );
    assert.equal((await me.api.get('/api/v1/debts')).body.totalFen, 0);
    assert.equal((await stack.alipay.control.getUser(me.user.userId)).balanceFen, 10_000 - 1_550);
  });

  it('keeps a debt in one repayment at a time, and owes it again once that repayment closes unpaid', async () => {
    const me = await student(0);
    await stack.alipay.control.injectApiFault({
      method: 'alipay.trade.pay',
      times: 1,
      error: { subCode: 'ACQ.PAYMENT_AUTH_CODE_INVALID' },
    });
    const sale = await payWithCode(me, 300);
    await waitForCampusCodePayment(device, sale.txnNo, 'FAILED');
    const repay = await me.api.post('/api/v1/debts/repay', {});
    assert.equal(repay.status, 201, repay.text);
    const cancelled = await stack.alipay.control.payTrade({
      tradeNO: repay.body.tradeNo,
      userId: me.user.userId,
      action: 'cancel',
    });
    assert.equal(cancelled.resultCode, '6001');
    const again = await me.api.post('/api/v1/debts/repay', {});
    assert.equal(again.body.repaymentId, repay.body.repaymentId, 'the same repayment, not a second one');

    const open = await findRepayment(stack.app.deps.db, repay.body.repaymentId);
    await reconcileRepayment(stack.app.deps, open!, { close: true });
    assert.equal((await me.api.get(`/api/v1/debts/repayments/${open!.id}`)).body.status, 'CLOSED');
    const debts = (await me.api.get('/api/v1/debts')).body;
    assert.deepEqual([debts.totalFen, debts.pendingRepayment], [300, null]);
    const next = await me.api.post('/api/v1/debts/repay', {});
    assert.equal(next.status, 201, next.text);
    assert.notEqual(next.body.repaymentId, repay.body.repaymentId);
    assert.equal(next.body.amountFen, 300);
  });

  it('lets the school’s owner set its campus-code settings, within Alipay’s 10 days', async () => {
    const owner = await adminOf(stack, stack.school.id, 'OWNER');
    const path = `/api/v1/admin/schools/${stack.school.id}/settings`;
    const tooLong = await owner.http.put(path, { campusCodeWindowDays: 11 });
    assert.equal(tooLong.status, 400);
    assert.equal(tooLong.body.error.field, 'body.campusCodeWindowDays');
    const set = await owner.http.put(path, { campusCodeWindowDays: 7, campusCodeMaxFen: 30_000 });
    assert.equal(set.status, 200, set.text);
    assert.deepEqual([set.body.campusCodeWindowDays, set.body.campusCodeMaxFen], [7, 30_000]);
    await owner.http.put(path, { campusCodeWindowDays: 10, campusCodeMaxFen: 20_000 });
  });

  it('opens Alipay’s campus code for the card’s school once the school has its Alipay campus id', async () => {
    const me = await student();
    const before = await me.api.get(`/api/v1/bindings/${me.bindingId}/campus-code`);
    assert.equal(before.status, 409);
    assert.equal(before.body.error.code, 'CAMPUS_CODE_NOT_AVAILABLE');
    await updateSchoolSettings(stack.app.deps, TEST_OPERATOR, stack.school.id, {
      alipayInstitutionCode: '2088000034052130',
    });
    const entry = await me.api.get(`/api/v1/bindings/${me.bindingId}/campus-code`);
    assert.equal(entry.status, 200, entry.text);
    assert.equal(entry.body.appId, '77700203');
    assert.equal(
      decodeURIComponent(entry.body.extraData.query),
      `institutionCode=2088000034052130&institutionType=00000002&sourceId=${stack.alipay.appId}&sourceType=00000001&codeType=codec_double_offline_code`,
    );
  });
});
