import assert from 'node:assert/strict';
import {
  newAppKeys,
  sdkFor,
  startNotifyReceiver,
  startTestSandbox,
  uniqueNo,
  type AppKeys,
  type NotifyReceiver,
  type TestSandbox,
} from './support.js';

describe('Alipay sandbox mini-program payment: alipay.trade.create and my.tradePay', () => {
  let t: TestSandbox;
  let app: AppKeys;
  let legacyApp: AppKeys;
  let receiver: NotifyReceiver;

  before(async () => {
    [app, legacyApp] = [newAppKeys(), newAppKeys()];
    t = await startTestSandbox({
      apps: [
        { appId: app.appId, publicKey: app.publicKey, idMode: 'open_id' },
        { appId: legacyApp.appId, publicKey: legacyApp.publicKey, idMode: 'user_id' },
      ],
    });
    receiver = await startNotifyReceiver();
  });
  after(async () => {
    await receiver.close();
    await t.close();
  });

  async function createTrade(openId: string, totalAmount = '12.30', outTradeNo = uniqueNo('R')) {
    const created = await sdkFor(t.sandbox, app).exec(
      'alipay.trade.create',
      {
        notifyUrl: receiver.url,
        bizContent: {
          outTradeNo,
          totalAmount,
          subject: '校园卡充值',
          productCode: 'JSAPI_PAY',
          opAppId: app.appId,
          buyerOpenId: openId,
        },
      },
      { validateSign: true },
    );
    return Object.assign(created, { outTradeNo });
  }

  it('creates a WAIT_BUYER_PAY trade that carries the buyer and notify_url', async () => {
    const user = await t.control.createUser({ balanceFen: 5000 });
    const created = await createTrade(user.openIds[app.appId]);
    assert.equal(created.code, '10000');
    assert.match(created.tradeNo, /^\d{8}22001\d{15}$/);
    const query = await sdkFor(t.sandbox, app).exec('alipay.trade.query', {
      bizContent: { tradeNo: created.tradeNo },
    });
    assert.equal(query.tradeStatus, 'WAIT_BUYER_PAY');
    assert.equal(query.buyerOpenId, user.openIds[app.appId]);
    assert.equal(query.receiptAmount, '0.00');
    const [trade] = (await t.control.ledger({ tradeNo: created.tradeNo })).trades;
    assert.equal(trade.notifyUrl, receiver.url);
    assert.equal(trade.buyerUserId, user.userId);
  });

  it('lets the buyer pay (9000): balance moves, TRADE_SUCCESS, and trade_status_sync is sent', async () => {
    const user = await t.control.createUser({ balanceFen: 5000 });
    const created = await createTrade(user.openIds[app.appId], '12.30');
    assert.deepEqual(await t.control.payTrade({ tradeNO: created.tradeNo, userId: user.userId }), {
      resultCode: '9000',
    });
    assert.equal((await t.control.getUser(user.userId)).balanceFen, 5000 - 1230);
    const [notification] = await t.control.waitForNotifications({ tradeNo: created.tradeNo });
    assert.equal(notification.fields.trade_status, 'TRADE_SUCCESS');
    assert.equal(notification.fields.buyer_open_id, user.openIds[app.appId]);
    assert.equal(notification.fields.total_amount, '12.30');
    const query = await sdkFor(t.sandbox, app).exec('alipay.trade.query', {
      bizContent: { outTradeNo: created.outTradeNo },
    });
    assert.equal(query.tradeStatus, 'TRADE_SUCCESS');
    assert.equal(query.buyerPayAmount, '12.30');
  });

  it("answers 6001 when the paying user is not the trade's buyer, and 4000 when the balance is short", async () => {
    const buyer = await t.control.createUser({ balanceFen: 100 });
    const stranger = await t.control.createUser({ balanceFen: 100_000 });
    const created = await createTrade(buyer.openIds[app.appId], '5.00');
    assert.equal(
      (await t.control.payTrade({ tradeNO: created.tradeNo, userId: stranger.userId })).resultCode,
      '6001',
    );
    assert.equal(
      (await t.control.payTrade({ tradeNO: created.tradeNo, userId: buyer.userId })).resultCode,
      '4000',
    );
    assert.equal(
      (await t.control.payTrade({ tradeNO: created.tradeNo, userId: buyer.userId, action: 'cancel' }))
        .resultCode,
      '6001',
    );
    const [trade] = (await t.control.ledger({ tradeNo: created.tradeNo })).trades;
    assert.equal(trade.status, 'WAIT_BUYER_PAY');
    assert.equal((await t.control.getUser(stranger.userId)).balanceFen, 100_000);
  });

  it('can report another resultCode after paying (the client does not know; query or notify tells the truth)', async () => {
    const user = await t.control.createUser({ balanceFen: 1000 });
    const created = await createTrade(user.openIds[app.appId], '1.00');
    const result = await t.control.payTrade({
      tradeNO: created.tradeNo,
      openId: user.openIds[app.appId],
      reportResultCode: '6002',
    });
    assert.equal(result.resultCode, '6002');
    const [trade] = (await t.control.ledger({ tradeNo: created.tradeNo })).trades;
    assert.equal(trade.status, 'TRADE_SUCCESS');
  });

  it('returns the same trade for an identical repeat, CONTEXT_INCONSISTENT for changed details, TRADE_HAS_SUCCESS once paid', async () => {
    const user = await t.control.createUser({ balanceFen: 10_000 });
    const outTradeNo = uniqueNo('REPEAT');
    const first = await createTrade(user.openIds[app.appId], '3.00', outTradeNo);
    const again = await createTrade(user.openIds[app.appId], '3.00', outTradeNo);
    assert.equal(again.tradeNo, first.tradeNo);
    const changed = await createTrade(user.openIds[app.appId], '4.00', outTradeNo);
    assert.equal(changed.subCode, 'ACQ.CONTEXT_INCONSISTENT');
    await t.control.payTrade({ tradeNO: first.tradeNo, userId: user.userId });
    assert.equal(
      (await createTrade(user.openIds[app.appId], '3.00', outTradeNo)).subCode,
      'ACQ.TRADE_HAS_SUCCESS',
    );
  });

  it('enforces the amount rules: ≤ 0 or over 100000000 is ACQ.TOTAL_FEE_EXCEED, three decimals is invalid', async () => {
    const user = await t.control.createUser();
    const openId = user.openIds[app.appId];
    assert.equal((await createTrade(openId, '0.00')).subCode, 'ACQ.TOTAL_FEE_EXCEED');
    assert.equal((await createTrade(openId, '-1.00')).subCode, 'ACQ.TOTAL_FEE_EXCEED');
    assert.equal((await createTrade(openId, '100000000.01')).subCode, 'ACQ.TOTAL_FEE_EXCEED');
    assert.equal((await createTrade(openId, '1.005')).subCode, 'ACQ.INVALID_PARAMETER');
    assert.equal((await createTrade(openId, '100000000.00')).code, '10000');
  });

  it('keeps open_id app-scoped: an openid app refuses buyer_id and open_ids of other apps', async () => {
    const user = await t.control.createUser();
    const sdk = sdkFor(t.sandbox, app);
    const withUserId = await sdk.exec('alipay.trade.create', {
      bizContent: { outTradeNo: uniqueNo('ID'), totalAmount: '1.00', subject: 'x', buyerId: user.userId },
    });
    assert.equal(withUserId.subCode, 'ACQ.INVALID_PARAMETER');
    const foreign = await createTrade(user.openIds[legacyApp.appId]);
    assert.equal(foreign.subCode, 'ACQ.INVALID_PARAMETER');

    const legacy = await sdkFor(t.sandbox, legacyApp).exec('alipay.trade.create', {
      notifyUrl: receiver.url,
      bizContent: { outTradeNo: uniqueNo('LEGACY'), totalAmount: '1.00', subject: 'x', buyerId: user.userId },
    });
    assert.equal(legacy.code, '10000');
  });

  it('notifies user_id apps with buyer_id instead of buyer_open_id', async () => {
    const user = await t.control.createUser({ balanceFen: 500 });
    const created = await sdkFor(t.sandbox, legacyApp).exec('alipay.trade.create', {
      notifyUrl: receiver.url,
      bizContent: { outTradeNo: uniqueNo('LEGACY'), totalAmount: '1.00', subject: 'x', buyerId: user.userId },
    });
    await t.control.payTrade({ tradeNO: created.tradeNo, userId: user.userId });
    const [notification] = await t.control.waitForNotifications({ tradeNo: created.tradeNo });
    assert.equal(notification.fields.buyer_id, user.userId);
    assert.equal(notification.fields.buyer_open_id, undefined);
  });

  it('closes an unpaid trade when it expires on the sandbox clock (timeout_express)', async () => {
    const own = await startTestSandbox({ apps: [{ appId: app.appId, publicKey: app.publicKey }] });
    try {
      const user = await own.control.createUser({ balanceFen: 1000 });
      const sdk = sdkFor(own.sandbox, app);
      const outTradeNo = uniqueNo('EXP');
      const created = await sdk.exec('alipay.trade.create', {
        bizContent: {
          outTradeNo,
          totalAmount: '1.00',
          subject: 'x',
          buyerOpenId: user.openIds[app.appId],
          timeoutExpress: '30m',
        },
      });
      await own.control.advanceClock({ minutes: 29 });
      assert.equal(
        (await sdk.exec('alipay.trade.query', { bizContent: { outTradeNo } })).tradeStatus,
        'WAIT_BUYER_PAY',
      );
      await own.control.advanceClock({ minutes: 2 });
      assert.equal(
        (await sdk.exec('alipay.trade.query', { bizContent: { outTradeNo } })).tradeStatus,
        'TRADE_CLOSED',
      );
      assert.equal(
        (await own.control.payTrade({ tradeNO: created.tradeNo, userId: user.userId })).resultCode,
        '4000',
      );
      const repeat = await sdk.exec('alipay.trade.create', {
        bizContent: { outTradeNo, totalAmount: '1.00', subject: 'x', buyerOpenId: user.openIds[app.appId] },
      });
      assert.equal(repeat.subCode, 'ACQ.TRADE_HAS_CLOSE');
    } finally {
      await own.close();
    }
  });
});
