import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PlatformConfigInput, SchoolView } from '../../../scripts/sandbox/cardsys/control-client.js';
import { createCardSystem } from '../../../server/src/integrations/cardsys/index.js';
import { DeductDouble, approved, declined } from './deduct-double.js';
import { freshSchool, useCardsysSandbox, waitFor } from './support.js';

const CLIENT_ID = 'pos-gw-1';
const SECRET = 'test-gateway-secret';

describe('POS gateway role: swipes (seed 000 §2.3, §2.7)', () => {
  const under = useCardsysSandbox();
  const doubles: DeductDouble[] = [];

  afterEach(async () => {
    await Promise.all(doubles.splice(0).map((d) => d.close()));
  });

  async function startDouble(port?: number): Promise<DeductDouble> {
    const double = await DeductDouble.start({ clientId: CLIENT_ID, secret: SECRET, port });
    doubles.push(double);
    return double;
  }

  function usePlatform(school: SchoolView, baseUrl: string, overrides: Partial<PlatformConfigInput> = {}) {
    return under.control.configurePlatform(school.code, {
      baseUrl,
      clientId: CLIENT_ID,
      secret: SECRET,
      connectTimeoutMs: 500,
      readTimeoutMs: 300,
      maxAttempts: 3,
      retryDelayMs: 0,
      reversalRetryMs: 20,
      reversalRetryMaxMs: 50,
      ...overrides,
    });
  }

  /** A card bound to Alipay the way the platform binds it: ZFB_BindDoc over SOAP. */
  async function boundCard(school: SchoolView, balanceFen: number): Promise<string> {
    const card = await under.control.createCard(school.code, { name: '李四', balanceFen });
    const cardSystem = createCardSystem({
      endpoint: school.endpoint,
      username: school.username,
      password: school.password,
    });
    await cardSystem.bindAlipay({
      cardNo: card.cardNo,
      alipayUserId: '2088000000000001',
      password: 'bind-pw',
    });
    return card.cardNo;
  }

  async function freePort(): Promise<number> {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    return port;
  }

  describe('cards not bound to Alipay', () => {
    it('pays from the card balance without asking the platform', async () => {
      const school = await freshSchool(under.control);
      const double = await startDouble();
      await usePlatform(school, double.url);
      const card = await under.control.createCard(school.code, { name: '张三', balanceFen: 1000 });

      const swipe = await under.control.swipe({
        schoolCode: school.code,
        cardNo: card.cardNo,
        amountFen: 350,
        terminalId: 'T01',
      });

      assert.equal(swipe.path, 'CARD_BALANCE');
      assert.equal(swipe.platform.outcome, 'NOT_CALLED');
      assert.equal(swipe.balanceAfterFen, 650);
      assert.equal(double.calls.length, 0);
      const [record] = await under.control.getRecords(school.code, card.cardNo);
      assert.deepEqual(
        {
          type: record.type,
          amountFen: record.amountFen,
          channel: record.channel,
          refNo: record.refNo,
          terminalId: record.terminalId,
        },
        {
          type: 'CONSUMPTION',
          amountFen: 350,
          channel: 'CARD_BALANCE',
          refNo: swipe.txnNo,
          terminalId: 'T01',
        },
      );
    });

    it('declines when the balance is not enough and leaves it untouched', async () => {
      const school = await freshSchool(under.control);
      const card = await under.control.createCard(school.code, { name: '张三', balanceFen: 100 });

      const swipe = await under.control.swipe({
        schoolCode: school.code,
        cardNo: card.cardNo,
        amountFen: 101,
        terminalId: 'T01',
      });

      assert.equal(swipe.path, 'DECLINED');
      assert.equal(swipe.declineReason, 'INSUFFICIENT_BALANCE');
      assert.equal((await under.control.getCard(school.code, card.cardNo)).balanceFen, 100);
      assert.deepEqual(await under.control.getRecords(school.code, card.cardNo), []);
    });

    it('declines a lost or frozen card at the till', async () => {
      const school = await freshSchool(under.control);
      const lost = await under.control.createCard(school.code, {
        name: '张三',
        balanceFen: 1000,
        status: 'LOST',
      });
      const frozen = await under.control.createCard(school.code, {
        name: '王五',
        balanceFen: 1000,
        status: 'FROZEN',
      });

      const a = await under.control.swipe({
        schoolCode: school.code,
        cardNo: lost.cardNo,
        amountFen: 1,
        terminalId: 'T01',
      });
      const b = await under.control.swipe({
        schoolCode: school.code,
        cardNo: frozen.cardNo,
        amountFen: 1,
        terminalId: 'T01',
      });

      assert.deepEqual(
        [a.path, a.declineReason, b.path, b.declineReason],
        ['DECLINED', 'CARD_LOST', 'DECLINED', 'CARD_FROZEN'],
      );
    });

    it('returns the first outcome when a txnNo is swiped again, and refuses it for another amount', async () => {
      const school = await freshSchool(under.control);
      const card = await under.control.createCard(school.code, { name: '张三', balanceFen: 1000 });
      const sale = {
        schoolCode: school.code,
        cardNo: card.cardNo,
        amountFen: 200,
        terminalId: 'T01',
        txnNo: 'POSREPEAT1',
      };

      const first = await under.control.swipe(sale);
      const again = await under.control.swipe(sale);

      assert.deepEqual(again, first);
      assert.equal((await under.control.getCard(school.code, card.cardNo)).balanceFen, 800);
      await assert.rejects(under.control.swipe({ ...sale, amountFen: 201 }), {
        status: 409,
        code: 'TXN_CONFLICT',
      });
    });
  });

  // Approval, decline and connect failure against the real deduct route are in
  // test/integration/withholding/swipes.test.ts. The platform here is a scripted double, kept for what the
  // real route cannot be made to do on demand: answer slowly, refuse with 4xx, drop acknowledgements.
  describe('cards bound to Alipay, against a scripted platform', () => {
    it('declines the sale when the platform declines and the balance is not enough', async () => {
      const school = await freshSchool(under.control);
      const double = await startDouble();
      double.onDeduction = declined('NOT_SIGNED');
      await usePlatform(school, double.url);
      const cardNo = await boundCard(school, 100);

      const swipe = await under.control.swipe({
        schoolCode: school.code,
        cardNo,
        amountFen: 300,
        terminalId: 'T01',
      });

      assert.deepEqual(
        [swipe.path, swipe.declineReason, swipe.balanceAfterFen],
        ['DECLINED', 'INSUFFICIENT_BALANCE', 100],
      );
    });

    it('asks again with the same txnNo after a read timeout', async () => {
      const school = await freshSchool(under.control);
      const double = await startDouble();
      double.onDeduction = (call, n) => (n === 1 ? 'hang' : approved(call));
      await usePlatform(school, double.url);
      const cardNo = await boundCard(school, 1000);

      const swipe = await under.control.swipe({
        schoolCode: school.code,
        cardNo,
        amountFen: 500,
        terminalId: 'T01',
      });

      assert.equal(swipe.path, 'ALIPAY');
      assert.deepEqual(
        swipe.platform.attempts.map((a) => a.result),
        ['READ_TIMEOUT', 'ANSWERED'],
      );
      const [first, second] = double.deductions();
      assert.equal(double.deductions().length, 2);
      assert.equal(second.txnNo, first.txnNo);
      assert.equal(second.rawBody, first.rawBody);
      assert.notEqual(second.nonce, first.nonce, 'each attempt is signed with a fresh nonce');
      assert.equal((await under.control.getCard(school.code, cardNo)).balanceFen, 1000);
    });

    it('pays from the balance and reverses the txnNo when every attempt times out', async () => {
      const school = await freshSchool(under.control);
      const double = await startDouble();
      double.onDeduction = () => 'hang';
      await usePlatform(school, double.url, { maxAttempts: 2 });
      const cardNo = await boundCard(school, 1000);

      const swipe = await under.control.swipe({
        schoolCode: school.code,
        cardNo,
        amountFen: 400,
        terminalId: 'T01',
      });

      assert.deepEqual(
        [swipe.path, swipe.platform.outcome, swipe.platform.attempts.length, swipe.balanceAfterFen],
        ['CARD_BALANCE', 'NO_ANSWER', 2, 600],
      );
      const reversed = await under.control.waitForSwipe(
        swipe.txnNo,
        (s) => s.reversal.state === 'ACKNOWLEDGED',
      );
      assert.equal(reversed.reversal.attempts, 1);
      const [reversal] = double.reversals();
      assert.deepEqual(
        [reversal.path, reversal.rawBody, reversal.isSignatureValid],
        [`/gateway/v1/deductions/${swipe.txnNo}/reversal`, '{}', true],
      );
    });

    it('pays from the balance on a connect failure and sends the reversal once the platform is back', async () => {
      const school = await freshSchool(under.control);
      const port = await freePort();
      await usePlatform(school, `http://127.0.0.1:${port}`);
      const cardNo = await boundCard(school, 1000);

      const swipe = await under.control.swipe({
        schoolCode: school.code,
        cardNo,
        amountFen: 250,
        terminalId: 'T01',
      });

      assert.deepEqual(
        [
          swipe.path,
          swipe.platform.outcome,
          swipe.platform.attempts.length,
          swipe.balanceAfterFen,
          swipe.reversal.state,
        ],
        ['CARD_BALANCE', 'CONNECT_FAILED', 1, 750, 'PENDING'],
      );
      await waitFor(
        'a failed reversal attempt',
        async () => (await under.control.getSwipe(swipe.txnNo)).reversal.attempts >= 2,
      );

      const double = await startDouble(port);
      const reversed = await under.control.waitForSwipe(
        swipe.txnNo,
        (s) => s.reversal.state === 'ACKNOWLEDGED',
      );

      assert.equal(double.deductions().length, 0);
      assert.deepEqual(
        double.reversals().map((r) => [r.txnNo, r.isSignatureValid]),
        [[swipe.txnNo, true]],
      );
      assert.match(reversed.reversal.lastResult ?? '', /^HTTP 200/);
      assert.equal((await under.control.getCard(school.code, cardNo)).balanceFen, 750);
    });

    it('keeps sending a reversal until the platform acknowledges it with a 2xx', async () => {
      const school = await freshSchool(under.control);
      const double = await startDouble();
      double.onDeduction = () => 'hang';
      double.onReversal = (call, n) =>
        n < 3 ? { status: 503, body: { error: { code: 'SERVICE_UNAVAILABLE' } } } : { status: 200, body: {} };
      await usePlatform(school, double.url, { maxAttempts: 1 });
      const cardNo = await boundCard(school, 1000);

      const swipe = await under.control.swipe({
        schoolCode: school.code,
        cardNo,
        amountFen: 100,
        terminalId: 'T01',
      });
      const reversed = await under.control.waitForSwipe(
        swipe.txnNo,
        (s) => s.reversal.state === 'ACKNOWLEDGED',
      );

      assert.equal(reversed.reversal.attempts, 3);
      assert.equal(double.reversals().length, 3);
    });

    it('pays from the balance without a reversal when the platform refuses the request itself (4xx)', async () => {
      const school = await freshSchool(under.control);
      const double = await startDouble();
      await usePlatform(school, double.url, { secret: 'not-the-shared-secret' });
      const cardNo = await boundCard(school, 1000);

      const swipe = await under.control.swipe({
        schoolCode: school.code,
        cardNo,
        amountFen: 100,
        terminalId: 'T01',
      });

      assert.deepEqual(
        [swipe.path, swipe.platform.outcome, swipe.platform.reason, swipe.reversal.state],
        ['CARD_BALANCE', 'REJECTED', 'GATEWAY_AUTH_FAILED', 'NOT_NEEDED'],
      );
      assert.equal(double.calls[0].isSignatureValid, false);
    });
  });

  describe('reading swipes', () => {
    it("finds a swipe by txnNo and lists a card's swipes", async () => {
      const school = await freshSchool(under.control);
      const card = await under.control.createCard(school.code, { name: '张三', balanceFen: 1000 });
      const a = await under.control.swipe({
        schoolCode: school.code,
        cardNo: card.cardNo,
        amountFen: 1,
        terminalId: 'T01',
      });
      const b = await under.control.swipe({
        schoolCode: school.code,
        cardNo: card.cardNo,
        amountFen: 2,
        terminalId: 'T02',
      });

      assert.deepEqual(await under.control.getSwipe(a.txnNo, school.code), a);
      const listed = await under.control.listSwipes({ schoolCode: school.code, cardNo: card.cardNo });
      assert.deepEqual(listed.map((s) => s.txnNo).sort(), [a.txnNo, b.txnNo].sort());
      await assert.rejects(under.control.getSwipe('POSNOSUCHTXN'), { status: 404 });
    });
  });
});
