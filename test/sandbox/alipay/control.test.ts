import assert from 'node:assert/strict';
import { AlipaySandboxControlError } from '../../../scripts/sandbox/alipay/control-client.js';
import {
  newAppKeys,
  sdkFor,
  startNotifyReceiver,
  startTestSandbox,
  uniqueNo,
  type AppKeys,
  type TestSandbox,
} from './support.js';

describe('Alipay sandbox control API: users, apps, clock, ledger and reset', () => {
  let t: TestSandbox;
  let app: AppKeys;

  beforeEach(async () => {
    app = newAppKeys();
    t = await startTestSandbox({ apps: [{ appId: app.appId, publicKey: app.publicKey, idMode: 'open_id' }] });
  });
  afterEach(() => t.close());

  it('creates users with a 2088 user_id, a balance in fen and an open_id per registered app', async () => {
    const late = newAppKeys();
    const user = await t.control.createUser({ balanceFen: 1234, nickName: '小红' });
    assert.match(user.userId, /^2088\d{12}$/);
    assert.equal(user.balanceFen, 1234);
    assert.deepEqual(Object.keys(user.openIds), [app.appId]);
    await t.control.registerApp({ appId: late.appId, publicKey: late.publicKey, idMode: 'user_id' });
    const again = await t.control.getUser(user.userId);
    assert.equal(again.openIds[app.appId], user.openIds[app.appId]);
    assert.ok(again.openIds[late.appId]);
    assert.notEqual(again.openIds[late.appId], again.openIds[app.appId]);
    assert.equal((await t.control.setBalance(user.userId, 99)).balanceFen, 99);
  });

  it('keeps a chosen user_id and, with the same open_id secret, the same open_id after a restart', async () => {
    const secret = Buffer.alloc(32, 7);
    const first = await startTestSandbox({
      apps: [{ appId: app.appId, publicKey: app.publicKey }],
      openIdSecret: secret,
    });
    const again = await startTestSandbox({
      apps: [{ appId: app.appId, publicKey: app.publicKey }],
      openIdSecret: secret,
    });
    try {
      const before = await first.control.createUser({ userId: '2088000000000042', balanceFen: 1 });
      const after = await again.control.createUser({ userId: '2088000000000042', balanceFen: 1 });
      assert.equal(before.userId, '2088000000000042');
      assert.equal(after.openIds[app.appId], before.openIds[app.appId]);
      await assert.rejects(first.control.createUser({ userId: '2088000000000042' }), (error: unknown) => {
        assert.ok(error instanceof AlipaySandboxControlError);
        assert.equal(error.status, 409);
        return true;
      });
    } finally {
      await first.close();
      await again.close();
    }
  });

  it('registers apps at run time with a generated app id, and accepts a bare base64 public key', async () => {
    const keys = newAppKeys();
    const bare = keys.publicKey.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
    const registered = await t.control.registerApp({ publicKey: bare, idMode: 'both' });
    assert.match(registered.appId, /^\d{16}$/);
    assert.match(registered.sellerId, /^2088\d{12}$/);
    const sdk = sdkFor(t.sandbox, { ...keys, appId: registered.appId });
    assert.equal(
      (await sdk.exec('alipay.trade.query', { bizContent: { outTradeNo: 'x' } })).subCode,
      'ACQ.TRADE_NOT_EXIST',
    );
    assert.ok((await t.control.listApps()).some((a) => a.appId === registered.appId && a.idMode === 'both'));
  });

  it('answers bad input with 4xx and a code: validation, unknown user, unusable key, unknown route', async () => {
    await assert.rejects(t.control.createUser({ balanceFen: -1 }), (e: unknown) => {
      assert.ok(e instanceof AlipaySandboxControlError);
      assert.equal(e.status, 400);
      assert.equal(e.code, 'VALIDATION_FAILED');
      return true;
    });
    await assert.rejects(t.control.getUser('2088000000000000'), /404 USER_NOT_FOUND/);
    await assert.rejects(t.control.registerApp({ publicKey: 'not a key' }), /400 INVALID_KEY/);
    const response = await fetch(`${t.sandbox.url}/nowhere`);
    assert.equal(response.status, 404);
    assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'NOT_FOUND');
  });

  it('advances the sandbox clock and shows it in Beijing time', async () => {
    const before = await t.control.clock();
    assert.match(before.beijingTime, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    const after = await t.control.advanceClock({ hours: 2, minutes: 30 });
    assert.ok(after.offsetMs >= 9_000_000);
    assert.ok(Date.parse(after.iso) - Date.parse(before.iso) >= 9_000_000);
  });

  it('shows the ledger in fen: trades with status and refunds, balances, agreements, notifications with attempts', async () => {
    const inbox = await startNotifyReceiver();
    try {
      const sdk = sdkFor(t.sandbox, app);
      const user = await t.control.createUser({ balanceFen: 5000 });
      const outTradeNo = uniqueNo('L');
      const created = await sdk.exec('alipay.trade.create', {
        notifyUrl: inbox.url,
        bizContent: { outTradeNo, totalAmount: '12.34', subject: 'x', buyerOpenId: user.openIds[app.appId] },
      });
      await t.control.payTrade({ tradeNO: created.tradeNo, userId: user.userId });
      await sdk.exec('alipay.trade.refund', {
        bizContent: { outTradeNo, refundAmount: '0.34', outRequestNo: 'R1' },
      });
      await t.control.waitForNotifications({ outTradeNo });

      const ledger = await t.control.ledger({ outTradeNo });
      assert.equal(ledger.trades.length, 1);
      const [trade] = ledger.trades;
      assert.deepEqual(
        [trade.status, trade.totalFen, trade.refundedFen, trade.buyerUserId, trade.createdBy],
        ['TRADE_SUCCESS', 1234, 34, user.userId, 'alipay.trade.create'],
      );
      assert.deepEqual(
        ledger.refunds.map((r) => [r.outRequestNo, r.amountFen]),
        [['R1', 34]],
      );
      assert.equal(ledger.notifications.length, 1);
      assert.equal(ledger.notifications[0].attempts[0].answer, 'success');
      const mine = await t.control.ledger({ userId: user.userId });
      assert.equal(mine.users[0].balanceFen, 5000 - 1234 + 34);
      assert.equal(ledger.merchants.find((m) => m.authAppId === app.appId)?.balanceFen, 1200);
    } finally {
      await inbox.close();
    }
  });

  it('resets users, trades, faults and the clock, keeping registered apps unless asked', async () => {
    const user = await t.control.createUser({ balanceFen: 10 });
    await t.control.injectApiFault({ method: '*', latencyMs: 1 });
    await t.control.advanceClock({ days: 1 });
    await t.control.reset();
    await assert.rejects(t.control.getUser(user.userId), /USER_NOT_FOUND/);
    assert.deepEqual(await t.control.listFaults(), []);
    assert.equal((await t.control.clock()).offsetMs, 0);
    assert.equal((await t.control.listApps()).length, 1);
    await t.control.reset({ apps: true });
    assert.equal((await t.control.listApps()).length, 0);
  });
});
