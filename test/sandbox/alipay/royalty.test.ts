import assert from 'node:assert/strict';
import type { AlipaySdk } from 'alipay-sdk';
import { newAppKeys, sdkFor, startTestSandbox, uniqueNo, type AppKeys, type TestSandbox } from './support.js';

describe('Alipay sandbox profit sharing: royalty_info on trades and alipay.trade.order.settle', () => {
  let t: TestSandbox;
  let app: AppKeys;
  let sdk: AlipaySdk;

  before(async () => {
    app = newAppKeys();
    t = await startTestSandbox({ apps: [{ appId: app.appId, publicKey: app.publicKey, idMode: 'open_id' }] });
    sdk = sdkFor(t.sandbox, app);
  });
  after(() => t.close());

  async function pay(extra: Record<string, unknown>, totalAmount = '10.00') {
    const buyer = await t.control.createUser({ balanceFen: 10_000 });
    const { authCode } = await t.control.issuePaymentCode({ userId: buyer.userId });
    const outTradeNo = uniqueNo('RY');
    const paid = await sdk.exec('alipay.trade.pay', {
      bizContent: { outTradeNo, totalAmount, subject: '售卖机', authCode, ...extra },
    });
    return { paid, outTradeNo };
  }

  it('splits a paid trade by royalty_info at payment time (fixed amount and percentage)', async () => {
    const operator = await t.control.createUser();
    const school = await t.control.createUser();
    const { paid, outTradeNo } = await pay({
      royaltyInfo: {
        royaltyType: 'ROYALTY',
        royaltyDetailInfos: [
          { transInType: 'userId', transIn: operator.userId, amount: '1.50' },
          { transInType: 'openId', transIn: school.openIds[app.appId], amountPercentage: '10' },
        ],
      },
    });
    assert.equal(paid.code, '10000');
    assert.equal((await t.control.getUser(operator.userId)).balanceFen, 150);
    assert.equal((await t.control.getUser(school.userId)).balanceFen, 100);
    const [trade] = (await t.control.ledger({ outTradeNo })).trades;
    assert.equal(trade.settledFen, 250);
    assert.equal(trade.settlements[0].source, 'royalty_info');
  });

  it('refuses royalty_info with an unknown receiver or more than the trade amount', async () => {
    const unknown = await pay({
      royaltyInfo: { royaltyDetailInfos: [{ transIn: '2088000000000000', amount: '1.00' }] },
    });
    assert.equal(unknown.paid.subCode, 'ACQ.ROYALTY_RECEIVER_INVALID');
    const receiver = await t.control.createUser();
    const tooMuch = await pay({
      royaltyInfo: { royaltyDetailInfos: [{ transIn: receiver.userId, amount: '11.00' }] },
    });
    assert.equal(tooMuch.paid.subCode, 'ACQ.ALLOC_AMOUNT_VALIDATE_ERROR');
  });

  it('keeps frozen funds for trade.order.settle, idempotent on out_request_no, never over the paid amount', async () => {
    const receiver = await t.control.createUser();
    const { paid } = await pay({
      royaltyInfo: { royaltyDetailInfos: [{ transIn: receiver.userId, amount: '1.00' }] },
      extendParams: { royaltyFreeze: 'true' },
    });
    assert.equal((await t.control.getUser(receiver.userId)).balanceFen, 0);
    const settle = (outRequestNo: string, amount: string, finish = false) =>
      sdk.exec(
        'alipay.trade.order.settle',
        {
          bizContent: {
            outRequestNo,
            tradeNo: paid.tradeNo,
            royaltyParameters: [{ transInType: 'userId', transIn: receiver.userId, amount }],
            ...(finish ? { extendParams: { royaltyFinish: 'true' } } : {}),
          },
        },
        { validateSign: true },
      );
    const first = await settle('S1', '3.00');
    assert.equal(first.code, '10000');
    assert.equal(first.tradeNo, paid.tradeNo);
    assert.match(first.settleNo, /^\d+$/);
    assert.equal((await settle('S1', '3.00')).settleNo, first.settleNo);
    assert.equal((await settle('S1', '4.00')).subCode, 'ACQ.DISCORDANT_REPEAT_REQUEST');
    assert.equal((await settle('S2', '7.01')).subCode, 'ACQ.ALLOC_AMOUNT_VALIDATE_ERROR');
    assert.equal((await settle('S3', '2.00', true)).code, '10000');
    assert.equal((await settle('S4', '1.00')).subCode, 'ACQ.ALREADY_FINISH_ALLOC');
    assert.equal((await t.control.getUser(receiver.userId)).balanceFen, 500);
  });

  it('refuses to settle an unpaid or unknown trade', async () => {
    const buyer = await t.control.createUser();
    const receiver = await t.control.createUser();
    const created = await sdk.exec('alipay.trade.create', {
      bizContent: {
        outTradeNo: uniqueNo('U'),
        totalAmount: '1.00',
        subject: 'x',
        buyerOpenId: buyer.openIds[app.appId],
      },
    });
    const royaltyParameters = [{ transIn: receiver.userId, amount: '0.10' }];
    const unpaid = await sdk.exec('alipay.trade.order.settle', {
      bizContent: { outRequestNo: uniqueNo('S'), tradeNo: created.tradeNo, royaltyParameters },
    });
    assert.equal(unpaid.subCode, 'ACQ.TRADE_STATUS_ERROR');
    const unknown = await sdk.exec('alipay.trade.order.settle', {
      bizContent: { outRequestNo: uniqueNo('S'), tradeNo: '2026010122001000000000000000', royaltyParameters },
    });
    assert.equal(unknown.subCode, 'ACQ.TRADE_NOT_EXIST');
  });
});
