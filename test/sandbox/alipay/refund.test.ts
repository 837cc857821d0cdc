import assert from 'node:assert/strict';
import { newAppKeys, sdkFor, startTestSandbox, uniqueNo, type AppKeys, type TestSandbox } from './support.js';

describe('Alipay sandbox refunds: alipay.trade.refund and alipay.trade.fastpay.refund.query', () => {
  let t: TestSandbox;
  let app: AppKeys;

  before(async () => {
    app = newAppKeys();
    t = await startTestSandbox({ apps: [{ appId: app.appId, publicKey: app.publicKey, idMode: 'open_id' }] });
  });
  after(() => t.close());

  async function paidTrade(totalAmount = '10.00') {
    const user = await t.control.createUser({ balanceFen: 5000 });
    const { authCode } = await t.control.issuePaymentCode({ userId: user.userId });
    const outTradeNo = uniqueNo('P');
    await sdkFor(t.sandbox, app).exec('alipay.trade.pay', {
      bizContent: { outTradeNo, totalAmount, subject: 'x', scene: 'bar_code', authCode },
    });
    return { user, outTradeNo };
  }

  const refund = (outTradeNo: string, refundAmount: string, outRequestNo?: string) =>
    sdkFor(t.sandbox, app).exec(
      'alipay.trade.refund',
      { bizContent: { outTradeNo, refundAmount, ...(outRequestNo ? { outRequestNo } : {}) } },
      { validateSign: true },
    );

  it('refunds in parts with a cumulative refund_fee, giving the money back to the buyer', async () => {
    const { user, outTradeNo } = await paidTrade('10.00');
    const first = await refund(outTradeNo, '3.00', 'R1');
    assert.equal(first.fundChange, 'Y');
    assert.equal(first.refundFee, '3.00');
    assert.equal(first.buyerOpenId, user.openIds[app.appId]);
    const second = await refund(outTradeNo, '2.50', 'R2');
    assert.equal(second.refundFee, '5.50');
    assert.equal((await t.control.getUser(user.userId)).balanceFen, 5000 - 1000 + 550);
    const query = await sdkFor(t.sandbox, app).exec('alipay.trade.query', { bizContent: { outTradeNo } });
    assert.equal(query.tradeStatus, 'TRADE_SUCCESS');
  });

  it('is idempotent on out_request_no: a repeat answers fund_change N and moves no money; another amount is DISCORDANT', async () => {
    const { user, outTradeNo } = await paidTrade('10.00');
    await refund(outTradeNo, '4.00', 'SAME');
    const repeat = await refund(outTradeNo, '4.00', 'SAME');
    assert.equal(repeat.code, '10000');
    assert.equal(repeat.fundChange, 'N');
    assert.equal(repeat.refundFee, '4.00');
    assert.equal((await refund(outTradeNo, '5.00', 'SAME')).subCode, 'ACQ.DISCORDANT_REPEAT_REQUEST');
    assert.equal((await t.control.getUser(user.userId)).balanceFen, 5000 - 1000 + 400);
  });

  it('never refunds more than was paid (ACQ.REASON_TRADE_REFUND_FEE_ERR)', async () => {
    const { outTradeNo } = await paidTrade('10.00');
    await refund(outTradeNo, '9.00', 'A');
    const over = await refund(outTradeNo, '1.01', 'B');
    assert.equal(over.code, '40004');
    assert.equal(over.subCode, 'ACQ.REASON_TRADE_REFUND_FEE_ERR');
  });

  it('closes the trade on a full refund; a retry of that refund still answers success (fund_change N)', async () => {
    const { outTradeNo } = await paidTrade('10.00');
    await refund(outTradeNo, '6.00', 'A');
    const rest = await refund(outTradeNo, '4.00', 'B');
    assert.equal(rest.refundFee, '10.00');
    const query = await sdkFor(t.sandbox, app).exec('alipay.trade.query', { bizContent: { outTradeNo } });
    assert.equal(query.tradeStatus, 'TRADE_CLOSED');
    assert.equal((await refund(outTradeNo, '4.00', 'B')).fundChange, 'N');
    assert.equal((await refund(outTradeNo, '0.01', 'C')).subCode, 'ACQ.TRADE_HAS_CLOSE');
  });

  it('uses out_trade_no as out_request_no when none is given, allowing one refund', async () => {
    const { outTradeNo } = await paidTrade('10.00');
    await refund(outTradeNo, '1.00');
    assert.equal((await refund(outTradeNo, '1.00')).fundChange, 'N');
    const [trade] = (await t.control.ledger({ outTradeNo })).trades;
    assert.deepEqual(
      trade.refunds.map((r) => [r.outRequestNo, r.amountFen]),
      [[outTradeNo, 100]],
    );
  });

  it('refuses refunds of unpaid or unknown trades', async () => {
    const user = await t.control.createUser();
    const outTradeNo = uniqueNo('U');
    await sdkFor(t.sandbox, app).exec('alipay.trade.create', {
      bizContent: { outTradeNo, totalAmount: '1.00', subject: 'x', buyerOpenId: user.openIds[app.appId] },
    });
    assert.equal((await refund(outTradeNo, '1.00', 'X')).subCode, 'ACQ.TRADE_STATUS_ERROR');
    assert.equal((await refund('missing', '1.00', 'X')).subCode, 'ACQ.TRADE_NOT_EXIST');
  });

  it('reports a refund by out_request_no as REFUND_SUCCESS, and an unknown request number as a bare 10000', async () => {
    const { outTradeNo } = await paidTrade('10.00');
    await refund(outTradeNo, '2.00', 'Q1');
    const sdk = sdkFor(t.sandbox, app);
    const found = await sdk.exec(
      'alipay.trade.fastpay.refund.query',
      { bizContent: { outTradeNo, outRequestNo: 'Q1', queryOptions: ['gmt_refund_pay'] } },
      { validateSign: true },
    );
    assert.equal(found.refundStatus, 'REFUND_SUCCESS');
    assert.equal(found.refundAmount, '2.00');
    assert.equal(found.totalAmount, '10.00');
    assert.match(found.gmtRefundPay, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    const missing = await sdk.exec('alipay.trade.fastpay.refund.query', {
      bizContent: { outTradeNo, outRequestNo: 'NOPE' },
    });
    assert.equal(missing.code, '10000');
    assert.equal(missing.refundStatus, undefined);
    assert.equal(missing.refundAmount, undefined);
  });

  it('refuses refunds after the refund window, when the trade is TRADE_FINISHED', async () => {
    const own = await startTestSandbox({
      apps: [{ appId: app.appId, publicKey: app.publicKey }],
      settings: { refundWindowMs: 90 * 86_400_000 },
    });
    try {
      const user = await own.control.createUser({ balanceFen: 1000 });
      const { authCode } = await own.control.issuePaymentCode({ userId: user.userId });
      const outTradeNo = uniqueNo('OLD');
      const sdk = sdkFor(own.sandbox, app);
      await sdk.exec('alipay.trade.pay', {
        bizContent: { outTradeNo, totalAmount: '1.00', subject: 'x', authCode },
      });
      await own.control.advanceClock({ days: 91 });
      assert.equal(
        (await sdk.exec('alipay.trade.query', { bizContent: { outTradeNo } })).tradeStatus,
        'TRADE_FINISHED',
      );
      const late = await sdk.exec('alipay.trade.refund', {
        bizContent: { outTradeNo, refundAmount: '1.00' },
      });
      assert.equal(late.subCode, 'ACQ.TRADE_HAS_FINISHED');
    } finally {
      await own.close();
    }
  });
});
