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

  describe('campus codes (校园码, seed 001): final_data as auth_code', () => {
    const SCHOOL = '4132010001';
    const issue = (userId: string, extra: Partial<Parameters<typeof t.control.issueCampusCode>[0]> = {}) =>
      t.control.issueCampusCode({
        userId,
        schoolCode: SCHOOL,
        studentNo: '20260003',
        studentName: '王小明',
        ...extra,
      });

    it('issues the decoding SDK outputs: 4-byte template id, Vars userData with a GB2312 name, 8-byte in_use_time', async () => {
      const user = await t.control.createUser();
      const code = await issue(user.userId, { templateId: 5 });
      assert.equal(Buffer.from(code.templateIdBytes, 'base64').readUInt32BE(0), 5);
      assert.equal(Number(Buffer.from(code.inUseTimeBytes, 'base64').readBigUInt64BE(0)), code.inUseTime);
      const userData = Buffer.from(code.userData, 'base64');
      assert.equal(userData[0], 8, 'school_no is a Vars of 8 bytes');
      assert.equal(userData.readBigInt64BE(1), 4132010001n);
      assert.ok(userData.includes(Buffer.from([0xcd, 0xf5])), 'the name is GB2312 (王 = CD F5)');
      assert.equal(code.encodeType, 'GB2312');
      assert.equal(new Date(code.expiresAt).getTime() - code.inUseTime, 10 * 86_400_000);
      const unencodable = await fetch(`${t.sandbox.url}/control/campus-codes`, {
        method: 'POST',
        body: JSON.stringify({ userId: user.userId, schoolCode: SCHOOL, studentNo: '1', studentName: '😀' }),
      });
      assert.equal(unencodable.status, 400);
    });

    it('charges the user the code belongs to', async () => {
      const user = await t.control.createUser({ balanceFen: 1000 });
      const code = await issue(user.userId);
      const paid = await pay(code.finalData, '4.20');
      assert.equal(paid.code, '10000', JSON.stringify(paid));
      assert.equal(paid.buyerOpenId, user.openIds[app.appId]);
      assert.equal((await t.control.getUser(user.userId)).balanceFen, 580);
    });

    it('refuses a code already paid under another out_trade_no, and answers a repeat of the same one from the trade', async () => {
      const user = await t.control.createUser({ balanceFen: 1000 });
      const code = await issue(user.userId);
      const outTradeNo = uniqueNo('C');
      assert.equal((await pay(code.finalData, '1.00', outTradeNo)).code, '10000');
      assert.equal((await pay(code.finalData, '1.00', outTradeNo)).subCode, 'ACQ.TRADE_HAS_SUCCESS');
      const other = await pay(code.finalData, '1.00');
      assert.equal(other.subCode, 'ACQ.PAYMENT_AUTH_CODE_INVALID');
      assert.equal((await t.control.getUser(user.userId)).balanceFen, 900);
    });

    it('lets the same out_trade_no pay after ACQ.BUYER_BALANCE_NOT_ENOUGH', async () => {
      const user = await t.control.createUser({ balanceFen: 0 });
      const code = await issue(user.userId);
      const outTradeNo = uniqueNo('C');
      assert.equal((await pay(code.finalData, '2.00', outTradeNo)).subCode, 'ACQ.BUYER_BALANCE_NOT_ENOUGH');
      await t.control.setBalance(user.userId, 300);
      assert.equal((await pay(code.finalData, '2.00', outTradeNo)).code, '10000');
    });

    it('refuses a code made more than 10 days ago on its clock', async () => {
      const own = await startTestSandbox({ apps: [{ appId: app.appId, publicKey: app.publicKey }] });
      try {
        const user = await own.control.createUser({ balanceFen: 1000 });
        const fresh = await own.control.issueCampusCode({
          userId: user.userId,
          schoolCode: SCHOOL,
          studentNo: '1',
          studentName: '李四',
        });
        const old = await own.control.issueCampusCode({
          userId: user.userId,
          schoolCode: SCHOOL,
          studentNo: '1',
          studentName: '李四',
        });
        await own.control.advanceClock({ days: 9, hours: 23 });
        const payWith = (authCode: string) =>
          sdkFor(own.sandbox, app).exec('alipay.trade.pay', {
            bizContent: {
              outTradeNo: uniqueNo('C'),
              totalAmount: '1.00',
              subject: 'x',
              scene: 'bar_code',
              authCode,
            },
          });
        assert.equal((await payWith(fresh.finalData)).code, '10000');
        await own.control.advanceClock({ hours: 2 });
        const late = await payWith(old.finalData);
        assert.equal(late.subCode, 'ACQ.PAYMENT_AUTH_CODE_INVALID');
        assert.match(String(late.subMsg), /过期/);
      } finally {
        await own.close();
      }
    });

    it('issues a code made earlier when asked (madeAt, up to 30 days back), which is no longer payable after 10 days', async () => {
      const user = await t.control.createUser({ balanceFen: 1000 });
      const madeAt = new Date(Date.now() - 11 * 24 * 3_600_000);
      const old = await t.control.issueCampusCode({
        userId: user.userId,
        schoolCode: SCHOOL,
        studentNo: '1',
        studentName: '李四',
        madeAt: madeAt.toISOString(),
      });
      assert.equal(old.inUseTime, madeAt.getTime());
      assert.equal(old.expiresAt, new Date(madeAt.getTime() + 10 * 24 * 3_600_000).toISOString());
      const paid = await sdkFor(t.sandbox, app).exec('alipay.trade.pay', {
        bizContent: {
          outTradeNo: uniqueNo('C'),
          totalAmount: '1.00',
          subject: 'x',
          scene: 'bar_code',
          authCode: old.finalData,
        },
      });
      assert.equal(paid.subCode, 'ACQ.PAYMENT_AUTH_CODE_INVALID');
      for (const bad of [new Date(Date.now() + 60_000), new Date(Date.now() - 31 * 24 * 3_600_000)])
        await assert.rejects(
          t.control.issueCampusCode({
            userId: user.userId,
            schoolCode: SCHOOL,
            studentNo: '1',
            studentName: '李四',
            madeAt: bad.toISOString(),
          }),
          /madeAt/,
        );
    });

    it('honours fault injection: a hang that took the money leaves a paid trade to find by query', async () => {
      const user = await t.control.createUser({ balanceFen: 1000 });
      const code = await issue(user.userId);
      const outTradeNo = uniqueNo('C');
      await t.control.injectApiFault({
        method: 'alipay.trade.pay',
        times: 1,
        error: { subCode: 'ACQ.SYSTEM_ERROR' },
        applyEffect: true,
      });
      assert.equal((await pay(code.finalData, '3.00', outTradeNo)).subCode, 'ACQ.SYSTEM_ERROR');
      const query = await sdkFor(t.sandbox, app).exec('alipay.trade.query', { bizContent: { outTradeNo } });
      assert.equal(query.tradeStatus, 'TRADE_SUCCESS');
      assert.equal((await t.control.getUser(user.userId)).balanceFen, 700);
    });
  });
});
