/**
 * What the platform needs from a school's campus card system (seed 000 §1.2, §2.2–2.6; DESIGN §7.2–7.3),
 * in our units: amounts in integer fen, times as Date, our own enums. A vendor's protocol lives behind an
 * implementation of this interface (the SOAP one is in soap/); nothing outside this folder sees it.
 * Every method either resolves with a typed result or rejects with a CardSystemError.
 */

export type CardHolderIdentity = 'STUDENT' | 'STAFF';
export type CardStatus = 'NORMAL' | 'LOST' | 'FROZEN';

/** How to reach one school's card system; the server builds it from the `schools` row. */
export interface CardSystemConnection {
  endpoint: string;
  username: string;
  password: string;
  /** Deadline for one call, connect to last byte. Default 8000 ms. */
  timeoutMs?: number;
  /** The vendor's longest statement window in days. Default 366. */
  statementMaxDays?: number;
}

export interface CardHolder {
  cardNo: string;
  holderName: string;
  identity: CardHolderIdentity;
  status: CardStatus;
  studentNo: string | null;
  balanceFen: number;
  /** Whether the vendor holds an Alipay bind doc for the card (anyone's). */
  isBoundToAlipay: boolean;
}

export interface CardBalance {
  cardNo: string;
  balanceFen: number;
}

export interface RechargeInput {
  cardNo: string;
  amountFen: number;
  /** Our recharge order number. The vendor credits a flow number once, so a retry with it is safe. */
  flowNo: string;
}

export interface CardRecharge {
  cardNo: string;
  flowNo: string;
  amountFen: number;
  balanceAfterFen: number;
  /** The vendor's serial of the credit, for reconciliation. */
  vendorSerial: string;
  creditedAt: Date;
}

export interface BindAlipayInput {
  cardNo: string;
  alipayUserId: string;
  /** The random bind password we keep (encrypted) to unbind later (seed 000 §2.2). */
  password: string;
}

export interface AlipayBinding {
  cardNo: string;
  alipayUserId: string;
  boundAt: Date;
}

export interface UnbindAlipayInput {
  cardNo: string;
  password: string;
}

export interface AlipayUnbinding {
  cardNo: string;
  /** false when the vendor had no bind doc any more (e.g. a retry after a lost answer): the goal is met. */
  wasBound: boolean;
  unboundAt: Date | null;
}

export interface StatementQuery {
  cardNo: string;
  /** Both ends inclusive, second precision. */
  from: Date;
  to: Date;
  /** 1-based. */
  page: number;
  /** 1..100. */
  pageSize: number;
}

export type CardRecordKind = 'CONSUMPTION' | 'RECHARGE';
/** CARD_BALANCE: paid from the card; ALIPAY: paid through Alipay (withholding or recharge). */
export type CardPaymentChannel = 'CARD_BALANCE' | 'ALIPAY' | 'CASH' | 'OTHER';

export interface CardRecord {
  vendorSerial: string;
  occurredAt: Date;
  kind: CardRecordKind;
  /** Always positive; `kind` says which way the money went. */
  amountFen: number;
  balanceAfterFen: number;
  channel: CardPaymentChannel;
  place: string | null;
  terminalId: string | null;
  /** Recharge flow number or POS txnNo, when the vendor reports it. */
  referenceNo: string | null;
}

export interface CardStatement {
  cardNo: string;
  page: number;
  pageSize: number;
  total: number;
  /** Newest first. */
  records: CardRecord[];
}

export interface RechargeLookup {
  cardNo: string;
  /** Our order number, which the vendor keeps as the record's reference (RefNo). */
  flowNo: string;
  /** The window to search, wide enough for the vendor's clock: both ends inclusive. */
  from: Date;
  to: Date;
}

/** A credit found in the vendor's records. */
export interface RechargeRecord {
  cardNo: string;
  flowNo: string;
  amountFen: number;
  vendorSerial: string;
  creditedAt: Date;
}

export interface LossReport {
  cardNo: string;
  status: CardStatus;
  reportedAt: Date;
}

export interface CardSystem {
  /** The longest window one statement query may span, in days (the vendor's rule). */
  readonly statementMaxDays: number;
  /**
   * Gets ready for calls ahead of the first one (the SOAP vendor's WSDL downloaded and parsed), so that the
   * first credits after a worker starts do not wait for it. Sends no operation; a failure leaves things as
   * they were (the next call tries again) and is a CardSystemError.
   */
  prepare(): Promise<void>;
  /** GetPersonInfo: who holds the card, its status and balance. Binding checks name and status with it. */
  getCardHolder(cardNo: string): Promise<CardHolder>;
  /** The live balance (from GetPersonInfo for the SOAP vendor). */
  getBalance(cardNo: string): Promise<CardBalance>;
  /** Recharge: credits once per flow number; a repeat returns the first credit. */
  recharge(input: RechargeInput): Promise<CardRecharge>;
  /**
   * Whether the vendor credited this flow number: its records searched for a recharge with our reference
   * (GetPersonDetails for the SOAP vendor). null only when the whole window was searched; a vendor that
   * cannot be asked, or a window too full to search, is a CardSystemError.
   */
  findRecharge(lookup: RechargeLookup): Promise<RechargeRecord | null>;
  /** ZFB_BindDoc: records the Alipay user and our bind password on the card. */
  bindAlipay(input: BindAlipayInput): Promise<AlipayBinding>;
  /** ZFB_UnBindDoc: removes the bind doc; a wrong password is refused. */
  unbindAlipay(input: UnbindAlipayInput): Promise<AlipayUnbinding>;
  /** GetPersonDetails: consumption and recharge records, one page. */
  getStatement(query: StatementQuery): Promise<CardStatement>;
  /** Loss: marks the card lost. Repeating it is harmless. */
  reportLoss(cardNo: string): Promise<LossReport>;
  /** Whether the vendor offers 解挂 online (cancelLoss); vendors without it send holders to a counter. */
  supportsCancelLoss(): Promise<boolean>;
  /** 解挂: a lost card is usable again. NOT_SUPPORTED (final) where the vendor does not offer it. */
  cancelLoss(cardNo: string): Promise<LossReport>;
}
