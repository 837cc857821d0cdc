import assert from 'node:assert/strict';
import { createGatewayClient } from '../../../server/src/domain/schools/gateway-clients.js';
import {
  createAuthorizationLink,
  refreshExpiringAuthorizations,
} from '../../../server/src/domain/schools/isv-authorization.js';
import { adminOf } from '../../support/admins.js';
import { OffsetClock } from '../../support/clock.js';
import { eventually } from '../../support/http.js';
import { startStack, type Stack } from '../../support/stack.js';
import { issuedCode, uploadBatch, waitForCampusCodePayment } from '../campus-code/helpers.js';
import { userWithCard } from '../student/helpers.js';
import { chargesOf, gatewayFor } from '../withholding/helpers.js';

const DAY = 86_400_000;

/**
 * A school's authorization over time (issue 10): refreshed before it expires on the sandbox's clock;
 * cancelled by the school inside Alipay, or refused by Alipay on a call, which suspends the school — new
 * money refused with a clear code, money in flight completed — until the school authorizes again.
 */
describe('ISV authorization: refresh, cancellation, invalid token', function () {
  this.timeout(90_000);
  let stack: Stack;
  const clock = new OffsetClock();

  before(async () => {
    stack = await startStack({ clock });
  });
  after(() => stack.stop());

  async function schoolRow(id: string) {
    const { rows } = await stack.app.deps.pool.query(
      'select status, suspension_reason, suspension_detail from schools where id = $1',
      [id],
    );
    return rows[0] as { status: string; suspension_reason: string | null; suspension_detail: string | null };
  }

  /** A school with a POS gateway, a student with a bound card, signed withholding and Alipay balance. */
  async function schoolWithStudent(settings?: { retryScheduleSeconds: number[] }) {
    const school = await stack.addSchool({ settings });
    const pos = await createGatewayClient(stack.app.deps, { schoolId: school.id, name: 'POS' });
    await stack.cardsys.control.configurePlatform(school.code, { baseUrl: stack.app.url, ...pos });
    const {
      user: student,
      api: http,
      card,
      bindingId,
    } = await userWithCard(stack, {
      school,
      cardBalanceFen: 5_000,
    });
    const sign = await http.post('/api/v1/withholding/sign', { bindingId });
    await stack.alipay.control.signAgreement({ signStr: sign.body.signStr, userId: student.userId });
    await eventually(
      async () =>
        (await http.get('/api/v1/withholding')).body.items.some(
          (i: any) => i.status === 'ACTIVE' && i.cards?.some((c: any) => c.isBoundAtCardSystem),
        ),
      { timeoutMs: 15_000, message: 'withholding never became active' },
    );
    return { school, student, http, card, bindingId };
  }

  /** The school authorizes our app again through a new link, as its owner would: the page it is shown. */
  async function authorizeAgain(school: { id: string; alipayAuthAppId: string | null }): Promise<string> {
    const link = await createAuthorizationLink(stack.app.deps, { kind: 'OPERATOR', name: 't' }, school.id);
    const { redirectUrl } = await stack.alipay.control.authorizeLink(link.url, {
      merchantAppId: school.alipayAuthAppId!,
    });
    const page = await fetch(redirectUrl);
    assert.equal(page.status, 200);
    return page.text();
  }

  const swipe = (school: { code: string }, cardNo: string) =>
    stack.cardsys.control.swipe({ schoolCode: school.code, cardNo, amountFen: 300, terminalId: 'POS-1' });

  it('suspends a school that cancels its authorization in Alipay: new money refused, money in flight completed', async () => {
    const { school, student, http, card, bindingId } = await schoolWithStudent();
    const owner = await adminOf(stack, school.id, 'OWNER');
    // In flight: a recharge created (not yet paid) before the cancellation.
    const pending = await http.post('/api/v1/recharges', { bindingId, amountFen: 1000 });
    assert.equal(pending.status, 201, pending.text);

    const cancelled = await stack.alipay.control.cancelMerchantAuthorization({
      isvAppId: stack.alipay.appId,
      authAppId: school.alipayAuthAppId!,
    });
    assert.equal(cancelled.notified, true);
    await eventually(async () => (await schoolRow(school.id)).status === 'SUSPENDED', {
      message: 'the cancellation message never suspended the school',
    });
    assert.equal((await schoolRow(school.id)).suspension_reason, 'AUTHORIZATION_CANCELLED');

    const recharge = await http.post('/api/v1/recharges', { bindingId, amountFen: 1000 });
    assert.deepEqual([recharge.status, recharge.body.error.code], [409, 'SCHOOL_SUSPENDED']);
    const sign = await http.post('/api/v1/withholding/sign', { bindingId });
    assert.equal(sign.body.error.code, 'SCHOOL_SUSPENDED');
    const declined = await swipe(school, card.cardNo);
    assert.deepEqual(
      [declined.platform.decision, declined.platform.reason],
      ['DECLINED', 'SCHOOL_SUSPENDED'],
    );
    // Still there for the student: balance, statement, loss.
    assert.equal((await http.get(`/api/v1/bindings/${bindingId}`)).status, 200);
    assert.equal((await http.get(`/api/v1/bindings/${bindingId}/statement`)).status, 200);

    // The recharge paid before the cancellation reached Alipay's cashier is still credited to the card.
    await stack.alipay.control.payTrade({ tradeNO: pending.body.tradeNo, userId: student.userId });
    await eventually(
      async () => (await http.get(`/api/v1/recharges/${pending.body.id}`)).body.status === 'CREDITED',
      {
        timeoutMs: 15_000,
        message: 'the payment in flight was not credited',
      },
    );

    // The admins see why.
    const detail = await owner.http.get(`/api/v1/admin/schools/${school.id}`);
    assert.equal(detail.body.status, 'SUSPENDED');
    assert.equal(detail.body.suspension.reason, 'AUTHORIZATION_CANCELLED');
    assert.equal(detail.body.isAlipayAuthorized, false, 'the cancelled authorization still counted');
    const audit = (await owner.http.get(`/api/v1/admin/schools/${school.id}/audit`)).body.items;
    assert.deepEqual(
      audit.slice(0, 2).map((e: { action: string; actor: { kind: string } }) => [e.action, e.actor.kind]),
      [
        ['school.suspend', 'SYSTEM'],
        ['school.isv.cancelled', 'SYSTEM'],
      ],
    );
  });

  it('lifts the suspension when the school authorizes again through a new link', async () => {
    const { school, http, bindingId } = await schoolWithStudent();
    await stack.alipay.control.cancelMerchantAuthorization({
      isvAppId: stack.alipay.appId,
      authAppId: school.alipayAuthAppId!,
    });
    await eventually(async () => (await schoolRow(school.id)).status === 'SUSPENDED');
    assert.match(await authorizeAgain(school), /正在运行/);
    assert.equal((await schoolRow(school.id)).status, 'ACTIVE');
    const viewer = await adminOf(stack, school.id, 'VIEWER');
    assert.equal((await viewer.http.get(`/api/v1/admin/schools/${school.id}`)).body.isAlipayAuthorized, true);
    assert.equal((await http.post('/api/v1/recharges', { bindingId, amountFen: 1000 })).status, 201);
  });

  it('suspends a school whose token Alipay refuses on a call and .query calls invalid', async () => {
    const { school, http, bindingId } = await schoolWithStudent();
    // The app did not subscribe to the cancellation message: Alipay tells us nothing…
    await stack.alipay.control.configureApp(stack.alipay.appId, { messageTopics: [] });
    try {
      const cancelled = await stack.alipay.control.cancelMerchantAuthorization({
        isvAppId: stack.alipay.appId,
        authAppId: school.alipayAuthAppId!,
      });
      assert.equal(cancelled.notified, false);
      // … until the next call for the school answers 20001 aop.invalid-app-auth-token.
      const refused = await http.post('/api/v1/recharges', { bindingId, amountFen: 1000 });
      assert.equal(refused.status, 503, refused.text);
      await eventually(async () => (await schoolRow(school.id)).status === 'SUSPENDED', {
        message: 'a refused token did not suspend the school',
      });
      const row = await schoolRow(school.id);
      assert.equal(row.suspension_reason, 'AUTHORIZATION_INVALID');
      assert.match(row.suspension_detail ?? '', /aop\.invalid-app-auth-token/);
      const next = await http.post('/api/v1/recharges', { bindingId, amountFen: 1000 });
      assert.equal(next.body.error.code, 'SCHOOL_SUSPENDED');
    } finally {
      await stack.alipay.control.configureApp(stack.alipay.appId, {
        messageTopics: ['alipay.open.auth.appauth.cancelled'],
      });
    }
  });

  it('holds a swipe approved before the authorization ended: no retry used, no arrears, collected once authorized again', async () => {
    const { school, card } = await schoolWithStudent({ retryScheduleSeconds: [1, 1] });
    const deduction = async (txnNo: string) => {
      const { rows } = await stack.app.deps.pool.query(
        `select d.status, d.retries_used, d.last_error_code,
                array(select a.outcome from deduction_attempts a where a.deduction_id = d.id order by a.id) as outcomes
           from deductions d where d.txn_no = $1`,
        [txnNo],
      );
      return rows[0] as { status: string; retries_used: number; last_error_code: string; outcomes: string[] };
    };
    // No cancellation message: the swipe is approved, and its charge is the first to meet the refused token.
    await stack.alipay.control.configureApp(stack.alipay.appId, { messageTopics: [] });
    try {
      await stack.alipay.control.cancelMerchantAuthorization({
        isvAppId: stack.alipay.appId,
        authAppId: school.alipayAuthAppId!,
      });
      const swiped = await swipe(school, card.cardNo);
      assert.equal(swiped.platform.decision, 'APPROVED');
      const held = await eventually(
        async () => {
          const row = await deduction(swiped.txnNo);
          return row?.outcomes.includes('WAITING_FOR_AUTHORIZATION') && row;
        },
        { timeoutMs: 15_000, message: 'the charge never met the refused token' },
      );
      assert.deepEqual([held.status, held.retries_used], ['PENDING', 0]);
      await eventually(async () => (await schoolRow(school.id)).status === 'SUSPENDED');
      // Held, however long the school takes: more attempts than the whole retry schedule, still no arrears.
      const waiting = await eventually(
        async () => {
          const row = await deduction(swiped.txnNo);
          return row.outcomes.length > 3 && row;
        },
        { timeoutMs: 15_000, message: 'the held swipe was not tried again' },
      );
      assert.deepEqual([waiting.status, waiting.retries_used], ['PENDING', 0]);
      assert.ok(waiting.outcomes.every((o) => o === 'WAITING_FOR_AUTHORIZATION'));

      await authorizeAgain(school);
      // Collected under the new token at the next try.
      const collected = await eventually(
        async () => {
          const row = await deduction(swiped.txnNo);
          return row.status === 'COLLECTED' && row;
        },
        { timeoutMs: 15_000, intervalMs: 250, message: 'the held swipe was not collected after authorizing' },
      );
      assert.equal(collected.retries_used, 0);
    } finally {
      await stack.alipay.control.configureApp(stack.alipay.appId, {
        messageTopics: ['alipay.open.auth.appauth.cancelled'],
      });
    }
  });

  it('holds a campus-code payment uploaded before the authorization ended: no retry used, paid once authorized again', async () => {
    const school = await stack.addSchool({ settings: { retryScheduleSeconds: [1, 1] } });
    const device = await gatewayFor(stack, school.id);
    const student = await stack.createUser(5_000);
    const payment = async (txnNo: string) => {
      const { rows } = await stack.app.deps.pool.query(
        `select p.status, p.retries_used,
                array(select a.outcome from campus_code_attempts a where a.payment_id = p.id order by a.id) as outcomes
           from campus_code_payments p where p.school_id = $1 and p.txn_no = $2`,
        [school.id, txnNo],
      );
      return rows[0] as { status: string; retries_used: number; outcomes: string[] };
    };
    // No cancellation message: the code is accepted, and its charge is the first to meet the refused token.
    await stack.alipay.control.configureApp(stack.alipay.appId, { messageTopics: [] });
    try {
      await stack.alipay.control.cancelMerchantAuthorization({
        isvAppId: stack.alipay.appId,
        authAppId: school.alipayAuthAppId!,
      });
      const code = await issuedCode(
        stack,
        student.userId,
        { studentNo: 'S-AUTH-1', studentName: '王小明' },
        { schoolCode: school.code, amountFen: 300 },
      );
      const uploaded = await uploadBatch(device, [code]);
      assert.equal(uploaded.body.results[0].result, 'ACCEPTED', uploaded.text);
      await eventually(async () => (await schoolRow(school.id)).status === 'SUSPENDED', {
        timeoutMs: 15_000,
        message: 'the refused token did not suspend the school',
      });
      // Held, however long the school takes: more attempts than the whole retry schedule, never FAILED.
      const waiting = await eventually(
        async () => {
          const row = await payment(code.txnNo);
          return row.outcomes.length > 3 && row;
        },
        { timeoutMs: 15_000, message: 'the held payment was not looked at again' },
      );
      assert.deepEqual([waiting.status, waiting.retries_used], ['PENDING', 0]);
      assert.ok(waiting.outcomes.every((o) => o === 'WAITING_FOR_AUTHORIZATION'));

      await authorizeAgain(school);
      await waitForCampusCodePayment(device, code.txnNo, 'PAID');
      assert.equal((await payment(code.txnNo)).retries_used, 0);
      const { paid } = await chargesOf(stack, uploaded.body.results[0].paymentNo);
      assert.deepEqual(
        paid.map((t) => t.totalFen),
        [300],
        'charged exactly once',
      );
    } finally {
      await stack.alipay.control.configureApp(stack.alipay.appId, {
        messageTopics: ['alipay.open.auth.appauth.cancelled'],
      });
    }
  });

  it('refreshes a token before it expires on the sandbox clock, and the school keeps working after the old one expired', async () => {
    const { school, student, bindingId } = await schoolWithStudent();
    const before = await stack.app.deps.pool.query(
      `select id, expires_at from isv_authorizations where school_id = $1 and status = 'ACTIVE'`,
      [school.id],
    );
    // 340 days later, on both clocks: the token expires within ISV_REFRESH_BEFORE_DAYS (30).
    await stack.alipay.control.advanceClock({ days: 340 });
    clock.advance(340 * DAY);
    const pass = await refreshExpiringAuthorizations(stack.app.deps);
    assert.ok(pass.refreshed >= 1, JSON.stringify(pass));
    const after = await stack.app.deps.pool.query(
      `select id, status, source, expires_at from isv_authorizations where school_id = $1 order by created_at`,
      [school.id],
    );
    assert.deepEqual(
      after.rows.map((r) => [r.status, r.source]),
      [
        ['REPLACED', 'operator'],
        ['ACTIVE', 'refresh'],
      ],
    );
    assert.ok(after.rows[1].expires_at > before.rows[0].expires_at);
    // Past the old token's expiry: the school's calls still work with the new one.
    await stack.alipay.control.advanceClock({ days: 30 });
    clock.advance(30 * DAY);
    const fresh = await student.login(); // the session of a year ago has expired
    const recharge = await fresh.post('/api/v1/recharges', { bindingId, amountFen: 1000 });
    assert.equal(recharge.status, 201, recharge.text);
    assert.equal((await schoolRow(school.id)).status, 'ACTIVE');
    const { rows } = await stack.app.deps.pool.query(
      `select actor_kind, actor_id from audit_log where school_id = $1 and action = 'school.isv.refresh'`,
      [school.id],
    );
    assert.deepEqual(rows, [{ actor_kind: 'SYSTEM', actor_id: 'isv-refresh' }]);
  });
});
