/**
 * CardSystem over the vendor's SOAP 1.1 web service (seed 000 interface names). Each method: check our
 * inputs, call one operation with a deadline, read the vendor's fields into our types. Failures come out
 * as CardSystemError (classify-failure.ts); an answer we cannot read is BAD_RESPONSE.
 */
import { isValidFen } from '../../../../../shared/money.js';
import { logger } from '../../../lib/logger.js';
import { maskCardNo } from '../../../lib/redact.js';
import { cardSystemCalls } from '../../../lib/metrics.js';
import type {
  AlipayBinding,
  AlipayUnbinding,
  BindAlipayInput,
  CardBalance,
  CardHolder,
  CardRecharge,
  CardRecord,
  CardStatement,
  CardSystem,
  CardSystemConnection,
  LossReport,
  RechargeInput,
  RechargeLookup,
  RechargeRecord,
  StatementQuery,
  UnbindAlipayInput,
} from '../card-system.js';
import { CardSystemError, type CardSystemOperation } from '../card-system-error.js';
import { classifySoapFailure, isLostKeptConnection } from './classify-failure.js';
import {
  DEFAULT_TIMEOUT_MS,
  FRESH_CONNECTIONS,
  soapClients,
  type ConnectionAgents,
  type SoapClientPool,
} from './soap-clients.js';
import {
  CHANNEL_BY_CODE,
  IDENTITY_BY_CODE,
  RECORD_KIND_BY_CODE,
  STATUS_BY_CODE,
  fenFromVendor,
  intOf,
  listOf,
  textOf,
  timeForVendor,
  timeFromVendor,
  yuanForVendor,
} from './vendor-wire.js';

const log = logger.child({ component: 'cardsys' });

/** A recharge lookup pages through the card's records in this window: 5,000 records at most. */
const LOOKUP_PAGE_SIZE = 100;
const LOOKUP_MAX_PAGES = 50;

/**
 * The operations that may be sent twice: the reads, and Recharge, which the vendor credits once per flow
 * number (our order number; a repeat returns the first credit). They go over kept-alive connections,
 * per school endpoint, and one that met a dead kept connection is sent once more on a fresh one. A new
 * TCP connection per call cost ≈ 0.4 ms of CPU here and ≈ 0.5 ms at the vendor on top of ≈ 1.6 and 1.0 ms
 * for the call itself (1,500 Recharges, 16 in flight, against the sandbox). Binding, unbinding and loss are not known to be safe to
 * repeat (a bind doc may have changed in between), are rare, and keep a fresh connection per call, where
 * a dropped connection stays "unknown". Either way a refused connection still means "not sent".
 */
const REPEATABLE: ReadonlySet<VendorOperation> = new Set(['GetPersonInfo', 'GetPersonDetails', 'Recharge']);

type VendorOperation =
  'GetPersonInfo' | 'Recharge' | 'ZFB_BindDoc' | 'ZFB_UnBindDoc' | 'GetPersonDetails' | 'Loss' | 'UnLoss';
type Fields = Record<string, unknown>;

/** Card numbers are not secrets, but together with a name they identify a student: log the tail only. */
function invalid(operation: CardSystemOperation, message: string): CardSystemError {
  return new CardSystemError({
    code: 'VALIDATION_FAILED',
    classification: 'final',
    reason: 'INVALID_REQUEST',
    operation,
    message,
  });
}

function requireText(
  operation: CardSystemOperation,
  name: string,
  value: unknown,
  pattern = /^\S.{0,63}$/,
): string {
  if (typeof value !== 'string' || !pattern.test(value))
    throw invalid(operation, `${name} is missing or malformed`);
  return value;
}

const CARD_NO = /^[A-Za-z0-9]{1,32}$/;
const FLOW_NO = /^[A-Za-z0-9_-]{1,64}$/;

/** Reads one answer; any missing or unreadable field makes the whole answer BAD_RESPONSE. */
class AnswerReader {
  constructor(
    private readonly operation: CardSystemOperation,
    private readonly fields: Fields,
    private readonly mayHaveActed: boolean,
  ) {}

  text(name: string): string {
    return textOf(this.fields[name]) ?? this.bad(name);
  }
  optionalText(name: string): string | null {
    return textOf(this.fields[name]);
  }
  raw(name: string): unknown {
    return this.fields[name] ?? null;
  }
  fen(name: string): number {
    return fenFromVendor(this.fields[name]) ?? this.bad(name);
  }
  int(name: string): number {
    return intOf(this.fields[name]) ?? this.bad(name);
  }
  time(name: string): Date {
    return timeFromVendor(this.fields[name]) ?? this.bad(name);
  }
  code<T>(name: string, table: Record<string, T>): T {
    const raw = textOf(this.fields[name]);
    return (raw !== null && Object.hasOwn(table, raw) ? table[raw] : undefined) ?? this.bad(name);
  }
  expect(name: string, expected: string | number, actual: string | number): void {
    if (expected !== actual) this.bad(`${name} (sent ${expected}, got ${actual})`);
  }
  nested(fields: Fields): AnswerReader {
    return new AnswerReader(this.operation, fields, this.mayHaveActed);
  }

  bad(name: string): never {
    throw new CardSystemError({
      code: 'CARD_SYSTEM_REJECTED',
      // An unreadable answer to a change leaves us not knowing whether it happened.
      classification: this.mayHaveActed ? 'unknown' : 'final',
      reason: 'BAD_RESPONSE',
      operation: this.operation,
      message: `card system answer has a missing or unreadable ${name}`,
    });
  }
}

export class SoapCardSystem implements CardSystem {
  readonly statementMaxDays: number;
  private readonly timeoutMs: number;
  private readonly host: string;

  constructor(
    private readonly connection: CardSystemConnection,
    private readonly clients: SoapClientPool = soapClients,
  ) {
    this.timeoutMs = connection.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    // GetPersonDetails takes any BeginTime/EndTime; a year is what vendors commonly keep online.
    this.statementMaxDays = connection.statementMaxDays ?? 366;
    this.host = URL.canParse(connection.endpoint) ? new URL(connection.endpoint).host : 'invalid endpoint';
  }

  async prepare(): Promise<void> {
    try {
      await this.clients.get(this.connection);
    } catch (error) {
      throw classifySoapFailure('prepare', error, false);
    }
  }

  async getCardHolder(cardNo: string): Promise<CardHolder> {
    const op = 'getCardHolder';
    requireText(op, 'cardNo', cardNo, CARD_NO);
    const answer = await this.call(op, 'GetPersonInfo', { CardNo: cardNo }, cardNo, false);
    return {
      cardNo: answer.text('CardNo'),
      holderName: answer.text('Name'),
      identity: answer.code('Identity', IDENTITY_BY_CODE),
      status: answer.code('Status', STATUS_BY_CODE),
      studentNo: answer.optionalText('StudentNo'),
      balanceFen: answer.fen('Balance'),
      isBoundToAlipay: answer.optionalText('ZfbBind') === '1',
    };
  }

  async getBalance(cardNo: string): Promise<CardBalance> {
    const op = 'getBalance';
    requireText(op, 'cardNo', cardNo, CARD_NO);
    const answer = await this.call(op, 'GetPersonInfo', { CardNo: cardNo }, cardNo, false);
    return { cardNo: answer.text('CardNo'), balanceFen: answer.fen('Balance') };
  }

  async recharge(input: RechargeInput): Promise<CardRecharge> {
    const op = 'recharge';
    requireText(op, 'cardNo', input.cardNo, CARD_NO);
    requireText(op, 'flowNo', input.flowNo, FLOW_NO);
    if (!isValidFen(input.amountFen)) throw invalid(op, 'amountFen must be a positive integer');
    const answer = await this.call(
      op,
      'Recharge',
      { CardNo: input.cardNo, Amount: yuanForVendor(input.amountFen), FlowNo: input.flowNo },
      input.cardNo,
      true,
    );
    // A credit for another flow or amount would be a vendor bug we must not book as ours.
    answer.expect('FlowNo', input.flowNo, answer.text('FlowNo'));
    answer.expect('Amount', input.amountFen, answer.fen('Amount'));
    return {
      cardNo: answer.text('CardNo'),
      flowNo: input.flowNo,
      amountFen: input.amountFen,
      balanceAfterFen: answer.fen('Balance'),
      vendorSerial: answer.text('TranSerial'),
      creditedAt: answer.time('TranTime'),
    };
  }

  async findRecharge(lookup: RechargeLookup): Promise<RechargeRecord | null> {
    const op = 'findRecharge';
    requireText(op, 'cardNo', lookup.cardNo, CARD_NO);
    requireText(op, 'flowNo', lookup.flowNo, FLOW_NO);
    let seen = 0;
    for (let page = 1; page <= LOOKUP_MAX_PAGES; page += 1) {
      const statement = await this.getStatement({
        cardNo: lookup.cardNo,
        from: lookup.from,
        to: lookup.to,
        page,
        pageSize: LOOKUP_PAGE_SIZE,
      });
      const found = statement.records.find((r) => r.kind === 'RECHARGE' && r.referenceNo === lookup.flowNo);
      if (found)
        return {
          cardNo: lookup.cardNo,
          flowNo: lookup.flowNo,
          amountFen: found.amountFen,
          vendorSerial: found.vendorSerial,
          creditedAt: found.occurredAt,
        };
      seen += statement.records.length;
      if (statement.records.length < LOOKUP_PAGE_SIZE || seen >= statement.total) return null;
    }
    throw new CardSystemError({
      code: 'CARD_SYSTEM_UNAVAILABLE',
      classification: 'retryable',
      reason: 'VENDOR_ERROR',
      operation: op,
      message: `more than ${LOOKUP_MAX_PAGES * LOOKUP_PAGE_SIZE} records to search for flow ${lookup.flowNo}`,
    });
  }

  async bindAlipay(input: BindAlipayInput): Promise<AlipayBinding> {
    const op = 'bindAlipay';
    requireText(op, 'cardNo', input.cardNo, CARD_NO);
    requireText(op, 'alipayUserId', input.alipayUserId);
    requireText(op, 'password', input.password);
    const answer = await this.call(
      op,
      'ZFB_BindDoc',
      { CardNo: input.cardNo, ZfbUserId: input.alipayUserId, Password: input.password },
      input.cardNo,
      true,
    );
    return {
      cardNo: answer.text('CardNo'),
      alipayUserId: answer.text('ZfbUserId'),
      boundAt: answer.time('BindTime'),
    };
  }

  async unbindAlipay(input: UnbindAlipayInput): Promise<AlipayUnbinding> {
    const op = 'unbindAlipay';
    requireText(op, 'cardNo', input.cardNo, CARD_NO);
    requireText(op, 'password', input.password);
    try {
      const answer = await this.call(
        op,
        'ZFB_UnBindDoc',
        { CardNo: input.cardNo, Password: input.password },
        input.cardNo,
        true,
      );
      return { cardNo: answer.text('CardNo'), wasBound: true, unboundAt: answer.time('UnBindTime') };
    } catch (error) {
      // Nothing left to unbind is the state we wanted (typically our retry after a lost answer).
      if (error instanceof CardSystemError && error.reason === 'NOT_BOUND') {
        return { cardNo: input.cardNo, wasBound: false, unboundAt: null };
      }
      throw error;
    }
  }

  async getStatement(query: StatementQuery): Promise<CardStatement> {
    const op = 'getStatement';
    requireText(op, 'cardNo', query.cardNo, CARD_NO);
    if (!(query.from instanceof Date) || !(query.to instanceof Date) || !(query.from <= query.to)) {
      throw invalid(op, 'from and to must be dates with from <= to');
    }
    if (!Number.isInteger(query.page) || query.page < 1) throw invalid(op, 'page must be 1 or more');
    if (!Number.isInteger(query.pageSize) || query.pageSize < 1 || query.pageSize > 100) {
      throw invalid(op, 'pageSize must be 1..100');
    }
    const answer = await this.call(
      op,
      'GetPersonDetails',
      {
        CardNo: query.cardNo,
        BeginTime: timeForVendor(query.from),
        EndTime: timeForVendor(query.to),
        PageIndex: query.page,
        PageSize: query.pageSize,
      },
      query.cardNo,
      false,
    );
    const list = (answer.raw('Records') as { Record?: Fields | Fields[] } | null)?.Record;
    return {
      cardNo: answer.text('CardNo'),
      page: answer.int('PageIndex'),
      pageSize: answer.int('PageSize'),
      total: answer.int('TotalCount'),
      records: listOf(list).map((fields) => this.readRecord(answer.nested(fields))),
    };
  }

  async reportLoss(cardNo: string): Promise<LossReport> {
    const op = 'reportLoss';
    requireText(op, 'cardNo', cardNo, CARD_NO);
    const answer = await this.call(op, 'Loss', { CardNo: cardNo }, cardNo, true);
    return {
      cardNo: answer.text('CardNo'),
      status: answer.code('Status', STATUS_BY_CODE),
      reportedAt: answer.time('LossTime'),
    };
  }

  /** The vendor's WSDL lists the operations it offers; UnLoss is one that not every vendor has. */
  async supportsCancelLoss(): Promise<boolean> {
    let client;
    try {
      client = await this.clients.get(this.connection);
    } catch (error) {
      throw classifySoapFailure('supportsCancelLoss', error, false);
    }
    return typeof (client as unknown as Record<string, unknown>).UnLossAsync === 'function';
  }

  async cancelLoss(cardNo: string): Promise<LossReport> {
    const op = 'cancelLoss';
    requireText(op, 'cardNo', cardNo, CARD_NO);
    if (!(await this.supportsCancelLoss())) {
      throw new CardSystemError({
        code: 'UNLOSS_NOT_SUPPORTED',
        classification: 'final',
        reason: 'NOT_SUPPORTED',
        operation: op,
        message: 'the card system does not offer cancelling a loss online',
      });
    }
    const answer = await this.call(op, 'UnLoss', { CardNo: cardNo }, cardNo, true);
    return {
      cardNo: answer.text('CardNo'),
      status: answer.code('Status', STATUS_BY_CODE),
      reportedAt: answer.time('UnLossTime'),
    };
  }

  private readRecord(record: AnswerReader): CardRecord {
    return {
      vendorSerial: record.text('TranSerial'),
      occurredAt: record.time('TranTime'),
      kind: record.code('TranType', RECORD_KIND_BY_CODE),
      amountFen: record.fen('TranAmt'),
      balanceAfterFen: record.fen('Balance'),
      channel: CHANNEL_BY_CODE[record.optionalText('PayChannel') ?? ''] ?? 'OTHER',
      place: record.optionalText('Place'),
      terminalId: record.optionalText('TermId'),
      referenceNo: record.optionalText('RefNo'),
    };
  }

  private async call(
    operation: CardSystemOperation,
    vendorOperation: VendorOperation,
    args: Fields,
    cardNo: string,
    changesState: boolean,
  ): Promise<AnswerReader> {
    const started = Date.now();
    const context = { operation, vendorOperation, card: maskCardNo(cardNo), host: this.host };
    let sent = false;
    try {
      const client = await this.clients.get(this.connection);
      const repeatable = REPEATABLE.has(vendorOperation);
      // Recharge, the crediting's hot path, skips `soap`'s envelope work (hand-written-recharge.ts).
      const handWritten =
        vendorOperation === 'Recharge' ? this.clients.handWrittenRecharge(client) : undefined;
      const send = async (agents: ConnectionAgents) => {
        const options = {
          ...agents,
          // Plain http.request (no redirect follower): its error says whether the socket was a kept one.
          maxRedirects: 0,
          timeout: this.timeoutMs,
          signal: AbortSignal.timeout(this.timeoutMs),
        };
        if (handWritten) return handWritten.send(args, options);
        const [answer] = (await client[`${vendorOperation}Async`](args, options)) as [Fields | null];
        return answer;
      };
      sent = true;
      let result: Fields | null;
      try {
        result = await send(
          repeatable ? this.clients.keptConnections(this.connection.endpoint) : FRESH_CONNECTIONS,
        );
      } catch (error) {
        if (!repeatable || !isLostKeptConnection(error)) throw error;
        log.debug('kept connection lost; sending again on a fresh one', context);
        result = await send(FRESH_CONNECTIONS);
      }
      log.debug('card system call succeeded', { ...context, durationMs: Date.now() - started });
      cardSystemCalls.observe({ operation, outcome: 'ok' }, (Date.now() - started) / 1000);
      return new AnswerReader(operation, result ?? {}, changesState);
    } catch (error) {
      const failure = classifySoapFailure(operation, error, sent && changesState);
      cardSystemCalls.observe({ operation, outcome: failure.classification }, (Date.now() - started) / 1000);
      log[failure.isAboutTheCard ? 'info' : 'warn']('card system call failed', {
        ...context,
        durationMs: Date.now() - started,
        classification: failure.classification,
        reason: failure.reason,
        vendorCode: failure.vendorCode,
        code: failure.code,
      });
      throw failure;
    }
  }
}
