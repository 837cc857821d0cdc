import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import iconv from 'iconv-lite';
import JSZip from 'jszip';
import {
  openDetailCsv,
  readTradeBillRows,
  TradeBillError,
} from '../../server/src/integrations/alipay/trade-bill.js';

/**
 * Reading a trade bill zip from disk (issue 17): the detail entry found by its GBK name beside the summary,
 * streamed out of the file (deflated or stored), its GBK rows parsed; what is not a zip is a TradeBillError.
 */
describe('trade bill zip files', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trade-bill-test-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const detailCsv = [
    '#支付宝业务明细查询',
    '#-----------------------------------------业务明细列表----------------------------------------',
    '支付宝交易号,商户订单号,业务类型,商品名称,完成时间,订单金额（元）,服务费（元）,分润（元）,退款批次号/请求号',
    '2026120522001\t,R1\t,交易,清华大学 校园卡充值,2026-12-05 23:59:59,12.30,-0.07,3.60,',
    '2026120522001\t,R1\t,退款,清华大学 校园卡充值,2026-12-06 00:10:00,-9.00,0.05,-2.70,R1D\t',
    '#-----------------------------------------业务明细列表结束------------------------------------',
    '',
  ].join('\r\n');

  async function zipFile(name: string, compression: 'DEFLATE' | 'STORE'): Promise<string> {
    const zip = new JSZip();
    zip.file('2088000000000001_20261205_业务明细(汇总).csv', iconv.encode('#汇总\r\n', 'gbk'));
    zip.file('2088000000000001_20261205_业务明细.csv', iconv.encode(detailCsv, 'gbk'));
    const bytes = await zip.generateAsync({
      type: 'nodebuffer',
      compression,
      encodeFileName: (n) => iconv.encode(n, 'gbk').toString('latin1'),
    });
    const file = path.join(dir, name);
    fs.writeFileSync(file, bytes);
    return file;
  }

  for (const compression of ['DEFLATE', 'STORE'] as const) {
    it(`streams the detail rows out of a ${compression === 'DEFLATE' ? 'deflated' : 'stored'} entry`, async () => {
      const { name, stream } = await openDetailCsv(await zipFile(`${compression}.zip`, compression));
      assert.equal(name, '2088000000000001_20261205_业务明细.csv');
      const rows = [];
      for await (const row of readTradeBillRows(stream)) rows.push(row);
      assert.deepEqual(
        rows.map((r) => [r.outTradeNo, r.isRefund, r.subject, r.amountFen, r.feeFen, r.royaltyFen]),
        [
          ['R1', false, '清华大学 校园卡充值', 1_230, -7, 360],
          ['R1', true, '清华大学 校园卡充值', -900, 5, -270],
        ],
      );
      assert.equal(rows[1].refundRequestNo, 'R1D');
      assert.equal(rows[0].finishedAt?.toISOString(), '2026-12-05T15:59:59.000Z');
    });
  }

  it('refuses a file that is not a zip, and a zip without the detail file', async () => {
    const notZip = path.join(dir, 'not.zip');
    fs.writeFileSync(notZip, '<html>error</html>');
    await assert.rejects(openDetailCsv(notZip), TradeBillError);
    const zip = new JSZip();
    zip.file('other.csv', 'a,b\r\n');
    const onlyOther = path.join(dir, 'other.zip');
    fs.writeFileSync(onlyOther, await zip.generateAsync({ type: 'nodebuffer' }));
    await assert.rejects(openDetailCsv(onlyOther), /no 业务明细 file in the zip \(other\.csv\)/);
  });
});
