import assert from 'node:assert/strict';
import { adminOf } from '../../support/admins.js';
import { testMobile } from '../../support/identity.js';
import { startStack, type Stack, type StackUser } from '../../support/stack.js';
import { userWithCard } from '../student/helpers.js';
import { COLA, vendingMachine } from './helpers.js';

/**
 * Seed 002 §1 on the terminal payment page: the silent login is enough for an account the school knows;
 * an unknown one shares its Alipay mobile first, and only where the school's setting asks for it.
 */
describe('Terminal orders: who must share a mobile before paying in the mini-program', function () {
  this.timeout(60_000);
  let stack: Stack;
  let settingsUrl: string;
  let owner: Awaited<ReturnType<typeof adminOf>>;

  before(async function () {
    this.timeout(120_000);
    stack = await startStack();
    settingsUrl = `/api/v1/admin/schools/${stack.school.id}/settings`;
    owner = await adminOf(stack, stack.school.id, 'OWNER');
  });
  after(() => stack?.stop());

  async function requirePhone(value: boolean) {
    const res = await owner.http.put(settingsUrl, { terminalPayRequiresPhone: value });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.terminalPayRequiresPhone, value);
  }

  /** my.getAuthCode({ scopes: 'auth_user' }) for the user, after they let Alipay share their mobile (or not). */
  async function authUserCode(user: StackUser, mobile: boolean) {
    await stack.alipay.control.shareInfo(user.userId, { mobile });
    const { authCode } = await stack.alipay.control.issueAuthCode({
      userId: user.userId,
      appId: stack.alipay.appId,
      scopes: 'auth_user',
    });
    return authCode;
  }

  describe('the school setting', () => {
    it('is off by default; only an owner switches it, a non-boolean names the field, the change is audited', async () => {
      assert.equal((await owner.http.get(settingsUrl)).body.terminalPayRequiresPhone, false);
      const staff = await adminOf(stack, stack.school.id, 'STAFF');
      assert.equal((await staff.http.put(settingsUrl, { terminalPayRequiresPhone: true })).status, 403);
      const bad = await owner.http.put(settingsUrl, { terminalPayRequiresPhone: 'yes' });
      assert.deepEqual([bad.status, bad.body.error.field], [400, 'body.terminalPayRequiresPhone']);

      const res = await owner.http.put(settingsUrl, { terminalPayRequiresPhone: true });
      assert.equal(res.status, 200, res.text);
      const { rows } = await stack.app.deps.pool.query(
        `select actor_id, before, after from audit_log
          where school_id = $1 and action = 'school.settings.update' order by id desc limit 1`,
        [stack.school.id],
      );
      assert.deepEqual(
        [rows[0].actor_id, rows[0].before, rows[0].after],
        [owner.userId, { terminalPayRequiresPhone: false }, { terminalPayRequiresPhone: true }],
      );
      await requirePhone(false);
    });
  });

  describe('paying', () => {
    afterEach(() => requirePhone(false));

    it('lets anyone pay after the silent login while the school does not ask', async () => {
      const machine = await vendingMachine(stack);
      try {
        const { body: order } = await machine.createOrder([COLA]);
        const http = await (await stack.createUser()).login();
        const pay = await http.post(`/api/v1/terminal-orders/${order.orderNo}/pay`);
        assert.equal(pay.status, 200, pay.text);
      } finally {
        await machine.stop();
      }
    });

    it('refuses an unknown payer with PHONE_REQUIRED until they share their Alipay mobile, which is kept only hashed and encrypted', async () => {
      await requirePhone(true);
      const machine = await vendingMachine(stack);
      try {
        const { body: order } = await machine.createOrder([COLA]);
        const mobile = testMobile();
        const buyer = await stack.createUser(10_000, { mobile });
        const http = await buyer.login();
        const payUrl = `/api/v1/terminal-orders/${order.orderNo}/pay`;

        const refused = await http.post(payUrl);
        assert.deepEqual([refused.status, refused.body.error.code], [403, 'PHONE_REQUIRED']);

        // Consent given, but the mobile not among what Alipay shares: nothing is stored, still refused.
        const notShared = await http.post('/api/v1/me/phone', { authCode: await authUserCode(buyer, false) });
        assert.deepEqual(
          [notShared.status, notShared.body.error.code, notShared.body.error.field],
          [422, 'PHONE_NOT_SHARED', 'body.authCode'],
        );
        assert.equal((await http.post(payUrl)).status, 403);

        // Someone else's consent does not register a mobile for this account.
        const other = await stack.createUser(0, { mobile: testMobile() });
        const borrowed = await http.post('/api/v1/me/phone', { authCode: await authUserCode(other, true) });
        assert.equal(borrowed.status, 403, borrowed.text);
        assert.equal(
          (await http.post('/api/v1/me/phone', {})).body.error.field,
          'body.authCode',
          'the auth code is required',
        );

        const shared = await http.post('/api/v1/me/phone', { authCode: await authUserCode(buyer, true) });
        assert.equal(shared.status, 200, shared.text);
        assert.equal(shared.body.phoneMasked, `${mobile.slice(0, 3)}****${mobile.slice(-4)}`);
        const { rows } = await stack.app.deps.pool.query('select * from users where id = $1', [http.id]);
        assert.ok(!JSON.stringify(rows[0]).includes(mobile), 'the mobile is not stored in clear');
        assert.equal(rows[0].phone_hash, stack.app.deps.protector.hash(mobile));
        assert.equal(stack.app.deps.protector.decrypt(rows[0].phone_enc), mobile);

        const pay = await http.post(payUrl);
        assert.equal(pay.status, 200, pay.text);
        const paid = await stack.alipay.control.payTrade({ tradeNO: pay.body.tradeNo, userId: buyer.userId });
        assert.equal(paid.resultCode, '9000');
        await machine.acknowledgedCallback(order.outOrderNo);

        // Known from now on: the next order is paid without being asked again.
        const { body: next } = await machine.createOrder([COLA]);
        assert.equal((await http.post(`/api/v1/terminal-orders/${next.orderNo}/pay`)).status, 200);
      } finally {
        await machine.stop();
      }
    });

    it('does not ask a payer with a card bound at the school', async () => {
      await requirePhone(true);
      const machine = await vendingMachine(stack);
      try {
        const { body: order } = await machine.createOrder([COLA]);
        const { api } = await userWithCard(stack);
        const pay = await api.post(`/api/v1/terminal-orders/${order.orderNo}/pay`);
        assert.equal(pay.status, 200, pay.text);
      } finally {
        await machine.stop();
      }
    });
  });
});
