import assert from 'node:assert/strict';
import http from 'node:http';
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

describe('Alipay sandbox alipay.trade.precreate: the QR a terminal shows', () => {
  let t: TestSandbox;
  let app: AppKeys;
  let sdk: AlipaySdk;
  let inbox: NotifyReceiver;

  before(async () => {
    ({ t, app, sdk } = await startSandboxWithApp());
    inbox = await startNotifyReceiver();
  });
  after(async () => {
    await inbox.close();
    await t.close();
  });

  const precreate = (outTradeNo: string, extra: Record<string, unknown> = {}, totalAmount = '3.50') =>
    sdk.exec(
      'alipay.trade.precreate',
      {
        notifyUrl: inbox.url,
        bizContent: { outTradeNo, totalAmount, subject: '可乐', terminalId: 'VM-01', ...extra },
      },
      { validateSign: true },
    );

  it('answers a qr_code; no trade exists until someone scans it', async () => {
    const outTradeNo = uniqueNo('Q');
    const answer = await precreate(outTradeNo);
    assert.equal(answer.code, '10000');
    assert.match(answer.qrCode, /^https:\/\/qr\.alipay\.com\/bax/);
    assert.equal((await precreate(outTradeNo)).qrCode, answer.qrCode, 'a repeat answers the same code');
    assert.equal((await precreate(outTradeNo, {}, '4.00')).subCode, 'ACQ.CONTEXT_INCONSISTENT');
    const query = await sdk.exec('alipay.trade.query', { bizContent: { outTradeNo } });
    assert.equal(query.subCode, 'ACQ.TRADE_NOT_EXIST');
  });

  it('a scan makes the trade with the scanner as buyer; paying notifies with the terminal id kept', async () => {
    const outTradeNo = uniqueNo('Q');
    const { qrCode } = await precreate(outTradeNo);
    const buyer = await t.control.createUser({ balanceFen: 1_000 });
    const left = await t.control.scanQrCode({ qrCode, userId: buyer.userId, action: 'cancel' });
    assert.equal(left.resultCode, '6001');
    const waiting = await sdk.exec('alipay.trade.query', { bizContent: { outTradeNo } });
    assert.equal(waiting.tradeStatus, 'WAIT_BUYER_PAY');
    const paid = await t.control.scanQrCode({ qrCode, userId: buyer.userId });
    assert.equal(paid.resultCode, '9000');
    assert.equal(paid.outTradeNo, outTradeNo);
    const note = await waitFor(
      () => inbox.received.find((n) => n.fields.out_trade_no === outTradeNo),
      'the TRADE_SUCCESS notification',
    );
    assert.equal(note.fields.trade_status, 'TRADE_SUCCESS');
    assert.equal(note.fields.buyer_open_id, buyer.openIds[app.appId]);
    const [trade] = (await t.control.ledger({ outTradeNo })).trades;
    assert.equal(trade.terminalId, 'VM-01');
    assert.equal(trade.productCode, 'FACE_TO_FACE_PAYMENT');
    assert.equal((await t.control.getUser(buyer.userId)).balanceFen, 650);
    const other = await t.control.createUser({ balanceFen: 1_000 });
    assert.notEqual((await t.control.scanQrCode({ qrCode, userId: other.userId })).resultCode, '9000');
    assert.equal((await t.control.getUser(other.userId)).balanceFen, 1_000, 'nobody pays a code twice');
  });

  it('a code closed or cancelled before anyone scanned it opens nothing', async () => {
    const buyer = await t.control.createUser({ balanceFen: 1_000 });
    const closed = uniqueNo('Q');
    const first = await precreate(closed);
    const close = await sdk.exec('alipay.trade.close', { bizContent: { outTradeNo: closed } });
    assert.equal(close.subCode, 'ACQ.TRADE_NOT_EXIST');
    assert.equal(
      (await t.control.scanQrCode({ qrCode: first.qrCode, userId: buyer.userId })).resultCode,
      '4000',
    );
    const cancelled = uniqueNo('Q');
    const second = await precreate(cancelled);
    const cancel = await sdk.exec('alipay.trade.cancel', { bizContent: { outTradeNo: cancelled } });
    assert.equal(cancel.action, 'close');
    assert.equal(
      (await t.control.scanQrCode({ qrCode: second.qrCode, userId: buyer.userId })).resultCode,
      '4000',
    );
    assert.equal((await precreate(cancelled)).subCode, 'ACQ.TRADE_HAS_CLOSE');
    assert.equal((await t.control.getUser(buyer.userId)).balanceFen, 1_000);
  });

  it('collects into seller_id (restricted collection) when it names another merchant', async () => {
    const operator = await t.control.createMerchant({ name: '售货机运营商' });
    const outTradeNo = uniqueNo('Q');
    const { qrCode } = await precreate(outTradeNo, { sellerId: operator.accountId });
    const buyer = await t.control.createUser({ balanceFen: 1_000 });
    await t.control.scanQrCode({ qrCode, userId: buyer.userId });
    assert.equal((await t.control.getAccount(operator.accountId)).balanceFen, 350);
    const note = await waitFor(
      () => inbox.received.find((n) => n.fields.out_trade_no === outTradeNo),
      'the notification',
    );
    assert.equal(note.fields.seller_id, operator.accountId);
  });

  /** Status, raw headers without Date, and body of one POST, as the wire carried them. */
  const rawPost = (path: string, body: string) =>
    new Promise<string>((resolve, reject) => {
      const request = http.request(`${t.sandbox.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
      });
      request.on('response', (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => {
          const headers = response.rawHeaders.filter((_, i, all) => all[i - (i % 2)] !== 'Date');
          resolve(`${response.statusCode} ${response.statusMessage}\n${headers.join('\n')}\n\n${text}`);
        });
      });
      request.on('error', reject);
      request.end(body);
    });

  it('answers a scan on its own fast path exactly as the control router does, for every body joi would refuse', async () => {
    const { qrCode } = await precreate(uniqueNo('Q'));
    const buyer = await t.control.createUser({ balanceFen: 1_000 });
    const bodies = [
      JSON.stringify({ qrCode, userId: buyer.userId, action: 'cancel' }),
      JSON.stringify({ qrCode, openId: buyer.openIds[app.appId], action: 'cancel' }),
      JSON.stringify({ qrCode: 'https://qr.alipay.com/bax0none', userId: buyer.userId }),
      JSON.stringify({ qrCode, userId: '2088000000000000', action: 'cancel' }),
      JSON.stringify({ qrCode, openId: 'not-an-open-id' }),
      JSON.stringify({ qrCode, userId: buyer.userId, openId: buyer.openIds[app.appId] }),
      JSON.stringify({ qrCode }),
      JSON.stringify({ qrCode: '', userId: buyer.userId }),
      JSON.stringify({ qrCode: 'x'.repeat(257), userId: buyer.userId }),
      JSON.stringify({ qrCode: 7, userId: buyer.userId }),
      JSON.stringify({ qrCode, userId: '' }),
      JSON.stringify({ qrCode, userId: null }),
      JSON.stringify({ qrCode, userId: buyer.userId, action: 'steal' }),
      JSON.stringify({ qrCode, userId: buyer.userId, amountFen: 1 }),
      '[]',
      '"scan"',
      '{"qrCode":',
      '',
    ];
    for (const body of bodies) {
      // A trailing slash is the same route to the router, which the fast path leaves to it.
      const routed = await rawPost('/control/qr-codes/scan/', body);
      assert.equal(await rawPost('/control/qr-codes/scan', body), routed, body);
    }
    const refused = await rawPost('/control/qr-codes/scan', JSON.stringify({ qrCode, userId: '' }));
    assert.match(
      refused,
      /^400 Bad Request\nContent-Type\napplication\/json; charset=utf-8\nContent-Length\n/,
    );
    assert.match(refused, /VALIDATION_FAILED/);
  });
});
