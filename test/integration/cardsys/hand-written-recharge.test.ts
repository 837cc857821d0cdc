import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createClientAsync, WSSecurity, type Client } from 'soap';
import { cardServiceWsdl } from '../../../scripts/sandbox/cardsys/wsdl.js';
import {
  HandWrittenRecharge,
  readPlainRechargeAnswer,
} from '../../../server/src/integrations/cardsys/soap/hand-written-recharge.js';
import { soapHttpRequest } from '../../../server/src/integrations/cardsys/soap/soap-transport.js';

const NS = 'http://ykt.sandbox.local/CardService';

function answer(inner: string): string {
  return (
    '<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"  ' +
    `xmlns:tns="${NS}"><soap:Body>${inner}</soap:Body></soap:Envelope>`
  );
}

/** A vendor that records what it is sent and answers with `reply`. */
async function recordingVendor(reply: () => { status: number; body: string }) {
  const received: Array<{ headers: http.IncomingHttpHeaders; body: string }> = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const { status, body } = reply();
      res.writeHead(status, { 'content-type': 'text/xml; charset=utf-8' });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/cardsys/S1/CardService.asmx`;
  return { endpoint, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

async function clientFor(endpoint: string): Promise<{ client: Client; recharge: HandWrittenRecharge }> {
  const client = await createClientAsync(
    `<?xml version="1.0" encoding="utf-8"?>${cardServiceWsdl(endpoint)}`,
    {
      endpoint,
      disableCache: true,
      request: soapHttpRequest as never,
    },
  );
  // Characters every XML writer must escape, in the credentials and the fields.
  const security = new WSSecurity(`u&<'"`, 'p>\t"&', { passwordType: 'PasswordText', hasTimeStamp: false });
  client.setSecurity(security);
  const recharge = HandWrittenRecharge.of(client, endpoint, security);
  assert.ok(recharge, 'the sandbox WSDL describes Recharge as document/literal');
  return { client, recharge };
}

/** The WS-Security token carries the second it was written: the only part two envelopes may differ in. */
const withoutTimestamp = (xml: string) => xml.replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/g, 'T');

describe('the hand-written Recharge call (issue 18 §2)', () => {
  const plain = answer(
    `<RechargeResponse xmlns="${NS}"><CardNo>2000001</CardNo><FlowNo>R&amp;1</FlowNo><Amount>12.30</Amount>` +
      '<Balance>20.00</Balance><TranSerial>S&#x4E2D;1</TranSerial><TranTime>2026-03-01 12:00:00</TranTime></RechargeResponse>',
  );

  it('sends the same request as the `soap` client, byte for byte, with the same HTTP headers', async () => {
    const vendor = await recordingVendor(() => ({ status: 200, body: plain }));
    try {
      const { client, recharge } = await clientFor(vendor.endpoint);
      const args = { CardNo: '2000001', Amount: '12.30', FlowNo: `R<&>'"\t1` };

      const bySoap = (await client.RechargeAsync(args))[0];
      client.RechargeAsync = () => assert.fail('a plain answer is read without `soap`');
      const byHand = await recharge.send(args, {});

      assert.equal(vendor.received.length, 2);
      const [soapSent, handSent] = vendor.received;
      assert.equal(withoutTimestamp(handSent.body), withoutTimestamp(soapSent.body));
      assert.deepEqual(handSent.headers, {
        ...soapSent.headers,
        'content-length': handSent.headers['content-length'],
      });
      assert.equal(handSent.body.length, soapSent.body.length);
      assert.deepEqual(byHand, bySoap);
    } finally {
      await vendor.close();
    }
  });

  it("reads a plain answer as `soap` does, and leaves every other answer to `soap`'s reader", async () => {
    const { client } = await clientFor('http://127.0.0.1:9/cardsys/S1/CardService.asmx');
    const soapRead = (xml: string) =>
      (client.wsdl.xmlToObject(xml) as { Body: Record<string, unknown> }).Body.RechargeResponse;

    assert.deepEqual(readPlainRechargeAnswer(plain, NS), soapRead(plain));
    const unusual = [
      `<RechargeResponse xmlns="${NS}"><CardNo> 2000001 </CardNo></RechargeResponse>`,
      `<RechargeResponse xmlns="${NS}"><CardNo></CardNo></RechargeResponse>`,
      `<RechargeResponse xmlns="${NS}"><CardNo xsi:nil="true"/></RechargeResponse>`,
      `<RechargeResponse xmlns="${NS}"><CardNo><![CDATA[2000001]]></CardNo></RechargeResponse>`,
      `<RechargeResponse xmlns="${NS}"><Records><Record>1</Record></Records></RechargeResponse>`,
      `<RechargeResponse xmlns="${NS}"><CardNo>1</CardNo><CardNo>2</CardNo></RechargeResponse>`,
      `<RechargeResponse xmlns="${NS}"><CardNo>&nbsp;1</CardNo></RechargeResponse>`,
      `<tns:RechargeResponse><tns:CardNo>1</tns:CardNo></tns:RechargeResponse>`,
      `<soap:Fault><faultcode>soap:Server</faultcode><faultstring>x</faultstring></soap:Fault>`,
    ];
    for (const inner of unusual) assert.equal(readPlainRechargeAnswer(answer(inner), NS), null, inner);
    const withHeader = plain.replace('<soap:Body>', '<soap:Header><x>1</x></soap:Header><soap:Body>');
    assert.equal(readPlainRechargeAnswer(withHeader, NS), null);
    assert.equal(readPlainRechargeAnswer(`${plain}<trailing/>`, NS), null);
  });

  it('gives a fault to the `soap` client, which rejects with the error it always threw', async () => {
    const fault = answer(
      '<soap:Fault><faultcode>soap:Client</faultcode><faultstring>卡号不存在</faultstring><detail><CardServiceError>' +
        '<ErrorCode>CARD_NOT_EXIST</ErrorCode><ErrorMsg>卡号不存在</ErrorMsg></CardServiceError></detail></soap:Fault>',
    );
    const vendor = await recordingVendor(() => ({ status: 500, body: fault }));
    try {
      const { client, recharge } = await clientFor(vendor.endpoint);
      const args = { CardNo: '404', Amount: '1.00', FlowNo: 'R1' };

      const bySoap = await client
        .RechargeAsync(args)
        .catch((error: unknown) => error as Error & { root?: unknown });
      const byHand = await recharge
        .send(args, {})
        .catch((error: unknown) => error as Error & { root?: unknown });

      assert.ok(byHand instanceof Error);
      assert.equal(byHand.message, (bySoap as Error).message);
      assert.deepEqual(byHand.root, (bySoap as { root?: unknown }).root);
      assert.equal(
        vendor.received.length,
        2,
        'the fault was read from the answer received, not asked for again',
      );
    } finally {
      await vendor.close();
    }
  });
});
