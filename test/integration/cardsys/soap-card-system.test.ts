import assert from 'node:assert/strict';
import type { SchoolView } from '../../../scripts/sandbox/cardsys/control-client.js';
import {
  CardSystemError,
  createCardSystem,
  type CardSystem,
  type CardSystemFailureClass,
  type CardSystemFailureReason,
} from '../../../server/src/integrations/cardsys/index.js';
import type { ErrorCode } from '../../../shared/errors.js';
import { freshSchool, uniqueCode, useCardsysSandbox } from '../../sandbox/cardsys/support.js';

/** The adapter's deadline in these tests; injected latency goes well past it. */
const TIMEOUT_MS = 500;

function cardSystemOf(
  school: SchoolView,
  overrides: { password?: string; endpoint?: string } = {},
): CardSystem {
  return createCardSystem({
    endpoint: overrides.endpoint ?? school.endpoint,
    username: school.username,
    password: overrides.password ?? school.password,
    timeoutMs: TIMEOUT_MS,
  });
}

async function failure(promise: Promise<unknown>): Promise<CardSystemError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof CardSystemError, `expected a CardSystemError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the call to fail');
}

/** The refusals a user is told about their card; only the other failures are logged as warnings. */
const ABOUT_THE_CARD: CardSystemFailureReason[] = [
  'CARD_NOT_FOUND',
  'CARD_LOST',
  'CARD_FROZEN',
  'ALREADY_BOUND',
  'WRONG_PASSWORD',
];

function assertFailure(
  error: CardSystemError,
  expected: { code: ErrorCode; classification: CardSystemFailureClass; reason: CardSystemFailureReason },
) {
  assert.deepEqual(
    { code: error.code, classification: error.classification, reason: error.reason },
    expected,
    error.message,
  );
  assert.equal(
    error.isAboutTheCard,
    ABOUT_THE_CARD.includes(expected.reason),
    `${error.reason}: about the card`,
  );
}

describe('card system adapter (SOAP) against the sandbox', () => {
  const under = useCardsysSandbox();

  async function schoolWithCard(card: Parameters<typeof under.control.createCard>[1] = { name: '张三' }) {
    const school = await freshSchool(under.control);
    const created = await under.control.createCard(school.code, card);
    return { school, cardNo: created.cardNo, cards: cardSystemOf(school) };
  }

  describe('reading a card (GetPersonInfo)', () => {
    it('returns the holder name, identity, status, student no and balance in fen', async () => {
      const { cards, cardNo } = await schoolWithCard({
        name: '张三',
        balanceFen: 12345,
        studentNo: 'S2024001',
      });

      assert.deepEqual(await cards.getCardHolder(cardNo), {
        cardNo,
        holderName: '张三',
        identity: 'STUDENT',
        status: 'NORMAL',
        studentNo: 'S2024001',
        balanceFen: 12345,
        isBoundToAlipay: false,
      });
      assert.deepEqual(await cards.getBalance(cardNo), { cardNo, balanceFen: 12345 });
    });

    it('maps staff cards, lost and frozen cards and a zero balance', async () => {
      const { school, cards } = await schoolWithCard();
      const staff = await under.control.createCard(school.code, {
        name: '王老师',
        identity: 'STAFF',
        studentNo: null,
        status: 'LOST',
      });
      const frozen = await under.control.createCard(school.code, { name: '赵六', status: 'FROZEN' });

      const a = await cards.getCardHolder(staff.cardNo);
      const b = await cards.getCardHolder(frozen.cardNo);

      assert.deepEqual([a.identity, a.status, a.studentNo, a.balanceFen], ['STAFF', 'LOST', null, 0]);
      assert.equal(b.status, 'FROZEN');
    });

    it('refuses an unknown card as final CARD_NOT_FOUND', async () => {
      const { cards } = await schoolWithCard();
      assertFailure(await failure(cards.getCardHolder('404404')), {
        code: 'CARD_NOT_FOUND',
        classification: 'final',
        reason: 'CARD_NOT_FOUND',
      });
    });
  });

  describe('recharge (Recharge)', () => {
    it('credits the card in fen and returns the balance after and the vendor serial', async () => {
      const { school, cards, cardNo } = await schoolWithCard({ name: '张三', balanceFen: 1000 });

      const credit = await cards.recharge({ cardNo, amountFen: 1230, flowNo: 'R20240301000001' });

      assert.deepEqual(
        {
          ...credit,
          vendorSerial: typeof credit.vendorSerial,
          creditedAt: credit.creditedAt instanceof Date,
        },
        {
          cardNo,
          flowNo: 'R20240301000001',
          amountFen: 1230,
          balanceAfterFen: 2230,
          vendorSerial: 'string',
          creditedAt: true,
        },
      );
      assert.equal((await under.control.getCard(school.code, cardNo)).balanceFen, 2230);
    });

    it('credits a flow number once: a repeat returns the first credit', async () => {
      const { school, cards, cardNo } = await schoolWithCard();
      const recharge = { cardNo, amountFen: 500, flowNo: 'R_IDEMPOTENT_1' };

      const first = await cards.recharge(recharge);
      const again = await cards.recharge(recharge);

      assert.deepEqual(again, first);
      assert.equal((await under.control.getCard(school.code, cardNo)).balanceFen, 500);
      assert.equal((await under.control.getRecords(school.code, cardNo)).length, 1);
    });

    it('finds a credit by our flow number in the card records, and says null when there is none', async () => {
      const { cards, cardNo } = await schoolWithCard();
      const credit = await cards.recharge({ cardNo, amountFen: 700, flowNo: 'R_LOOKUP_1' });
      const window = { from: new Date(Date.now() - 86_400_000), to: new Date(Date.now() + 86_400_000) };
      const found = await cards.findRecharge({ cardNo, flowNo: 'R_LOOKUP_1', ...window });
      assert.deepEqual(found, {
        cardNo,
        flowNo: 'R_LOOKUP_1',
        amountFen: 700,
        vendorSerial: credit.vendorSerial,
        creditedAt: credit.creditedAt,
      });
      assert.equal(await cards.findRecharge({ cardNo, flowNo: 'R_LOOKUP_2', ...window }), null);
    });

    it('refuses a flow number reused with another amount as final FLOW_NO_CONFLICT', async () => {
      const { cards, cardNo } = await schoolWithCard();
      await cards.recharge({ cardNo, amountFen: 500, flowNo: 'R_CONFLICT_1' });

      assertFailure(await failure(cards.recharge({ cardNo, amountFen: 501, flowNo: 'R_CONFLICT_1' })), {
        code: 'CARD_SYSTEM_REJECTED',
        classification: 'final',
        reason: 'FLOW_NO_CONFLICT',
      });
    });

    it('refuses a frozen card and an amount over the vendor limit as final', async () => {
      const { school, cards } = await schoolWithCard();
      const frozen = await under.control.createCard(school.code, { name: '赵六', status: 'FROZEN' });
      const normal = await under.control.createCard(school.code, { name: '钱七' });

      assertFailure(
        await failure(cards.recharge({ cardNo: frozen.cardNo, amountFen: 100, flowNo: 'R_FROZEN' })),
        {
          code: 'CARD_NOT_NORMAL',
          classification: 'final',
          reason: 'CARD_FROZEN',
        },
      );
      assertFailure(
        await failure(cards.recharge({ cardNo: normal.cardNo, amountFen: 1_000_001, flowNo: 'R_TOO_MUCH' })),
        {
          code: 'AMOUNT_OUT_OF_RANGE',
          classification: 'final',
          reason: 'AMOUNT_INVALID',
        },
      );
    });

    it('rejects a fractional amount before calling the vendor', async () => {
      const { school, cards, cardNo } = await schoolWithCard();

      assertFailure(await failure(cards.recharge({ cardNo, amountFen: 10.5, flowNo: 'R_FRACTION' })), {
        code: 'VALIDATION_FAILED',
        classification: 'final',
        reason: 'INVALID_REQUEST',
      });
      assert.equal((await under.control.getSchool(school.code)).stats.calls.Recharge, undefined);
    });
  });

  describe('Alipay bind docs (ZFB_BindDoc, ZFB_UnBindDoc)', () => {
    it('binds a card to an Alipay user with our password', async () => {
      const { school, cards, cardNo } = await schoolWithCard();

      const binding = await cards.bindAlipay({ cardNo, alipayUserId: '2088102122524333', password: 'pw-1' });

      assert.deepEqual(
        [binding.cardNo, binding.alipayUserId, binding.boundAt instanceof Date],
        [cardNo, '2088102122524333', true],
      );
      const card = await under.control.getCard(school.code, cardNo);
      assert.deepEqual(
        [card.alipayBind?.alipayUserId, card.alipayBind?.password],
        ['2088102122524333', 'pw-1'],
      );
      assert.equal((await cards.getCardHolder(cardNo)).isBoundToAlipay, true);
    });

    it('refuses a card already bound to another Alipay user, and a lost card, as final', async () => {
      const { school, cards, cardNo } = await schoolWithCard();
      const lost = await under.control.createCard(school.code, { name: '孙八', status: 'LOST' });
      await cards.bindAlipay({ cardNo, alipayUserId: '2088000000000001', password: 'pw-1' });

      assertFailure(
        await failure(cards.bindAlipay({ cardNo, alipayUserId: '2088000000000002', password: 'pw-2' })),
        {
          code: 'CARD_SYSTEM_REJECTED',
          classification: 'final',
          reason: 'ALREADY_BOUND',
        },
      );
      assertFailure(
        await failure(
          cards.bindAlipay({ cardNo: lost.cardNo, alipayUserId: '2088000000000002', password: 'pw' }),
        ),
        {
          code: 'CARD_NOT_NORMAL',
          classification: 'final',
          reason: 'CARD_LOST',
        },
      );
    });

    it('refuses to unbind with a wrong password and keeps the bind doc', async () => {
      const { school, cards, cardNo } = await schoolWithCard();
      await cards.bindAlipay({ cardNo, alipayUserId: '2088000000000001', password: 'right' });

      assertFailure(await failure(cards.unbindAlipay({ cardNo, password: 'wrong' })), {
        code: 'CARD_SYSTEM_REJECTED',
        classification: 'final',
        reason: 'WRONG_PASSWORD',
      });
      assert.notEqual((await under.control.getCard(school.code, cardNo)).alipayBind, null);
    });

    it('unbinds with the bind password, and treats a card with nothing to unbind as done', async () => {
      const { school, cards, cardNo } = await schoolWithCard();
      await cards.bindAlipay({ cardNo, alipayUserId: '2088000000000001', password: 'right' });

      const unbound = await cards.unbindAlipay({ cardNo, password: 'right' });
      const again = await cards.unbindAlipay({ cardNo, password: 'right' });

      assert.deepEqual([unbound.wasBound, unbound.unboundAt instanceof Date], [true, true]);
      assert.deepEqual(again, { cardNo, wasBound: false, unboundAt: null });
      assert.equal((await under.control.getCard(school.code, cardNo)).alipayBind, null);
    });
  });

  describe('statement (GetPersonDetails)', () => {
    const at = (iso: string) => new Date(iso);

    async function cardWithHistory() {
      const made = await schoolWithCard({ name: '张三', balanceFen: 10_000 });
      const { school, cardNo } = made;
      for (const [i, amountFen] of [100, 200, 300, 400].entries()) {
        await under.control.swipe({
          schoolCode: school.code,
          cardNo,
          amountFen,
          terminalId: `T0${i + 1}`,
          place: '第二食堂',
          occurredAt: `2024-03-0${i + 1}T04:00:00.000Z`,
        });
      }
      return made;
    }

    it('lists consumption and recharge records with time, amount, place, terminal, balance after and channel, newest first', async () => {
      const { cards, cardNo } = await cardWithHistory();
      const credit = await cards.recharge({ cardNo, amountFen: 5000, flowNo: 'R_STATEMENT_1' });

      const statement = await cards.getStatement({
        cardNo,
        from: at('2024-01-01T00:00:00Z'),
        to: new Date(Date.now() + 60_000),
        page: 1,
        pageSize: 2,
      });

      assert.deepEqual([statement.total, statement.page, statement.pageSize], [5, 1, 2]);
      assert.deepEqual(statement.records[0], {
        vendorSerial: credit.vendorSerial,
        occurredAt: statement.records[0].occurredAt,
        kind: 'RECHARGE',
        amountFen: 5000,
        balanceAfterFen: 14_000,
        channel: 'ALIPAY',
        place: '支付宝充值',
        terminalId: null,
        referenceNo: 'R_STATEMENT_1',
      });
      assert.deepEqual(
        { ...statement.records[1], vendorSerial: undefined, referenceNo: undefined },
        {
          vendorSerial: undefined,
          occurredAt: at('2024-03-04T04:00:00Z'),
          kind: 'CONSUMPTION',
          amountFen: 400,
          balanceAfterFen: 9000,
          channel: 'CARD_BALANCE',
          place: '第二食堂',
          terminalId: 'T04',
          referenceNo: undefined,
        },
      );
    });

    it('pages through the records', async () => {
      const { cards, cardNo } = await cardWithHistory();
      const page = (n: number) =>
        cards.getStatement({
          cardNo,
          from: at('2024-03-01T00:00:00Z'),
          to: at('2024-03-31T00:00:00Z'),
          page: n,
          pageSize: 3,
        });

      const [one, two, three] = [await page(1), await page(2), await page(3)];

      assert.deepEqual(
        [one, two, three].map((p) => p.records.map((r) => r.amountFen)),
        [[400, 300, 200], [100], []],
      );
      assert.deepEqual([one.total, two.total, three.total], [4, 4, 4]);
    });

    it('returns only the records between from and to, both inclusive', async () => {
      const { cards, cardNo } = await cardWithHistory();

      const statement = await cards.getStatement({
        cardNo,
        from: at('2024-03-02T04:00:00Z'),
        to: at('2024-03-03T04:00:00Z'),
        page: 1,
        pageSize: 10,
      });

      assert.deepEqual(
        statement.records.map((r) => r.amountFen),
        [300, 200],
      );
    });
  });

  describe('loss (Loss)', () => {
    it('marks the card lost, and a repeated report is harmless', async () => {
      const { school, cards, cardNo } = await schoolWithCard();

      const report = await cards.reportLoss(cardNo);
      const again = await cards.reportLoss(cardNo);

      assert.deepEqual(
        [report.status, again.status, report.reportedAt instanceof Date],
        ['LOST', 'LOST', true],
      );
      assert.equal((await under.control.getCard(school.code, cardNo)).status, 'LOST');
    });

    it('refuses a frozen card as final CARD_NOT_NORMAL', async () => {
      const { cards, cardNo } = await schoolWithCard({ name: '张三', status: 'FROZEN' });
      assertFailure(await failure(cards.reportLoss(cardNo)), {
        code: 'CARD_NOT_NORMAL',
        classification: 'final',
        reason: 'CARD_FROZEN',
      });
    });
  });

  describe('credentials and endpoints', () => {
    it('refuses wrong credentials as final AUTH_FAILED', async () => {
      const { school, cardNo } = await schoolWithCard();
      assertFailure(await failure(cardSystemOf(school, { password: 'wrong' }).getCardHolder(cardNo)), {
        code: 'CARD_SYSTEM_REJECTED',
        classification: 'final',
        reason: 'AUTH_FAILED',
      });
    });

    it('downloads the WSDL once per endpoint, however many calls and instances', async () => {
      const { school, cardNo } = await schoolWithCard();
      const first = cardSystemOf(school);
      const second = cardSystemOf(school);

      await Promise.all([first.getCardHolder(cardNo), second.getBalance(cardNo), first.getBalance(cardNo)]);

      const { stats } = await under.control.getSchool(school.code);
      assert.deepEqual([stats.wsdlFetches, stats.calls.GetPersonInfo], [1, 3]);
    });

    it('refuses an endpoint that does not exist as final', async () => {
      const { school, cardNo } = await schoolWithCard();
      const wrong = cardSystemOf(school, {
        endpoint: `${under.sandbox.soapUrl}/cardsys/${uniqueCode()}/CardService.asmx`,
      });
      assertFailure(await failure(wrong.getCardHolder(cardNo)), {
        code: 'CARD_SYSTEM_REJECTED',
        classification: 'final',
        reason: 'INVALID_REQUEST',
      });
    });
  });

  describe('faults', () => {
    it('classifies a SYSTEM_BUSY fault as retryable, and the next call goes through', async () => {
      const { school, cards, cardNo } = await schoolWithCard();
      await under.control.injectFault({
        schoolCode: school.code,
        operation: 'Recharge',
        kind: 'SOAP_FAULT',
        times: 1,
      });

      const busy = await failure(cards.recharge({ cardNo, amountFen: 100, flowNo: 'R_BUSY' }));
      assertFailure(busy, { code: 'CARD_SYSTEM_UNAVAILABLE', classification: 'retryable', reason: 'BUSY' });
      assert.equal(busy.vendorCode, 'SYSTEM_BUSY');
      assert.equal((await cards.recharge({ cardNo, amountFen: 100, flowNo: 'R_BUSY' })).balanceAfterFen, 100);
    });

    it('classifies an unexplained server fault as unknown for a recharge and retryable for a read', async () => {
      const { school, cards, cardNo } = await schoolWithCard();
      await under.control.injectFault({
        schoolCode: school.code,
        kind: 'SOAP_FAULT',
        vendorCode: 'DB_ERROR',
        times: 2,
      });

      assertFailure(await failure(cards.recharge({ cardNo, amountFen: 100, flowNo: 'R_DB' })), {
        code: 'CARD_SYSTEM_UNAVAILABLE',
        classification: 'unknown',
        reason: 'VENDOR_ERROR',
      });
      assertFailure(await failure(cards.getCardHolder(cardNo)), {
        code: 'CARD_SYSTEM_UNAVAILABLE',
        classification: 'retryable',
        reason: 'VENDOR_ERROR',
      });
    });

    it('classifies an unknown client fault as final', async () => {
      const { school, cards, cardNo } = await schoolWithCard();
      await under.control.injectFault({
        schoolCode: school.code,
        kind: 'SOAP_FAULT',
        faultCode: 'soap:Client',
        vendorCode: 'NEW_RULE',
        times: 1,
      });

      assertFailure(await failure(cards.getCardHolder(cardNo)), {
        code: 'CARD_SYSTEM_REJECTED',
        classification: 'final',
        reason: 'VENDOR_ERROR',
      });
    });

    it('classifies an answer slower than the deadline as retryable for a read', async () => {
      const { school, cards, cardNo } = await schoolWithCard();
      await under.control.injectFault({
        schoolCode: school.code,
        kind: 'LATENCY',
        latencyMs: 2000,
        times: 1,
      });

      const started = Date.now();
      assertFailure(await failure(cards.getCardHolder(cardNo)), {
        code: 'CARD_SYSTEM_UNAVAILABLE',
        classification: 'retryable',
        reason: 'TIMEOUT',
      });
      assert.ok(Date.now() - started < 1500, 'gave up at its own deadline');
    });

    it('classifies a recharge slower than the deadline as unknown; a retry with the same flow number credits once', async () => {
      const { school, cards, cardNo } = await schoolWithCard();
      await under.control.injectFault({
        schoolCode: school.code,
        operation: 'Recharge',
        kind: 'LATENCY',
        latencyMs: 2000,
        times: 1,
      });
      const recharge = { cardNo, amountFen: 800, flowNo: 'R_SLOW_1' };

      assertFailure(await failure(cards.recharge(recharge)), {
        code: 'CARD_SYSTEM_UNAVAILABLE',
        classification: 'unknown',
        reason: 'TIMEOUT',
      });
      const retried = await cards.recharge(recharge);

      assert.equal(retried.balanceAfterFen, 800);
      assert.equal((await under.control.getCard(school.code, cardNo)).balanceFen, 800);
      assert.equal((await under.control.getRecords(school.code, cardNo)).length, 1);
    });

    it('classifies a hung connection as a timeout', async () => {
      const { school, cards, cardNo } = await schoolWithCard();
      await under.control.injectFault({ schoolCode: school.code, kind: 'HANG', times: 1 });

      assertFailure(await failure(cards.reportLoss(cardNo)), {
        code: 'CARD_SYSTEM_UNAVAILABLE',
        classification: 'unknown',
        reason: 'TIMEOUT',
      });
    });

    it('classifies HTTP 503 as retryable, even for a recharge', async () => {
      const { school, cards, cardNo } = await schoolWithCard();
      await under.control.injectFault({ schoolCode: school.code, kind: 'HTTP_503', times: 1 });

      assertFailure(await failure(cards.recharge({ cardNo, amountFen: 100, flowNo: 'R_503' })), {
        code: 'CARD_SYSTEM_UNAVAILABLE',
        classification: 'retryable',
        reason: 'SERVICE_UNAVAILABLE',
      });
      assert.equal((await under.control.getCard(school.code, cardNo)).balanceFen, 0);
    });

    it('classifies a dropped connection as unknown for a bind and retryable for a read', async () => {
      const { school, cards, cardNo } = await schoolWithCard();
      await under.control.injectFault({ schoolCode: school.code, kind: 'RESET', times: 2 });

      assertFailure(
        await failure(cards.bindAlipay({ cardNo, alipayUserId: '2088000000000001', password: 'pw' })),
        {
          code: 'CARD_SYSTEM_UNAVAILABLE',
          classification: 'unknown',
          reason: 'CONNECTION_LOST',
        },
      );
      assertFailure(await failure(cards.getCardHolder(cardNo)), {
        code: 'CARD_SYSTEM_UNAVAILABLE',
        classification: 'retryable',
        reason: 'CONNECTION_LOST',
      });
    });
  });

  describe('kept-alive connections', () => {
    it('sends a recharge that met a dropped kept connection again on a fresh one, and the card is credited once', async () => {
      const { school, cards, cardNo } = await schoolWithCard();
      await cards.getBalance(cardNo); // leaves a connection open for the next call
      await under.control.injectFault({
        schoolCode: school.code,
        operation: 'Recharge',
        kind: 'RESET',
        times: 1,
      });

      const credited = await cards.recharge({ cardNo, amountFen: 300, flowNo: 'R_KEPT_1' });

      assert.equal(credited.balanceAfterFen, 300);
      assert.equal((await under.control.getCard(school.code, cardNo)).balanceFen, 300);
      assert.equal((await under.control.getRecords(school.code, cardNo)).length, 1);
      const { stats } = await under.control.getSchool(school.code);
      assert.equal(stats.calls.Recharge, 2, 'once on the kept connection, once on a fresh one');
    });

    it('never sends a bind twice: a dropped connection leaves its outcome unknown', async () => {
      const { school, cards, cardNo } = await schoolWithCard();
      await cards.getBalance(cardNo);
      await under.control.injectFault({
        schoolCode: school.code,
        operation: 'ZFB_BindDoc',
        kind: 'RESET',
        times: 1,
      });

      assertFailure(
        await failure(cards.bindAlipay({ cardNo, alipayUserId: '2088000000000002', password: 'pw' })),
        { code: 'CARD_SYSTEM_UNAVAILABLE', classification: 'unknown', reason: 'CONNECTION_LOST' },
      );
      assert.equal((await under.control.getSchool(school.code)).stats.calls.ZFB_BindDoc, 1);
    });
  });

  describe('downtime (connection refused)', () => {
    afterEach(async () => {
      await under.control.setDowntime(false);
    });

    it('classifies a refused connection as retryable, even for a recharge, and works again once the vendor is back', async () => {
      const { school, cards, cardNo } = await schoolWithCard();
      await cards.getBalance(cardNo); // the client is built and its WSDL kept

      await under.control.setDowntime(true);
      assertFailure(await failure(cards.recharge({ cardNo, amountFen: 100, flowNo: 'R_DOWN' })), {
        code: 'CARD_SYSTEM_UNAVAILABLE',
        classification: 'retryable',
        reason: 'UNREACHABLE',
      });
      await under.control.setDowntime(false);

      assert.equal((await cards.recharge({ cardNo, amountFen: 100, flowNo: 'R_DOWN' })).balanceAfterFen, 100);
      assert.equal((await under.control.getSchool(school.code)).stats.wsdlFetches, 1);
    });

    it('is retryable when the WSDL cannot be downloaded, and builds the client once the vendor is back', async () => {
      const { school, cards, cardNo } = await schoolWithCard();

      await under.control.setDowntime(true);
      assertFailure(await failure(cards.recharge({ cardNo, amountFen: 100, flowNo: 'R_NO_WSDL' })), {
        code: 'CARD_SYSTEM_UNAVAILABLE',
        classification: 'retryable',
        reason: 'UNREACHABLE',
      });
      await under.control.setDowntime(false);

      assert.equal(
        (await cards.recharge({ cardNo, amountFen: 100, flowNo: 'R_NO_WSDL' })).balanceAfterFen,
        100,
      );
      assert.equal((await under.control.getSchool(school.code)).stats.wsdlFetches, 1);
    });
  });
});
