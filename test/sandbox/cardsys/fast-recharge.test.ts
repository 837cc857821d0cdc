import assert from 'node:assert/strict';
import { createClientAsync, WSSecurity } from 'soap';
import { readRechargeRequest } from '../../../scripts/sandbox/cardsys/fast-recharge.js';
import { CARD_SERVICE_NAMESPACE } from '../../../scripts/sandbox/cardsys/wsdl.js';
import type { SchoolView } from '../../../scripts/sandbox/cardsys/control-client.js';
import { HandWrittenRecharge } from '../../../server/src/integrations/cardsys/soap/hand-written-recharge.js';
import { freshSchool, useCardsysSandbox } from './support.js';

/** The Recharge envelope the platform sends (the same bytes as node-soap's), with the school's credentials. */
async function envelopeWriter(school: SchoolView, password = school.password) {
  const client = await createClientAsync(`${school.endpoint}?wsdl`, { endpoint: school.endpoint });
  const security = new WSSecurity(school.username, password, {
    passwordType: 'PasswordText',
    hasTimeStamp: false,
  });
  client.setSecurity(security);
  const recharge = HandWrittenRecharge.of(client, school.endpoint, security)!;
  return (args: { CardNo: string; Amount: string; FlowNo: string }) => recharge.envelope(args);
}

/** The same document, laid out on several lines: `soap`'s server reads it, the fast path does not. */
const laidOut = (envelope: string) => envelope.replace(/></g, '>\n<');

async function post(school: SchoolView, body: string) {
  const response = await fetch(school.endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'text/xml; charset=utf-8',
      soapaction: `"${CARD_SERVICE_NAMESPACE}/Recharge"`,
    },
    body,
  });
  return { status: response.status, body: await response.text() };
}

describe("card system sandbox: the platform's Recharge without `soap`'s server (issue 18 §2)", () => {
  const under = useCardsysSandbox();

  it('reads only the exact document node-soap writes, with plain text in every field', async () => {
    const school = await freshSchool(under.control);
    const envelope = (await envelopeWriter(school))({ CardNo: '1', Amount: '1.00', FlowNo: 'R&<1' });

    assert.deepEqual(readRechargeRequest(envelope)?.args, { CardNo: '1', Amount: '1.00', FlowNo: 'R&<1' });
    assert.deepEqual(readRechargeRequest(envelope)?.headers.Security.UsernameToken, {
      Username: school.username,
      Password: school.password,
    });
    assert.equal(readRechargeRequest(laidOut(envelope)), null);
    assert.equal(readRechargeRequest(envelope.replace('<CardNo>1<', '<CardNo> 1<')), null);
    assert.equal(readRechargeRequest(envelope.replace('<CardNo>1<', '<CardNo><')), null);
    assert.equal(readRechargeRequest(envelope.replace('<CardNo>1<', '<CardNo>&nbsp;<')), null);
  });

  it("answers byte for byte as `soap`'s server does: a credit, its repeat, and every refusal", async () => {
    const school = await freshSchool(under.control);
    const { cardNo } = await under.control.createCard(school.code, { name: '张三', balanceFen: 100 });
    const write = await envelopeWriter(school);
    const writeWrongPassword = await envelopeWriter(school, 'wrong');

    // First through the fast path, then the same flow number through `soap`'s server: the repeat returns
    // the first credit, so both answers must be the same bytes.
    const credit = write({ CardNo: cardNo, Amount: '12.30', FlowNo: 'R_FAST_1' });
    const fast = await post(school, credit);
    const slow = await post(school, laidOut(credit));
    assert.equal(fast.status, 200);
    assert.deepEqual(fast, slow);
    assert.equal((await under.control.getCard(school.code, cardNo)).balanceFen, 1330, 'credited once');

    for (const refused of [
      write({ CardNo: '404404', Amount: '1.00', FlowNo: 'R_FAST_2' }),
      write({ CardNo: cardNo, Amount: 'abc', FlowNo: 'R_FAST_3' }),
      write({ CardNo: cardNo, Amount: '1.00', FlowNo: 'R FAST 4' }),
      write({ CardNo: cardNo, Amount: '99.00', FlowNo: 'R_FAST_1' }),
      writeWrongPassword({ CardNo: cardNo, Amount: '1.00', FlowNo: 'R_FAST_5' }),
    ]) {
      const byFastPath = await post(school, refused);
      assert.equal(byFastPath.status, 500, byFastPath.body);
      assert.deepEqual(byFastPath, await post(school, laidOut(refused)));
    }
    assert.equal((await under.control.getCard(school.code, cardNo)).balanceFen, 1330);
  });
});
