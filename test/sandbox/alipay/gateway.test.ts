import assert from 'node:assert/strict';
import { createVerify } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import iconv from 'iconv-lite';
import { AlipayRequestError } from 'alipay-sdk';
import {
  commonParams,
  newAppKeys,
  postGateway,
  sdkFor,
  signParams,
  startTestSandbox,
  uniqueNo,
  type AppKeys,
  type TestSandbox,
} from './support.js';

describe('Alipay sandbox gateway: checks in the real order and signed envelopes', () => {
  let t: TestSandbox;
  let app: AppKeys;

  before(async () => {
    app = newAppKeys();
    t = await startTestSandbox({ apps: [{ appId: app.appId, publicKey: app.publicKey, idMode: 'open_id' }] });
  });
  after(() => t.close());

  it('answers an unknown app_id with an unsigned 40002 isv.invalid-app-id before checking anything else', async () => {
    const stranger = newAppKeys('2021999999999999');
    const params = { ...commonParams(stranger.appId, 'alipay.trade.query'), sign: 'not-even-base64' };
    const { json } = await postGateway(t.sandbox, params);
    assert.deepEqual(Object.keys(json), ['alipay_trade_query_response']);
    const inner = json.alipay_trade_query_response as Record<string, string>;
    assert.equal(inner.code, '40002');
    assert.equal(inner.sub_code, 'isv.invalid-app-id');

    const result = await sdkFor(t.sandbox, stranger).exec('alipay.trade.query', {
      bizContent: { outTradeNo: 'x' },
    });
    assert.equal(result.subCode, 'isv.invalid-app-id');
  });

  it('reports missing common params as 40001 isv.missing-* (after the app id is known, signed)', async () => {
    const params = commonParams(app.appId, 'alipay.trade.query');
    const { json } = await postGateway(t.sandbox, params);
    const inner = json.alipay_trade_query_response as Record<string, string>;
    assert.equal(inner.code, '40001');
    assert.equal(inner.sub_code, 'isv.missing-signature');
    assert.equal(typeof json.sign, 'string');
  });

  it('rejects a timestamp that is not yyyy-MM-dd HH:mm:ss with isv.invalid-timestamp', async () => {
    const params = { ...commonParams(app.appId, 'alipay.trade.query'), timestamp: '2026/01/01 10:00:00' };
    const { json } = await postGateway(t.sandbox, { ...params, sign: signParams(params, app.privateKey) });
    assert.equal(
      (json.alipay_trade_query_response as Record<string, string>).sub_code,
      'isv.invalid-timestamp',
    );
  });

  it('rejects an unknown method with isv.invalid-method', async () => {
    const result = await sdkFor(t.sandbox, app).exec('alipay.trade.nonexistent', { bizContent: { a: 1 } });
    assert.equal(result.code, '40002');
    assert.equal(result.subCode, 'isv.invalid-method');
  });

  it('rejects a signature made with another key: signed isv.invalid-signature quoting the checked string with &amp;', async () => {
    const impostor = { ...newAppKeys(app.appId) };
    const sdk = sdkFor(t.sandbox, impostor);
    const result = await sdk.exec(
      'alipay.trade.query',
      { bizContent: { outTradeNo: 'Q1' } },
      { validateSign: true },
    );
    assert.equal(result.code, '40002');
    assert.equal(result.subCode, 'isv.invalid-signature');
    assert.match(
      result.subMsg,
      /验签字符串为：app_id=\d{16}&amp;biz_content=\{"out_trade_no":"Q1"\}&amp;charset=utf-8&amp;method=alipay\.trade\.query&amp;sign_type=RSA2&amp;timestamp=/,
    );
  });

  it("drops empty params before checking (Alipay's rule), so an empty param the SDK signed fails the signature", async () => {
    const sdk = sdkFor(t.sandbox, app);
    const result = await sdk.exec('alipay.trade.query', { returnUrl: '', bizContent: { outTradeNo: 'Q2' } });
    assert.equal(result.subCode, 'isv.invalid-signature');
    assert.doesNotMatch(result.subMsg, /return_url/);
  });

  it('rejects biz_content that is not JSON with isv.illegal-json, after the signature check', async () => {
    const params = { ...commonParams(app.appId, 'alipay.trade.query'), biz_content: '{"out_trade_no":' };
    const { json } = await postGateway(t.sandbox, { ...params, sign: signParams(params, app.privateKey) });
    assert.equal((json.alipay_trade_query_response as Record<string, string>).sub_code, 'isv.illegal-json');
  });

  it('decodes GBK requests by their charset param', async () => {
    const outTradeNo = uniqueNo('GBK');
    const params = {
      ...commonParams(app.appId, 'alipay.trade.create'),
      charset: 'GBK',
      biz_content: JSON.stringify({ out_trade_no: outTradeNo, total_amount: '1.00', subject: '校园卡充值' }),
    };
    const signed = { ...params, sign: signParams(params, app.privateKey) };
    const body = Object.entries(signed)
      .map(
        ([k, v]) =>
          `${k}=${[...iconv.encode(v, 'gbk')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('')}`,
      )
      .join('&');
    const response = await fetch(t.sandbox.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    const json = (await response.json()) as Record<string, Record<string, string>>;
    assert.equal(json.alipay_trade_create_response.code, '10000');
    const ledger = await t.control.ledger({ outTradeNo });
    assert.equal(ledger.trades[0].subject, '校园卡充值');
  });

  it('signs the exact inner bytes of <method>_response, escapes "/" and sends a trace_id header', async () => {
    const params = { ...commonParams(app.appId, 'alipay.data.dataservice.bill.downloadurl.query') };
    params.biz_content = JSON.stringify({ bill_type: 'trade', bill_date: '2020-01-01' });
    const { text, headers } = await postGateway(t.sandbox, {
      ...params,
      sign: signParams(params, app.privateKey),
    });
    const match =
      /^\{"alipay_data_dataservice_bill_downloadurl_query_response":(\{.*\}),"sign":"([^"]+)"\}$/.exec(text);
    assert.ok(match, text);
    assert.match(match[1], /http:\\\/\\\/127\.0\.0\.1/);
    assert.ok(
      createVerify('RSA-SHA256')
        .update(match[1], 'utf8')
        .verify(t.sandbox.alipayPublicKey, match[2], 'base64'),
    );
    assert.ok(headers.get('trace_id'));

    const result = await sdkFor(t.sandbox, app).exec('alipay.trade.query', {
      bizContent: { outTradeNo: 'none' },
    });
    assert.equal(result.traceId?.length, 32);
  });

  it('answers with status 200 OK and the headers trace_id, Content-Type, Content-Length in that order', async () => {
    const params = { ...commonParams(app.appId, 'alipay.trade.query') };
    params.biz_content = JSON.stringify({ out_trade_no: 'none' });
    const body = new URLSearchParams({ ...params, sign: signParams(params, app.privateKey) }).toString();
    for (const [method, path] of [
      ['POST', '/gateway.do'],
      ['GET', `/gateway.do?${body}`],
    ]) {
      const head = await new Promise<string>((resolve, reject) => {
        const request = http.request(`${t.sandbox.url}${path}`, {
          method,
          headers: { 'content-type': 'application/x-www-form-urlencoded;charset=utf-8' },
        });
        request.on('response', (response) => {
          response.resume();
          const names = response.rawHeaders.filter((_, i) => i % 2 === 0);
          resolve(`${response.statusCode} ${response.statusMessage} ${names.join(' ')}`);
        });
        request.on('error', reject);
        request.end(method === 'POST' ? body : undefined);
      });
      assert.equal(
        head,
        '200 OK trace_id Content-Type Content-Length Date Connection Keep-Alive',
        `${method} ${path.slice(0, 12)}`,
      );
    }
  });

  it('produces responses alipay-sdk verifies, and the SDK rejects one whose bytes were tampered with', async () => {
    const user = await t.control.createUser({ balanceFen: 10_000 });
    const outTradeNo = uniqueNo('TAMPER');
    const sdk = sdkFor(t.sandbox, app);
    await sdk.exec(
      'alipay.trade.create',
      { bizContent: { outTradeNo, totalAmount: '1.00', subject: 'x', buyerOpenId: user.openIds[app.appId] } },
      { validateSign: true },
    );
    // A man in the middle that turns 1.00 into 9.00 in every answer.
    const proxy = http.createServer((req, res) => {
      const upstream = http.request(t.sandbox.gatewayUrl + (req.url ?? '').replace(/^\/gateway\.do/, ''), {
        method: req.method,
        headers: req.headers,
      });
      upstream.on('response', (answer) => {
        let body = '';
        answer.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
        answer.on('end', () => {
          res.writeHead(answer.statusCode ?? 200, { trace_id: String(answer.headers.trace_id ?? '') });
          res.end(body.replaceAll('"1.00"', '"9.00"'));
        });
      });
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const { port } = proxy.address() as AddressInfo;
    try {
      const proxied = sdkFor(t.sandbox, app, { gateway: `http://127.0.0.1:${port}/gateway.do` });
      const query = { bizContent: { outTradeNo } };
      await assert.rejects(
        proxied.exec('alipay.trade.query', query, { validateSign: true }),
        (error: unknown) => {
          assert.ok(error instanceof AlipayRequestError);
          assert.match(error.message, /验签失败/);
          return true;
        },
      );
      const untouched = await sdk.exec('alipay.trade.query', query, { validateSign: true });
      assert.equal(untouched.totalAmount, '1.00');
    } finally {
      proxy.closeAllConnections();
      proxy.close();
    }
  });

  it('is verified with the sandbox key only: an SDK holding another Alipay public key rejects the answer', async () => {
    const other = newAppKeys();
    const sdk = sdkFor(t.sandbox, app, { alipayPublicKey: other.publicKey });
    await assert.rejects(
      sdk.exec('alipay.trade.query', { bizContent: { outTradeNo: 'any' } }, { validateSign: true }),
      AlipayRequestError,
    );
  });
});
