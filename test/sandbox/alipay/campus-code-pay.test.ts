import assert from 'node:assert/strict';
import { newAppKeys, sdkFor, startTestSandbox, uniqueNo, type AppKeys, type TestSandbox } from './support.js';

describe('Alipay sandbox campus-code payments: alipay.trade.pay with scene=bar_code', () => {
  let t: TestSandbox;
  let app: AppKeys;

  before(async () => {
    app = newAppKeys();
    t = await startTestSandbox({ apps: [{ appId: app.appId, publicKey: app.publicKey, idMode: 'open_id' }] });
  });
  after(() => t.close());

  const pay = (authCode: string, totalAmount: string, outTradeNo = uniqueNo('C')) =>
    sdkFor(t.sandbox, app).exec(
      'alipay.trade.pay',
      {
        bizContent: {
          outTradeNo,
          totalAmount,
          subject: '食堂',
          scene: 'bar_code',
          authCode,
          terminalId: 'POS01',
        },
      },
      { validateSign: true },
    );

  it('issues one-time codes of 18 digits starting with 25–30', async () => {
    const user = await t.control.createUser();
    const { authCode } = await t.control.issuePaymentCode({ userId: user.userId });
    assert.match(authCode, /^(2[5-9]|30)\d{16}$/);
  });

  it('charges the code owner and answers with the paid amounts and buyer', async () => {
    const user = await t.control.createUser({ balanceFen: 1000 });
    const { authCode } = await t.control.issuePaymentCode({ userId: user.userId });
    const paid = await pay(authCode, '3.50');
    assert.equal(paid.code, '10000');
    assert.equal(paid.totalAmount, '3.50');
    assert.equal(paid.receiptAmount, '3.50');
    assert.equal(paid.buyerOpenId, user.openIds[app.appId]);
    assert.deepEqual(paid.fundBillList, [{ fundChannel: 'ALIPAYACCOUNT', amount: '3.50' }]);
    assert.equal((await t.control.getUser(user.userId)).balanceFen, 650);
  });

  it('refuses a used, unknown or expired code with ACQ.PAYMENT_AUTH_CODE_INVALID', async () => {
    const user = await t.control.createUser({ balanceFen: 1000 });
    const { authCode } = await t.control.issuePaymentCode({ userId: user.userId });
    await pay(authCode, '1.00');
    assert.equal((await pay(authCode, '1.00')).subCode, 'ACQ.PAYMENT_AUTH_CODE_INVALID');
    assert.equal((await pay('281234567890123456', '1.00')).subCode, 'ACQ.PAYMENT_AUTH_CODE_INVALID');
    assert.equal((await pay('12345', '1.00')).subCode, 'ACQ.PAYMENT_AUTH_CODE_INVALID');

    const own = await startTestSandbox({ apps: [{ appId: app.appId, publicKey: app.publicKey }] });
    try {
      const holder = await own.control.createUser({ balanceFen: 1000 });
      const code = await own.control.issuePaymentCode({ userId: holder.userId, ttlSeconds: 60 });
      await own.control.advanceClock({ minutes: 2 });
      const late = await sdkFor(own.sandbox, app).exec('alipay.trade.pay', {
        bizContent: {
          outTradeNo: uniqueNo('C'),
          totalAmount: '1.00',
          subject: 'x',
          scene: 'bar_code',
          authCode: code.authCode,
        },
      });
      assert.equal(late.subCode, 'ACQ.PAYMENT_AUTH_CODE_INVALID');
    } finally {
      await own.close();
    }
  });

  it('answers ACQ.BUYER_BALANCE_NOT_ENOUGH without creating a trade, so the same out_trade_no succeeds after a top-up', async () => {
    const user = await t.control.createUser({ balanceFen: 100 });
    const { authCode } = await t.control.issuePaymentCode({ userId: user.userId });
    const outTradeNo = uniqueNo('POOR');
    assert.equal((await pay(authCode, '2.00', outTradeNo)).subCode, 'ACQ.BUYER_BALANCE_NOT_ENOUGH');
    const query = await sdkFor(t.sandbox, app).exec('alipay.trade.query', { bizContent: { outTradeNo } });
    assert.equal(query.subCode, 'ACQ.TRADE_NOT_EXIST');
    await t.control.setBalance(user.userId, 500);
    assert.equal((await pay(authCode, '2.00', outTradeNo)).code, '10000');
    assert.equal((await t.control.getUser(user.userId)).balanceFen, 300);
  });

  it('answers ACQ.TRADE_HAS_SUCCESS for a repeat of a paid out_trade_no and CONTEXT_INCONSISTENT for another amount', async () => {
    const user = await t.control.createUser({ balanceFen: 1000 });
    const outTradeNo = uniqueNo('DUP');
    const first = await t.control.issuePaymentCode({ userId: user.userId });
    await pay(first.authCode, '1.00', outTradeNo);
    const second = await t.control.issuePaymentCode({ userId: user.userId });
    assert.equal((await pay(second.authCode, '1.00', outTradeNo)).subCode, 'ACQ.TRADE_HAS_SUCCESS');
    assert.equal((await pay(second.authCode, '2.00', outTradeNo)).subCode, 'ACQ.CONTEXT_INCONSISTENT');
    assert.equal((await t.control.getUser(user.userId)).balanceFen, 900);
  });
});
