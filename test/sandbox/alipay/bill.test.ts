import assert from 'node:assert/strict';
import iconv from 'iconv-lite';
import JSZip from 'jszip';
import { newAppKeys, sdkFor, startTestSandbox, uniqueNo, type AppKeys, type TestSandbox } from './support.js';

describe('Alipay sandbox bills: alipay.data.dataservice.bill.downloadurl.query and the GBK CSV zip', () => {
  let t: TestSandbox;
  let app: AppKeys;

  before(async () => {
    app = newAppKeys();
    t = await startTestSandbox({ apps: [{ appId: app.appId, publicKey: app.publicKey, idMode: 'open_id' }] });
  });
  after(() => t.close());

  it("serves yesterday's trade bill as a zip of GBK CSVs in Alipay's layout, with payments and refunds", async () => {
    const sdk = sdkFor(t.sandbox, app);
    const user = await t.control.createUser({ balanceFen: 10_000 });
    const { authCode } = await t.control.issuePaymentCode({ userId: user.userId });
    const outTradeNo = uniqueNo('BILL');
    const paid = await sdk.exec('alipay.trade.pay', {
      bizContent: { outTradeNo, totalAmount: '20.00', subject: '食堂消费', authCode, terminalId: 'POS7' },
    });
    await sdk.exec('alipay.trade.refund', {
      bizContent: { outTradeNo, refundAmount: '5.00', outRequestNo: 'RF1' },
    });
    const billDate = (await t.control.clock()).beijingTime.slice(0, 10);

    const early = await sdk.exec('alipay.data.dataservice.bill.downloadurl.query', {
      bizContent: { billType: 'trade', billDate },
    });
    assert.equal(early.subCode, 'BILL_NOT_EXIST');

    // Bills of a day exist from 09:00 (Beijing) the next day: 34 hours later is always past that.
    await t.control.advanceClock({ days: 1, hours: 10 });
    const answer = await sdk.exec(
      'alipay.data.dataservice.bill.downloadurl.query',
      { bizContent: { billType: 'trade', billDate } },
      { validateSign: true },
    );
    assert.equal(answer.code, '10000');
    const url = new URL(answer.billDownloadUrl);
    const seller = (await t.control.listApps()).find((a) => a.appId === app.appId)!.sellerId;
    const compactDate = billDate.replaceAll('-', '');
    assert.equal(url.searchParams.get('downloadFileName'), `${seller}0156_${compactDate}.csv.zip`);

    const response = await fetch(answer.billDownloadUrl);
    assert.equal(response.status, 200);
    const zip = await JSZip.loadAsync(Buffer.from(await response.arrayBuffer()));
    const names = Object.keys(zip.files);
    assert.deepEqual(names, [
      `${seller}0156_${compactDate}_业务明细(汇总).csv`,
      `${seller}0156_${compactDate}_业务明细.csv`,
    ]);
    const detail = iconv.decode(await zip.files[names[1]].async('nodebuffer'), 'gbk');
    const lines = detail.split('\r\n');
    assert.equal(lines[0], '#支付宝业务明细查询');
    assert.equal(lines[1], `#账号：[${seller}0156]`);
    assert.match(
      lines[2],
      /^#起始日期：\[\d{4}年\d{2}月\d{2}日 00:00:00\] {3}终止日期：\[\d{4}年\d{2}月\d{2}日 00:00:00\]$/,
    );
    assert.match(lines[3], /^#-+业务明细列表-+$/);
    assert.ok(
      lines[4].startsWith(
        '支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,订单金额（元）,商家实收（元）',
      ),
    );
    assert.ok(lines[4].endsWith(',退款批次号/请求号,服务费（元）,分润（元）,备注'));
    const sale = lines[5].split(',');
    const refund = lines[6].split(',');
    assert.deepEqual(
      [sale[0], sale[1], sale[2], sale[3], sale[9], sale[11]],
      [`${paid.tradeNo}\t`, `${outTradeNo}\t`, '交易', '食堂消费', 'POS7\t', '20.00'],
    );
    assert.deepEqual([refund[2], refund[11], refund[21]], ['退款', '-5.00', 'RF1\t']);
    assert.match(lines[7], /^#-+业务明细列表结束-+$/);
    assert.equal(lines[8], '#交易合计：1笔，商家实收共20.00元，商家优惠共0.00元');
    assert.equal(lines[9], '#退款合计：1笔，商家实收共-5.00元，商家优惠共0.00元');
    assert.match(lines[10], /^#导出时间：\[/);
    const summary = iconv.decode(await zip.files[names[0]].async('nodebuffer'), 'gbk');
    assert.match(summary, /^#支付宝业务汇总查询\r\n/);
    assert.match(summary, /\r\n合计,,1,1,15\.00,15\.00,/);
  });

  it('serves the signcustomer (account) bill with running balances', async () => {
    const own = await startTestSandbox({ apps: [{ appId: app.appId, publicKey: app.publicKey }] });
    try {
      const sdk = sdkFor(own.sandbox, app);
      const user = await own.control.createUser({ balanceFen: 10_000 });
      for (const amount of ['1.00', '2.50']) {
        const { authCode } = await own.control.issuePaymentCode({ userId: user.userId });
        await sdk.exec('alipay.trade.pay', {
          bizContent: { outTradeNo: uniqueNo('S'), totalAmount: amount, subject: 'x', authCode },
        });
      }
      const month = (await own.control.clock()).beijingTime.slice(0, 7);
      await own.control.advanceClock({ days: 32 });
      const answer = await sdk.exec('alipay.data.dataservice.bill.downloadurl.query', {
        bizContent: { billType: 'signcustomer', billDate: month },
      });
      const zip = await JSZip.loadAsync(
        Buffer.from(await (await fetch(answer.billDownloadUrl)).arrayBuffer()),
      );
      const [name] = Object.keys(zip.files);
      assert.match(name, /_账务明细\.csv$/);
      const csv = iconv.decode(await zip.files[name].async('nodebuffer'), 'gbk');
      assert.match(csv, /^#支付宝账务明细查询\r\n/);
      assert.match(
        csv,
        /账务流水号,业务流水号,商户订单号,商品名称,发生时间,对方账号,收入金额（\+元）,支出金额（-元）,账户余额（元）,交易渠道,业务类型,备注/,
      );
      assert.match(csv, /,1\.00,,1\.00,支付宝,在线支付,/);
      assert.match(csv, /,2\.50,,3\.50,支付宝,在线支付,/);
      assert.match(csv, /#收入合计：2笔，共3\.50元/);
    } finally {
      await own.close();
    }
  });

  it('refuses bad dates and types, and lets download URLs expire after about 30 s', async () => {
    const sdk = sdkFor(t.sandbox, app);
    const query = (billType: string, billDate: string) =>
      sdk.exec('alipay.data.dataservice.bill.downloadurl.query', { bizContent: { billType, billDate } });
    assert.equal((await query('trade', '2020/01/01')).subCode, 'INVALID_ARGUMENTS');
    assert.equal((await query('trade', '2999-01-01')).subCode, 'BILL_NOT_EXIST');
    assert.equal((await query('merchant_act', '2020-01-01')).subCode, 'TYPE_NOT_SUPPORTED');
    const fresh = await query('trade', '2020-01-01');
    await t.control.advanceClock({ seconds: 31 });
    assert.equal((await fetch(fresh.billDownloadUrl)).status, 404);
  });
});
