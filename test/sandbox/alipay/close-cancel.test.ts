import assert from 'node:assert/strict';
import { newAppKeys, sdkFor, startTestSandbox, uniqueNo, type AppKeys, type TestSandbox } from './support.js';

describe('Alipay sandbox trade.close and trade.cancel', () => {
  let t: TestSandbox;
  let app: AppKeys;

  before(async () => {
    app = newAppKeys();
    t = await startTestSandbox({ apps: [{ appId: app.appId, publicKey: app.publicKey, idMode: 'open_id' }] });
  });
  after(() => t.close());

  async function unpaidTrade() {
    const user = await t.control.createUser({ balanceFen: 1000 });
    const outTradeNo = uniqueNo('T');
    const created = await sdkFor(t.sandbox, app).exec('alipay.trade.create', {
      bizContent: { outTradeNo, totalAmount: '2.00', subject: 'x', buyerOpenId: user.openIds[app.appId] },
    });
    return { user, outTradeNo, tradeNo: created.tradeNo as string };
  }

  async function paidTrade() {
    const user = await t.control.createUser({ balanceFen: 1000 });
    const { authCode } = await t.control.issuePaymentCode({ userId: user.userId });
    const outTradeNo = uniqueNo('P');
    await sdkFor(t.sandbox, app).exec('alipay.trade.pay', {
      bizContent: { outTradeNo, totalAmount: '2.00', subject: 'x', scene: 'bar_code', authCode },
    });
    return { user, outTradeNo };
  }

  it('closes an unpaid trade, after which the buyer can no longer pay it', async () => {
    const { user, outTradeNo, tradeNo } = await unpaidTrade();
    const closed = await sdkFor(t.sandbox, app).exec(
      'alipay.trade.close',
      { bizContent: { outTradeNo } },
      { validateSign: true },
    );
    assert.equal(closed.code, '10000');
    assert.equal(closed.tradeNo, tradeNo);
    assert.equal((await t.control.payTrade({ tradeNO: tradeNo, userId: user.userId })).resultCode, '4000');
  });

  it('refuses to close a paid trade (ACQ.TRADE_STATUS_ERROR) or an unknown one (ACQ.TRADE_NOT_EXIST)', async () => {
    const { outTradeNo } = await paidTrade();
    const sdk = sdkFor(t.sandbox, app);
    assert.equal(
      (await sdk.exec('alipay.trade.close', { bizContent: { outTradeNo } })).subCode,
      'ACQ.TRADE_STATUS_ERROR',
    );
    assert.equal(
      (await sdk.exec('alipay.trade.close', { bizContent: { outTradeNo: 'nope' } })).subCode,
      'ACQ.TRADE_NOT_EXIST',
    );
  });

  it('cancels an unpaid trade with action=close and a paid one with action=refund, giving the money back', async () => {
    const sdk = sdkFor(t.sandbox, app);
    const unpaid = await unpaidTrade();
    const closed = await sdk.exec(
      'alipay.trade.cancel',
      { bizContent: { outTradeNo: unpaid.outTradeNo } },
      { validateSign: true },
    );
    assert.equal(closed.action, 'close');
    assert.equal(closed.retryFlag, 'N');

    const paid = await paidTrade();
    const refunded = await sdk.exec('alipay.trade.cancel', { bizContent: { outTradeNo: paid.outTradeNo } });
    assert.equal(refunded.action, 'refund');
    assert.equal((await t.control.getUser(paid.user.userId)).balanceFen, 1000);
    const repeat = await sdk.exec('alipay.trade.cancel', { bizContent: { outTradeNo: paid.outTradeNo } });
    assert.equal(repeat.action, 'refund');
    assert.equal((await t.control.getUser(paid.user.userId)).balanceFen, 1000);
    const query = await sdk.exec('alipay.trade.query', { bizContent: { outTradeNo: paid.outTradeNo } });
    assert.equal(query.tradeStatus, 'TRADE_CLOSED');
  });

  it('cancels an out_trade_no that never arrived, so a late trade.pay with it gets ACQ.TRADE_HAS_CLOSE', async () => {
    const sdk = sdkFor(t.sandbox, app);
    const outTradeNo = uniqueNo('LOST');
    const cancelled = await sdk.exec('alipay.trade.cancel', { bizContent: { outTradeNo } });
    assert.equal(cancelled.code, '10000');
    assert.equal(cancelled.action, 'close');
    const user = await t.control.createUser({ balanceFen: 1000 });
    const { authCode } = await t.control.issuePaymentCode({ userId: user.userId });
    const late = await sdk.exec('alipay.trade.pay', {
      bizContent: { outTradeNo, totalAmount: '1.00', subject: 'x', scene: 'bar_code', authCode },
    });
    assert.equal(late.subCode, 'ACQ.TRADE_HAS_CLOSE');
    assert.equal((await t.control.getUser(user.userId)).balanceFen, 1000);
  });

  it('refuses to cancel a paid trade after the cancel window (ACQ.TRADE_CANCEL_TIME_OUT)', async () => {
    const own = await startTestSandbox({ apps: [{ appId: app.appId, publicKey: app.publicKey }] });
    try {
      const user = await own.control.createUser({ balanceFen: 1000 });
      const { authCode } = await own.control.issuePaymentCode({ userId: user.userId });
      const outTradeNo = uniqueNo('OLD');
      const sdk = sdkFor(own.sandbox, app);
      await sdk.exec('alipay.trade.pay', {
        bizContent: { outTradeNo, totalAmount: '1.00', subject: 'x', authCode },
      });
      await own.control.advanceClock({ hours: 25 });
      const late = await sdk.exec('alipay.trade.cancel', { bizContent: { outTradeNo } });
      assert.equal(late.subCode, 'ACQ.TRADE_CANCEL_TIME_OUT');
    } finally {
      await own.close();
    }
  });
});
