import assert from 'node:assert/strict';
import { CardsysSandboxControl, type SchoolView } from '../../../scripts/sandbox/cardsys/control-client.js';
import { startCardsysSandbox } from '../../../scripts/sandbox/cardsys/server.js';
import { freshSchool, uniqueCode, useCardsysSandbox } from './support.js';

/** A SOAP call written by hand, as a person would with curl (docs/sandbox.md). */
async function soapCall(
  school: Pick<SchoolView, 'endpoint' | 'username' | 'password'>,
  operation: string,
  fields: Record<string, string>,
): Promise<{ status: number; text: string }> {
  const body = Object.entries(fields)
    .map(([name, value]) => `<ykt:${name}>${value}</ykt:${name}>`)
    .join('');
  const envelope = `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ykt="http://ykt.sandbox.local/CardService">
  <soap:Header><wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">
    <wsse:UsernameToken><wsse:Username>${school.username}</wsse:Username><wsse:Password>${school.password}</wsse:Password></wsse:UsernameToken>
  </wsse:Security></soap:Header>
  <soap:Body><ykt:${operation}>${body}</ykt:${operation}></soap:Body>
</soap:Envelope>`;
  const response = await fetch(school.endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'text/xml; charset=utf-8',
      soapaction: `"http://ykt.sandbox.local/CardService/${operation}"`,
    },
    body: envelope,
  });
  return { status: response.status, text: await response.text() };
}

describe('card system sandbox: schools and their SOAP endpoints', () => {
  const under = useCardsysSandbox();

  it('creates a school with its own endpoint, WSDL URL and generated credentials', async () => {
    const code = uniqueCode();
    const school = await under.control.createSchool({ code, name: '示例大学' });

    assert.equal(school.endpoint, `${under.sandbox.soapUrl}/cardsys/${code}/CardService.asmx`);
    assert.equal(school.wsdlUrl, `${school.endpoint}?wsdl`);
    assert.ok(school.username.length > 0 && school.password.length >= 12);
    assert.deepEqual(await under.control.getSchool(code), school);
  });

  it("serves a WSDL at ?wsdl naming the school's own endpoint and the six seed operations", async () => {
    const school = await freshSchool(under.control);
    const wsdl = await (await fetch(school.wsdlUrl)).text();

    assert.match(wsdl, new RegExp(`<soap:address location="${school.endpoint}"/>`));
    for (const operation of [
      'GetPersonInfo',
      'Recharge',
      'ZFB_BindDoc',
      'ZFB_UnBindDoc',
      'GetPersonDetails',
      'Loss',
    ]) {
      assert.match(wsdl, new RegExp(`<wsdl:operation name="${operation}">`));
    }
    assert.equal((await under.control.getSchool(school.code)).stats.wsdlFetches, 1);
  });

  it('answers a hand-written SOAP envelope, amounts in yuan', async () => {
    const school = await freshSchool(under.control);
    await under.control.createCard(school.code, { cardNo: '20240001', name: '张三', balanceFen: 5000 });

    const answer = await soapCall(school, 'Recharge', {
      CardNo: '20240001',
      Amount: '12.30',
      FlowNo: 'R0001',
    });

    assert.equal(answer.status, 200);
    assert.match(answer.text, /<Balance>62\.30<\/Balance>/);
    assert.equal((await under.control.getCard(school.code, '20240001')).balanceFen, 6230);
  });

  it('answers wrong credentials with a SOAP fault AUTH_FAILED', async () => {
    const school = await freshSchool(under.control);
    const answer = await soapCall({ ...school, password: 'wrong' }, 'GetPersonInfo', { CardNo: '1' });

    assert.equal(answer.status, 500);
    assert.match(answer.text, /<faultcode>soap:Client<\/faultcode>/);
    assert.match(answer.text, /<ErrorCode>AUTH_FAILED<\/ErrorCode>/);
  });

  it('answers a malformed envelope or an unknown operation with a PARAM_ERROR fault', async () => {
    const school = await freshSchool(under.control);
    const unknown = await soapCall(school, 'TransferMoney', { CardNo: '1' });
    const malformed = await fetch(school.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'text/xml; charset=utf-8',
        soapaction: '"http://ykt.sandbox.local/CardService/Recharge"',
      },
      body: '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><Recharge><CardNo>1</Card',
    });

    for (const answer of [unknown, { status: malformed.status, text: await malformed.text() }]) {
      assert.equal(answer.status, 500);
      assert.match(answer.text, /<faultcode>soap:Client<\/faultcode>.*<ErrorCode>PARAM_ERROR<\/ErrorCode>/);
    }
  });

  it('refuses a second school with the same code', async () => {
    const school = await freshSchool(under.control);
    await assert.rejects(under.control.createSchool({ code: school.code, name: 'again' }), { status: 409 });
  });

  it('answers 404 at the endpoint of a school that does not exist', async () => {
    const response = await fetch(`${under.sandbox.soapUrl}/cardsys/NOSUCHSCHOOL/CardService.asmx?wsdl`);
    assert.equal(response.status, 404);
  });
});

describe('card system sandbox: cards', () => {
  const under = useCardsysSandbox();

  it('creates a student card with defaults and reads it back', async () => {
    const school = await freshSchool(under.control);
    const card = await under.control.createCard(school.code, { name: '张三' });

    assert.match(card.cardNo, /^\d{10}$/);
    assert.deepEqual(await under.control.getCard(school.code, card.cardNo), {
      schoolCode: school.code,
      cardNo: card.cardNo,
      name: '张三',
      identity: 'STUDENT',
      status: 'NORMAL',
      balanceFen: 0,
      studentNo: card.cardNo,
      alipayBind: null,
    });
    assert.deepEqual(
      (await under.control.listCards(school.code)).map((c) => c.cardNo),
      [card.cardNo],
    );
  });

  it("sets a card's balance and status", async () => {
    const school = await freshSchool(under.control);
    const card = await under.control.createCard(school.code, {
      name: '王老师',
      identity: 'STAFF',
      studentNo: null,
    });

    await under.control.setBalance(school.code, card.cardNo, 12345);
    const frozen = await under.control.setStatus(school.code, card.cardNo, 'FROZEN');

    assert.deepEqual(
      [frozen.balanceFen, frozen.status, frozen.identity, frozen.studentNo],
      [12345, 'FROZEN', 'STAFF', null],
    );
  });

  it('refuses invalid input with 400 naming the field', async () => {
    const school = await freshSchool(under.control);
    await assert.rejects(under.control.createCard(school.code, { name: '张三', balanceFen: 1.5 }), {
      status: 400,
      code: 'VALIDATION_FAILED',
      field: 'balanceFen',
    });
    await assert.rejects(under.control.createCard(school.code, {} as never), { status: 400, field: 'name' });
    await assert.rejects(
      under.control.swipe({ schoolCode: school.code, cardNo: '1', amountFen: 0, terminalId: 'T1' }),
      { status: 400, field: 'amountFen' },
    );
  });

  it('answers 404 for an unknown school or card', async () => {
    const school = await freshSchool(under.control);
    await assert.rejects(under.control.getCard(school.code, '999'), { status: 404 });
    await assert.rejects(under.control.createCard('NOSUCHSCHOOL', { name: '张三' }), { status: 404 });
  });
});

describe('card system sandbox: faults and downtime', () => {
  const under = useCardsysSandbox();

  it('fires a fault for its next N calls of the operation, then lets calls through', async () => {
    const school = await freshSchool(under.control);
    await under.control.createCard(school.code, { cardNo: '1001', name: '张三' });
    const fault = await under.control.injectFault({
      schoolCode: school.code,
      operation: 'GetPersonInfo',
      kind: 'SOAP_FAULT',
      times: 2,
    });
    assert.deepEqual([fault.remaining, fault.vendorCode, fault.faultCode], [2, 'SYSTEM_BUSY', 'soap:Server']);

    const answers = [];
    for (let i = 0; i < 3; i += 1) answers.push(await soapCall(school, 'GetPersonInfo', { CardNo: '1001' }));

    assert.deepEqual(
      answers.map((a) => a.status),
      [500, 500, 200],
    );
    assert.match(answers[0].text, /<ErrorCode>SYSTEM_BUSY<\/ErrorCode>/);
    assert.deepEqual(await under.control.listFaults(), []);
  });

  it('keeps a fault without a count until it is cleared', async () => {
    const school = await freshSchool(under.control);
    const fault = await under.control.injectFault({ schoolCode: school.code, kind: 'HTTP_503' });

    assert.equal((await soapCall(school, 'Loss', { CardNo: '1' })).status, 503);
    assert.equal((await soapCall(school, 'Loss', { CardNo: '1' })).status, 503);
    await under.control.clearFault(fault.id);
    assert.equal(
      (await soapCall(school, 'Loss', { CardNo: '1' })).status,
      500,
      'the vendor fault for an unknown card',
    );
  });

  it('requires latencyMs for a LATENCY fault and nowhere else', async () => {
    await assert.rejects(under.control.injectFault({ kind: 'LATENCY' }), { status: 400, field: 'latencyMs' });
    await assert.rejects(under.control.injectFault({ kind: 'HANG', latencyMs: 5 }), {
      status: 400,
      field: 'latencyMs',
    });
  });

  it('refuses SOAP connections during downtime and serves again afterwards', async () => {
    const school = await freshSchool(under.control);
    await under.control.setDowntime(true);
    try {
      await assert.rejects(fetch(school.wsdlUrl), (error: Error & { cause?: { code?: string } }) => {
        assert.equal(error.cause?.code, 'ECONNREFUSED');
        return true;
      });
      assert.deepEqual(await under.control.health(), {
        ok: true,
        soapUrl: under.sandbox.soapUrl,
        refuseConnections: true,
      });
    } finally {
      await under.control.setDowntime(false);
    }
    assert.equal((await fetch(school.wsdlUrl)).status, 200);
  });
});

describe('card system sandbox: reset', () => {
  it('forgets schools, faults, swipes and downtime', async () => {
    const sandbox = await startCardsysSandbox();
    try {
      const control = new CardsysSandboxControl(sandbox.url);
      const school = await freshSchool(control);
      await control.injectFault({ kind: 'HANG' });
      await control.setDowntime(true);

      await control.reset();

      assert.deepEqual(await control.listSchools(), []);
      assert.deepEqual(await control.listFaults(), []);
      assert.deepEqual(await control.listSwipes(), []);
      assert.equal((await fetch(school.wsdlUrl)).status, 404);
    } finally {
      await sandbox.close();
    }
  });
});
