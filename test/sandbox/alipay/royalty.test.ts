import assert from 'node:assert/strict';
import type { AlipaySdk } from 'alipay-sdk';
import {
  startNotifyReceiver,
  startSandboxWithApp,
  uniqueNo,
  waitFor,
  type AppKeys,
  type NotifyReceiver,
  type TestSandbox,
} from './support.js';

describe('Alipay sandbox profit sharing: royalty_info on trades and alipay.trade.order.settle', () => {
  let t: TestSandbox;
  let app: AppKeys;
  let sdk: AlipaySdk;

  before(async () => {
    ({ t, app, sdk } = await startSandboxWithApp());
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

describe('Alipay sandbox royalty with merchant receivers, async settle and refunds that take royalty back', () => {
  let t: TestSandbox;
  let app: AppKeys;
  let sdk: AlipaySdk;
  let gateway: NotifyReceiver;

  before(async () => {
    gateway = await startNotifyReceiver();
    ({ t, app, sdk } = await startSandboxWithApp({
      appGatewayUrl: gateway.url,
      messageTopics: ['alipay.trade.order.settle.notify'],
    }));
  });
  after(async () => {
    await gateway.close();
    await t.close();
  });

  async function jsapiPaid(totalAmount: string, extra: Record<string, unknown>) {
    const buyer = await t.control.createUser({ balanceFen: 100_000 });
    const outTradeNo = uniqueNo('RJ');
    const created = await sdk.exec('alipay.trade.create', {
      bizContent: {
        outTradeNo,
        totalAmount,
        subject: '售货机',
        productCode: 'JSAPI_PAY',
        buyerOpenId: buyer.openIds[app.appId],
        ...extra,
      },
    });
    assert.equal(created.code, '10000', JSON.stringify(created));
    assert.equal(
      (await t.control.payTrade({ tradeNO: created.tradeNo, userId: buyer.userId })).resultCode,
      '9000',
    );
    return { buyer, outTradeNo, tradeNo: created.tradeNo as string };
  }

  async function precreatePaid(totalAmount: string, extra: Record<string, unknown>) {
    const buyer = await t.control.createUser({ balanceFen: 100_000 });
    const outTradeNo = uniqueNo('RQ');
    const { qrCode } = await sdk.exec('alipay.trade.precreate', {
      bizContent: { outTradeNo, totalAmount, subject: '售货机', ...extra },
    });
    assert.equal((await t.control.scanQrCode({ qrCode, userId: buyer.userId })).resultCode, '9000');
    return { buyer, outTradeNo };
  }

  it('pays royalty_info to a merchant account (an operator PID)', async () => {
    const operator = await t.control.createMerchant();
    await jsapiPaid('10.00', {
      royaltyInfo: {
        royaltyDetailInfos: [{ transInType: 'userId', transIn: operator.accountId, amount: '3.00' }],
      },
    });
    assert.equal((await t.control.getAccount(operator.accountId)).balanceFen, 300);
  });

  it('a 当面付 refund takes royalty back by itself, in proportion; the whole refund returns all of it', async () => {
    const operator = await t.control.createMerchant();
    const { outTradeNo } = await precreatePaid('10.00', {
      royaltyInfo: { royaltyDetailInfos: [{ transIn: operator.accountId, amount: '3.33' }] },
    });
    const refund = (outRequestNo: string, refundAmount: string) =>
      sdk.exec('alipay.trade.refund', { bizContent: { outTradeNo, outRequestNo, refundAmount } });
    assert.equal((await refund('F1', '5.00')).code, '10000');
    // The receiver keeps floor(333 × 500 / 1000) = 166 and gives back 167 with the first half.
    assert.equal((await t.control.getAccount(operator.accountId)).balanceFen, 166);
    assert.equal((await refund('F2', '5.00')).code, '10000');
    assert.equal((await t.control.getAccount(operator.accountId)).balanceFen, 0);
    const [trade] = (await t.control.ledger({ outTradeNo })).trades;
    assert.deepEqual(
      trade.royaltyReturns.map((r) => [r.outRequestNo, r.amountFen, r.how]),
      [
        ['F1', 167, 'auto'],
        ['F2', 166, 'auto'],
      ],
    );
  });

  it('a JSAPI refund takes back exactly refund_royalty_parameters; without them the seller pays it all', async () => {
    const operator = await t.control.createMerchant();
    const royaltyInfo = { royaltyDetailInfos: [{ transIn: operator.accountId, amount: '2.00' }] };
    const first = await jsapiPaid('10.00', { royaltyInfo });
    const withParams = await sdk.exec('alipay.trade.refund', {
      bizContent: {
        outTradeNo: first.outTradeNo,
        outRequestNo: 'F1',
        refundAmount: '10.00',
        refundRoyaltyParameters: [{ transOut: operator.accountId, amount: '2.00' }],
      },
    });
    assert.equal(withParams.code, '10000');
    assert.equal((await t.control.getAccount(operator.accountId)).balanceFen, 0);
    const query = await sdk.exec('alipay.trade.fastpay.refund.query', {
      bizContent: { outTradeNo: first.outTradeNo, outRequestNo: 'F1' },
    });
    assert.equal(query.refundRoyaltys[0].refundAmount, '2.00');
    const tooMuch = await jsapiPaid('10.00', { royaltyInfo });
    const over = await sdk.exec('alipay.trade.refund', {
      bizContent: {
        outTradeNo: tooMuch.outTradeNo,
        outRequestNo: 'F1',
        refundAmount: '1.00',
        refundRoyaltyParameters: [{ transOut: operator.accountId, amount: '2.01' }],
      },
    });
    assert.equal(over.subCode, 'ACQ.REFUND_ROYALTY_AMOUNT_ERROR');
    const plain = await sdk.exec('alipay.trade.refund', {
      bizContent: { outTradeNo: tooMuch.outTradeNo, outRequestNo: 'F2', refundAmount: '1.00' },
    });
    assert.equal(plain.code, '10000');
    assert.equal((await t.control.getAccount(operator.accountId)).balanceFen, 200, 'nothing came back');
  });

  it('settles asynchronously: PROCESSING, then the split and the settle message to the app gateway', async () => {
    const operator = await t.control.createMerchant();
    const paid = await jsapiPaid('8.00', { extendParams: { royaltyFreeze: 'true' } });
    const settle = await sdk.exec('alipay.trade.order.settle', {
      bizContent: {
        outRequestNo: 'S1',
        tradeNo: paid.tradeNo,
        royaltyMode: 'async',
        royaltyParameters: [{ transInType: 'userId', transIn: operator.accountId, amount: '2.40' }],
        extendParams: { royaltyFinish: 'true' },
      },
    });
    assert.equal(settle.code, '10000');
    const message = await waitFor(
      () => gateway.received.find((n) => n.fields.msg_method === 'alipay.trade.order.settle.notify'),
      'the settle message',
    );
    const biz = JSON.parse(message.fields.biz_content);
    assert.equal(biz.settle_no, settle.settleNo);
    assert.equal(biz.out_request_no, 'S1');
    assert.equal(biz.royalty_detail_list[0].state, 'SUCCESS');
    assert.equal((await t.control.getAccount(operator.accountId)).balanceFen, 240);
    const query = await sdk.exec('alipay.trade.order.settle.query', {
      bizContent: { outRequestNo: 'S1', tradeNo: paid.tradeNo },
    });
    assert.equal(query.royaltyDetailList[0].state, 'SUCCESS');
    assert.equal(query.royaltyDetailList[0].amount, '2.40');
  });
});
