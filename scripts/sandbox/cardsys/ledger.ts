/**
 * The card vendor's books, in memory: schools, cards, records, recharge flows and Alipay bind docs.
 * Amounts are integer fen here; the vendor's yuan strings exist only on the SOAP wire (soap-service.ts).
 * Business refusals throw VendorRefusal with the vendor's own error code, which the SOAP layer turns into
 * a fault and the POS role into a declined swipe.
 */
import { randomBytes } from 'node:crypto';

export type CardIdentity = 'STUDENT' | 'STAFF';
export type CardStatus = 'NORMAL' | 'LOST' | 'FROZEN';
export type RecordType = 'CONSUMPTION' | 'RECHARGE';
export type PayChannel = 'CARD_BALANCE' | 'ALIPAY' | 'CASH';

export type VendorErrorCode =
  | 'AUTH_FAILED'
  | 'PARAM_ERROR'
  | 'CARD_NOT_EXIST'
  | 'CARD_LOST'
  | 'CARD_FROZEN'
  | 'AMOUNT_INVALID'
  | 'FLOW_NO_CONFLICT'
  | 'ALREADY_BOUND'
  | 'NOT_BOUND'
  | 'PASSWORD_ERROR'
  | 'BALANCE_NOT_ENOUGH';

export class VendorRefusal extends Error {
  override name = 'VendorRefusal';
  constructor(
    readonly code: VendorErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** The vendor's limit for one recharge: ¥10,000.00. */
export const MAX_RECHARGE_FEN = 1_000_000;

export interface CardRecord {
  serial: string;
  occurredAt: Date;
  type: RecordType;
  amountFen: number;
  balanceAfterFen: number;
  channel: PayChannel;
  place: string;
  terminalId: string;
  /** The caller's reference: the recharge flow number or the POS txnNo. */
  refNo: string;
}

export interface AlipayBindDoc {
  alipayUserId: string;
  password: string;
  boundAt: Date;
}

export interface Card {
  cardNo: string;
  name: string;
  identity: CardIdentity;
  status: CardStatus;
  balanceFen: number;
  studentNo: string | null;
  bind: AlipayBindDoc | null;
  records: CardRecord[];
}

export interface RechargeOutcome {
  cardNo: string;
  flowNo: string;
  amountFen: number;
  balanceAfterFen: number;
  serial: string;
  creditedAt: Date;
}

export interface School {
  code: string;
  name: string;
  username: string;
  password: string;
  cards: Map<string, Card>;
  rechargesByFlowNo: Map<string, RechargeOutcome>;
  /** Whether the vendor offers 解挂 (UnLoss) online; vendors without it have card holders go to a counter. */
  supportsUnLoss: boolean;
  /** Calls received per SOAP operation and WSDL downloads, for tests and benchmarks. */
  stats: { wsdlFetches: number; calls: Record<string, number> };
}

export class SandboxConflict extends Error {
  override name = 'SandboxConflict';
  constructor(
    message: string,
    readonly code: 'CONFLICT' | 'TXN_CONFLICT' = 'CONFLICT',
  ) {
    super(message);
  }
}

export class SandboxNotFound extends Error {
  override name = 'SandboxNotFound';
}

export class CardLedger {
  private readonly schools = new Map<string, School>();
  private serialSeq = 0;

  createSchool(input: {
    code: string;
    name: string;
    username?: string;
    password?: string;
    supportsUnLoss?: boolean;
  }): School {
    if (this.schools.has(input.code)) throw new SandboxConflict(`school ${input.code} already exists`);
    const school: School = {
      code: input.code,
      name: input.name,
      username: input.username ?? `ykt_${input.code.toLowerCase()}`,
      password: input.password ?? randomBytes(12).toString('base64url'),
      cards: new Map(),
      rechargesByFlowNo: new Map(),
      supportsUnLoss: input.supportsUnLoss ?? true,
      stats: { wsdlFetches: 0, calls: {} },
    };
    this.schools.set(school.code, school);
    return school;
  }

  listSchools(): School[] {
    return [...this.schools.values()];
  }

  findSchool(code: string): School | undefined {
    return this.schools.get(code);
  }

  school(code: string): School {
    const school = this.schools.get(code);
    if (!school) throw new SandboxNotFound(`no school ${code}`);
    return school;
  }

  createCard(
    schoolCode: string,
    input: {
      cardNo?: string;
      name: string;
      identity?: CardIdentity;
      status?: CardStatus;
      balanceFen?: number;
      studentNo?: string | null;
    },
  ): Card {
    const school = this.school(schoolCode);
    const cardNo = input.cardNo ?? this.freeCardNo(school);
    if (school.cards.has(cardNo)) throw new SandboxConflict(`card ${cardNo} already exists`);
    const identity = input.identity ?? 'STUDENT';
    const card: Card = {
      cardNo,
      name: input.name,
      identity,
      status: input.status ?? 'NORMAL',
      balanceFen: input.balanceFen ?? 0,
      studentNo: input.studentNo !== undefined ? input.studentNo : identity === 'STUDENT' ? cardNo : null,
      bind: null,
      records: [],
    };
    school.cards.set(cardNo, card);
    return card;
  }

  /** A card for the control API: unknown is a 404, not a vendor refusal. */
  card(schoolCode: string, cardNo: string): Card {
    const card = this.school(schoolCode).cards.get(cardNo);
    if (!card) throw new SandboxNotFound(`no card ${cardNo} in school ${schoolCode}`);
    return card;
  }

  /** A card for a vendor operation: unknown is the vendor's CARD_NOT_EXIST. */
  vendorCard(school: School, cardNo: string): Card {
    const card = school.cards.get(cardNo);
    if (!card) throw new VendorRefusal('CARD_NOT_EXIST', '卡号不存在');
    return card;
  }

  setBalance(schoolCode: string, cardNo: string, balanceFen: number): Card {
    const card = this.card(schoolCode, cardNo);
    card.balanceFen = balanceFen;
    return card;
  }

  setStatus(schoolCode: string, cardNo: string, status: CardStatus): Card {
    const card = this.card(schoolCode, cardNo);
    card.status = status;
    return card;
  }

  /**
   * Idempotent on the flow number: a repeat returns the first outcome and credits nothing; the same flow
   * number for another card or amount is refused. A lost card can still be credited (the money belongs
   * to the account, not the plastic); a frozen one cannot.
   */
  recharge(
    school: School,
    input: { cardNo: string; amountFen: number; flowNo: string },
    now: Date,
  ): RechargeOutcome {
    const earlier = school.rechargesByFlowNo.get(input.flowNo);
    if (earlier) {
      if (earlier.cardNo !== input.cardNo || earlier.amountFen !== input.amountFen) {
        throw new VendorRefusal('FLOW_NO_CONFLICT', '流水号已使用且卡号或金额不一致');
      }
      return earlier;
    }
    const card = this.vendorCard(school, input.cardNo);
    if (card.status === 'FROZEN') throw new VendorRefusal('CARD_FROZEN', '卡已冻结');
    if (input.amountFen <= 0 || input.amountFen > MAX_RECHARGE_FEN) {
      throw new VendorRefusal('AMOUNT_INVALID', '充值金额超出范围');
    }
    card.balanceFen += input.amountFen;
    const record = this.addRecord(card, {
      occurredAt: now,
      type: 'RECHARGE',
      amountFen: input.amountFen,
      channel: 'ALIPAY',
      place: '支付宝充值',
      terminalId: '',
      refNo: input.flowNo,
    });
    const outcome: RechargeOutcome = {
      cardNo: card.cardNo,
      flowNo: input.flowNo,
      amountFen: input.amountFen,
      balanceAfterFen: record.balanceAfterFen,
      serial: record.serial,
      creditedAt: now,
    };
    school.rechargesByFlowNo.set(input.flowNo, outcome);
    return outcome;
  }

  /**
   * Binding the same Alipay user again replaces the password (the platform may have retried with a fresh
   * one after a timeout); another Alipay user is refused until the card is unbound.
   */
  bindAlipay(
    school: School,
    input: { cardNo: string; alipayUserId: string; password: string },
    now: Date,
  ): Card {
    const card = this.vendorCard(school, input.cardNo);
    if (card.status === 'LOST') throw new VendorRefusal('CARD_LOST', '卡已挂失');
    if (card.status === 'FROZEN') throw new VendorRefusal('CARD_FROZEN', '卡已冻结');
    if (card.bind && card.bind.alipayUserId !== input.alipayUserId) {
      throw new VendorRefusal('ALREADY_BOUND', '该卡已绑定其他支付宝账户');
    }
    card.bind = {
      alipayUserId: input.alipayUserId,
      password: input.password,
      boundAt: card.bind?.alipayUserId === input.alipayUserId ? card.bind.boundAt : now,
    };
    return card;
  }

  /** Unbinding needs the bind password; allowed on lost cards, since that is when people unbind. */
  unbindAlipay(school: School, input: { cardNo: string; password: string }): Card {
    const card = this.vendorCard(school, input.cardNo);
    if (!card.bind) throw new VendorRefusal('NOT_BOUND', '该卡未绑定支付宝');
    if (card.bind.password !== input.password) throw new VendorRefusal('PASSWORD_ERROR', '绑定密码错误');
    card.bind = null;
    return card;
  }

  /** Repeating a loss report is harmless; a frozen card is held by the school and cannot be reported. */
  reportLoss(school: School, cardNo: string): Card {
    const card = this.vendorCard(school, cardNo);
    if (card.status === 'FROZEN') throw new VendorRefusal('CARD_FROZEN', '卡已冻结');
    card.status = 'LOST';
    return card;
  }

  /** 解挂: a lost card is usable again; a normal one stays normal; a frozen one is the school's to release. */
  cancelLoss(school: School, cardNo: string): Card {
    const card = this.vendorCard(school, cardNo);
    if (card.status === 'FROZEN') throw new VendorRefusal('CARD_FROZEN', '卡已冻结');
    card.status = 'NORMAL';
    return card;
  }

  /** Records between two instants (both inclusive), newest first, one page. */
  statement(
    school: School,
    input: { cardNo: string; from: Date; to: Date; page: number; pageSize: number },
  ): { total: number; records: CardRecord[] } {
    const card = this.vendorCard(school, input.cardNo);
    const inRange = card.records
      .filter((r) => r.occurredAt >= input.from && r.occurredAt <= input.to)
      .sort((a, b) => b.occurredAt.getTime() - a.occurredAt.getTime() || b.serial.localeCompare(a.serial));
    const start = (input.page - 1) * input.pageSize;
    return { total: inRange.length, records: inRange.slice(start, start + input.pageSize) };
  }

  /** The POS's own logic for a sale paid from the card balance. */
  debitForSale(
    school: School,
    input: { cardNo: string; amountFen: number; terminalId: string; place: string; txnNo: string },
    now: Date,
  ): CardRecord {
    const card = this.vendorCard(school, input.cardNo);
    if (card.status === 'LOST') throw new VendorRefusal('CARD_LOST', '卡已挂失');
    if (card.status === 'FROZEN') throw new VendorRefusal('CARD_FROZEN', '卡已冻结');
    if (card.balanceFen < input.amountFen) throw new VendorRefusal('BALANCE_NOT_ENOUGH', '余额不足');
    card.balanceFen -= input.amountFen;
    return this.addRecord(card, {
      ...input,
      occurredAt: now,
      type: 'CONSUMPTION',
      refNo: input.txnNo,
      channel: 'CARD_BALANCE',
    });
  }

  /** A sale the platform approved: Alipay pays, the card balance is left alone. */
  recordAlipaySale(
    school: School,
    input: { cardNo: string; amountFen: number; terminalId: string; place: string; txnNo: string },
    now: Date,
  ): CardRecord {
    const card = this.vendorCard(school, input.cardNo);
    return this.addRecord(card, {
      ...input,
      occurredAt: now,
      type: 'CONSUMPTION',
      refNo: input.txnNo,
      channel: 'ALIPAY',
    });
  }

  reset(): void {
    this.schools.clear();
  }

  /**
   * Reconciliation faults (control API): a credit the vendor "lost" (record, balance and flow number gone, so
   * a re-credit with the same flow number credits again), recorded twice (a second record, balance twice) or
   * booked with another amount (its record and the balance moved to `amountFen`).
   */
  tamperCredit(
    schoolCode: string,
    flowNo: string,
    how: 'DROP' | 'DOUBLE' | 'AMOUNT',
    now: Date,
    amountFen = 0,
  ): Card {
    const school = this.school(schoolCode);
    const credit = school.rechargesByFlowNo.get(flowNo);
    if (!credit) throw new SandboxNotFound(`no credit with flow number ${flowNo} in school ${schoolCode}`);
    const card = this.card(schoolCode, credit.cardNo);
    if (how === 'AMOUNT') {
      const record = card.records.find((r) => r.type === 'RECHARGE' && r.refNo === flowNo);
      if (record) {
        card.balanceFen += amountFen - record.amountFen;
        record.amountFen = amountFen;
      }
    } else if (how === 'DROP') {
      card.records = card.records.filter((r) => !(r.type === 'RECHARGE' && r.refNo === flowNo));
      card.balanceFen -= credit.amountFen;
      school.rechargesByFlowNo.delete(flowNo);
    } else {
      card.balanceFen += credit.amountFen;
      this.addRecord(card, {
        occurredAt: now,
        type: 'RECHARGE',
        amountFen: credit.amountFen,
        channel: 'ALIPAY',
        place: '支付宝充值',
        terminalId: '',
        refNo: flowNo,
      });
    }
    return card;
  }

  private addRecord(card: Card, input: Omit<CardRecord, 'serial' | 'balanceAfterFen'>): CardRecord {
    const record: CardRecord = {
      serial: this.nextSerial(input.occurredAt),
      occurredAt: input.occurredAt,
      type: input.type,
      amountFen: input.amountFen,
      balanceAfterFen: card.balanceFen,
      channel: input.channel,
      place: input.place,
      terminalId: input.terminalId,
      refNo: input.refNo,
    };
    card.records.push(record);
    return record;
  }

  /** Vendor serials look like 2024030112000100001: date-time then a sequence. */
  private nextSerial(at: Date): string {
    this.serialSeq = (this.serialSeq + 1) % 100_000;
    const stamp = new Date(at.getTime() + 8 * 3600_000).toISOString().replace(/\D/g, '').slice(0, 14);
    return `${stamp}${this.serialSeq.toString().padStart(5, '0')}`;
  }

  private freeCardNo(school: School): string {
    for (;;) {
      const candidate = `2${Math.floor(Math.random() * 1e9)
        .toString()
        .padStart(9, '0')}`;
      if (!school.cards.has(candidate)) return candidate;
    }
  }
}
