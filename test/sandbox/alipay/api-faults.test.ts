import assert from 'node:assert/strict';
import { AlipayRequestError, type AlipaySdk } from 'alipay-sdk';
import {
  newAppKeys,
  sdkFor,
  startNotifyReceiver,
  startSandboxWithApp,
  uniqueNo,
  waitFor,
  type AppKeys,
  type NotifyReceiver,
  type TestSandbox,
} from './support.js';

describe('Alipay sandbox API faults: injected errors, latency, hangs, unknown outcomes and 10003', () => {
  let t: TestSandbox;
  let app: AppKeys;
  let sdk: AlipaySdk;
  let inbox: NotifyReceiver;

  before(async () => {
    ({ t, app, sdk } = await startSandboxWithApp());
    inbox = await startNotifyReceiver();
  });
  afterEach(() => t.control.clearFaults());
  after(async () => {
    await inbox.close();
    await t.close();
  });

  async function campusPay(client: AlipaySdk, balanceFen = 1000, outTradeNo = uniqueNo('F')) {
    const user = await t.control.createUser({ balanceFen });
    const { authCode } = await t.control.issuePaymentCode({ userId: user.userId });
    const call = () =>
      client.exec('alipay.trade.pay', {
        notifyUrl: inbox.url,
        bizContent: { outTradeNo, totalAmount: '2.00', subject: 'x', scene: 'bar_code', authCode },
      });
    return { user, outTradeNo, call };
  }

  const query = (outTradeNo: string) => sdk.exec('alipay.trade.query', { bizContent: { outTradeNo } });

  it('answers the next N calls of a method with the injected sub_code, then behaves again', async () => {
    const fault = await t.control.injectApiFault({
      method: 'alipay.trade.query',
      times: 2,
      error: { subCode: 'ACQ.SYSTEM_ERROR', subMsg: '系统错误' },
    });
    assert.equal(fault.remaining, 2);
    const first = await sdk.exec(
      'alipay.trade.query',
      { bizContent: { outTradeNo: 'x' } },
      { validateSign: true },
    );
    assert.deepEqual(
      [first.code, first.msg, first.subCode, first.subMsg],
      ['40004', 'Business Failed', 'ACQ.SYSTEM_ERROR', '系统错误'],
    );
    assert.equal((await query('x')).subCode, 'ACQ.SYSTEM_ERROR');
    assert.equal((await query('x')).subCode, 'ACQ.TRADE_NOT_EXIST');
  });

  it('derives code 20000 for isp.unknow-error and lets a `*` fault hit any method', async () => {
    await t.control.injectApiFault({ method: '*', error: { subCode: 'isp.unknow-error' } });
    const result = await sdk.exec('alipay.trade.close', { bizContent: { outTradeNo: 'x' } });
    assert.deepEqual(
      [result.code, result.msg, result.subCode],
      ['20000', 'Service Currently Unavailable', 'isp.unknow-error'],
    );
  });

  it('puts oauth faults under error_response, like every oauth failure', async () => {
    await t.control.injectApiFault({
      method: 'alipay.system.oauth.token',
      error: { subCode: 'isp.unknow-error' },
    });
    const result = await sdk.exec('alipay.system.oauth.token', {
      grantType: 'authorization_code',
      code: 'x',
    });
    assert.equal(result.code, '20000');
  });

  it('fires at a rate, reproducibly with a seed', async () => {
    await t.control.injectApiFault({
      method: 'alipay.trade.query',
      rate: 0.5,
      seed: 7,
      error: { subCode: 'ACQ.SYSTEM_ERROR' },
    });
    const codes: string[] = [];
    for (let i = 0; i < 20; i++) codes.push((await query('x')).subCode);
    const failures = codes.filter((c) => c === 'ACQ.SYSTEM_ERROR').length;
    assert.ok(failures > 2 && failures < 18, `${failures} of 20`);
  });

  it('is taken only by calls that pass the gateway checks', async () => {
    await t.control.injectApiFault({ method: 'alipay.trade.query', error: { subCode: 'ACQ.SYSTEM_ERROR' } });
    const impostor = sdkFor(t.sandbox, { ...newAppKeys(app.appId) });
    assert.equal(
      (await impostor.exec('alipay.trade.query', { bizContent: { a: 1 } })).subCode,
      'isv.invalid-signature',
    );
    assert.equal((await query('x')).subCode, 'ACQ.SYSTEM_ERROR');
  });

  it('adds latency to the answer', async () => {
    await t.control.injectApiFault({ method: 'alipay.trade.query', latencyMs: 200 });
    const started = Date.now();
    assert.equal((await query('x')).subCode, 'ACQ.TRADE_NOT_EXIST');
    assert.ok(Date.now() - started >= 190);
  });

  it('hangs past the SDK timeout: exec throws AlipayRequestError and nothing happened', async () => {
    await t.control.injectApiFault({ method: 'alipay.trade.pay', hangMs: 3000 });
    const impatient = sdkFor(t.sandbox, app, { timeout: 300 });
    const { user, outTradeNo, call } = await campusPay(impatient);
    await assert.rejects(call(), (error: unknown) => {
      assert.ok(error instanceof AlipayRequestError);
      assert.match(error.message, /HttpClient Request error/);
      return true;
    });
    assert.equal((await query(outTradeNo)).subCode, 'ACQ.TRADE_NOT_EXIST');
    assert.equal((await t.control.getUser(user.userId)).balanceFen, 1000);
  });

  it('hang with applyEffect: the SDK times out but the money moved, which only a query reveals', async () => {
    await t.control.injectApiFault({ method: 'alipay.trade.pay', hangMs: 3000, applyEffect: true });
    const impatient = sdkFor(t.sandbox, app, { timeout: 300 });
    const { user, outTradeNo, call } = await campusPay(impatient);
    await assert.rejects(call(), AlipayRequestError);
    assert.equal((await query(outTradeNo)).tradeStatus, 'TRADE_SUCCESS');
    assert.equal((await t.control.getUser(user.userId)).balanceFen, 800);
  });

  it('error with applyEffect ("unknown outcome"): ACQ.SYSTEM_ERROR although charged; a retry gets TRADE_HAS_SUCCESS, never a second charge', async () => {
    await t.control.injectApiFault({
      method: 'alipay.trade.pay',
      error: { subCode: 'ACQ.SYSTEM_ERROR' },
      applyEffect: true,
    });
    const { user, outTradeNo, call } = await campusPay(sdk);
    assert.equal((await call()).subCode, 'ACQ.SYSTEM_ERROR');
    assert.equal((await query(outTradeNo)).tradeStatus, 'TRADE_SUCCESS');
    assert.equal((await call()).subCode, 'ACQ.TRADE_HAS_SUCCESS');
    assert.equal((await t.control.getUser(user.userId)).balanceFen, 800);
  });

  it('10003 then success after X ms: the answer has a trade_no and zero amounts, the trade completes and notifies', async () => {
    await t.control.injectApiFault({ method: 'alipay.trade.pay', payInProcess: { completeAfterMs: 100 } });
    const { user, outTradeNo, call } = await campusPay(sdk);
    const pending = await call();
    assert.equal(pending.code, '10003');
    assert.equal(pending.msg, ' order success pay inprocess');
    assert.match(pending.tradeNo, /^\d{28}$/);
    assert.equal(pending.receiptAmount, '0.00');
    assert.equal((await query(outTradeNo)).tradeStatus, 'WAIT_BUYER_PAY');
    await waitFor(async () => (await query(outTradeNo)).tradeStatus === 'TRADE_SUCCESS', 'TRADE_SUCCESS');
    assert.equal((await t.control.getUser(user.userId)).balanceFen, 800);
    await t.control.waitForNotifications({ outTradeNo });
  });

  it('10003 that never completes stays WAIT_BUYER_PAY until cancelled (query-then-cancel), with no charge', async () => {
    await t.control.injectApiFault({ method: 'alipay.trade.pay', payInProcess: {} });
    const { user, outTradeNo, call } = await campusPay(sdk);
    assert.equal((await call()).code, '10003');
    assert.equal((await query(outTradeNo)).tradeStatus, 'WAIT_BUYER_PAY');
    const cancelled = await sdk.exec('alipay.trade.cancel', { bizContent: { outTradeNo } });
    assert.equal(cancelled.action, 'close');
    assert.equal((await query(outTradeNo)).tradeStatus, 'TRADE_CLOSED');
    assert.equal((await t.control.getUser(user.userId)).balanceFen, 1000);
  });

  it('10003: a repeat of the same pay answers 10003 again without charging; the buyer confirming completes it', async () => {
    await t.control.injectApiFault({ method: 'alipay.trade.pay', payInProcess: {} });
    const { user, outTradeNo, call } = await campusPay(sdk);
    const first = await call();
    const repeat = await call();
    assert.deepEqual([repeat.code, repeat.tradeNo], ['10003', first.tradeNo]);
    assert.equal((await t.control.getUser(user.userId)).balanceFen, 1000);
    assert.equal(
      (await t.control.payTrade({ tradeNO: first.tradeNo, userId: user.userId })).resultCode,
      '9000',
    );
    assert.equal((await query(outTradeNo)).tradeStatus, 'TRADE_SUCCESS');
    assert.equal((await call()).subCode, 'ACQ.TRADE_HAS_SUCCESS');
    assert.equal((await t.control.getUser(user.userId)).balanceFen, 800);
  });

  it('10003 with outcome close ends TRADE_CLOSED after X ms', async () => {
    await t.control.injectApiFault({
      method: 'alipay.trade.pay',
      payInProcess: { completeAfterMs: 50, outcome: 'close' },
    });
    const { outTradeNo, call } = await campusPay(sdk);
    assert.equal((await call()).code, '10003');
    await waitFor(async () => (await query(outTradeNo)).tradeStatus === 'TRADE_CLOSED', 'TRADE_CLOSED');
  });

  it('validates fault specs and lists, removes and clears them', async () => {
    await assert.rejects(t.control.injectApiFault({ method: 'alipay.trade.pay' }), /VALIDATION_FAILED/);
    const fault = await t.control.injectApiFault({ method: 'alipay.trade.pay', latencyMs: 5, times: 3 });
    assert.deepEqual(
      (await t.control.listFaults()).map((f) => [f.id, f.kind, f.remaining]),
      [[fault.id, 'api', 3]],
    );
    await t.control.removeFault(fault.id);
    assert.deepEqual(await t.control.listFaults(), []);
  });
});
