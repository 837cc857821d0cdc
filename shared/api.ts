/**
 * The mini-program API (`/api/v1`, DESIGN §6.1): request and response shapes shared by the BFF and the
 * mini-program. Amounts are integer fen; times are ISO-8601 strings. Errors use shared/errors.ts.
 */

export type Relation = 'SELF' | 'PARENT';
export type BindingStatus = 'ACTIVE' | 'LOST' | 'UNBOUND';
/** A parent's binding may wait for the card holder's approval (school setting). */
export type BindingApproval = 'NOT_REQUIRED' | 'PENDING' | 'APPROVED';
/** How the card was proven to be the user's own or their child's (README "Binding"). */
export type BindingProof =
  | 'ID_NUMBER'
  | 'PHONE'
  | 'GUARDIAN_PHONE'
  | 'STUDENT_NO'
  | 'ALIPAY_CERT'
  | 'ALIPAY_MOBILE'
  | 'ALIPAY_GUARDIAN_MOBILE';
export type CardStatus = 'NORMAL' | 'LOST' | 'FROZEN';
export type RechargeStatus = 'CREATED' | 'PAID' | 'CREDITED' | 'CREDIT_FAILED' | 'REFUNDED' | 'CLOSED';
export type AgreementStatus = 'NONE' | 'PENDING' | 'ACTIVE' | 'UNSIGNED' | 'FAILED';
export type DeductionStatus =
  'PENDING' | 'COLLECTED' | 'RETRYING' | 'ARREARS' | 'SETTLED' | 'REVERSED' | 'DECLINED' | 'WAIVED';

// POST /session
export interface SessionRequest {
  authCode: string;
}
export interface UserView {
  id: string;
}
export interface SessionResponse {
  token: string;
  /** Seconds until the token expires. */
  expiresIn: number;
  user: UserView;
}

// GET /schools?q=
export interface SchoolView {
  id: string;
  code: string;
  name: string;
  rechargeMinFen: number;
  rechargeMaxFen: number;
  withholdingEnabled: boolean;
  txnLimitFen: number;
  dailyLimitFen: number;
  /**
   * What the bind form asks besides card number and name: the ID number (or its last 6) or a phone when the
   * school has loaded a roster, otherwise the student number. One-tap binding works only with a roster.
   */
  bindProof: 'ROSTER' | 'STUDENT_NO';
}
export interface SchoolsResponse {
  items: SchoolView[];
}

// POST /bindings, GET /bindings, GET /bindings/:id
/**
 * Either a match from POST /bindings/lookup (`matchToken`, one tap), or the card number, the holder's name
 * and proof: `idNumber` (18 characters, or the last 6) or `phone` where the school has a roster, else
 * `studentNo`.
 */
export interface CreateBindingRequest {
  schoolId: string;
  matchToken?: string;
  cardNo?: string;
  /** The card holder's name, as printed on the card. */
  name?: string;
  relation?: Relation;
  idNumber?: string;
  phone?: string;
  studentNo?: string;
}
export interface BindingView {
  id: string;
  school: { id: string; name: string };
  cardNo: string;
  holderName: string;
  identity: 'STUDENT' | 'STAFF' | null;
  relation: Relation;
  status: BindingStatus;
  approval: BindingApproval;
  proof: BindingProof | null;
  /** This user pays the card's canteen swipes with Alipay withholding. */
  isWithholdingPayer: boolean;
  /** A message when the balance falls below this (PUT /bindings/:id/balance-alert); null: none. */
  lowBalanceFen: number | null;
  createdAt: string;
}
export interface BindingDetail extends BindingView {
  /** Live from the card system; null when it did not answer (then `balanceUnavailable` is true). */
  balanceFen: number | null;
  /** The card system's own status: a card frozen there shows as frozen whatever the binding says. */
  cardStatus: CardStatus | null;
  balanceUnavailable: boolean;
  /** Lost cards: whether 解挂 works here (the vendor offers it online); else the page says where to go. */
  canCancelLoss: boolean;
  /** The card in the Alipay card wallet (docs/membercard.md); null when the school does not offer it. */
  walletCard: WalletCardView | null;
}

/**
 * NOT_ADDED: in nobody's wallet yet; IN_MY_WALLET: in this Alipay user's; IN_OTHER_WALLET: another account
 * holds it (e.g. the student's own, seen by a parent).
 */
export type WalletCardState = 'NOT_ADDED' | 'IN_MY_WALLET' | 'IN_OTHER_WALLET';
export interface WalletCardView {
  state: WalletCardState;
  /** The claim link card management gives (领卡链接), for `my.addCardAuth`; null when none is configured. */
  claimUrl: string | null;
}

// POST /bindings/lookup: find one's cards in the school's roster, by what Alipay shares or by a typed ID.
export type RosterLookupRequest =
  | { schoolId: string; authCode: string }
  | { schoolId: string; name: string; idNumber: string; relation?: Relation };
export interface RosterMatch {
  /** Hand to POST /bindings { schoolId, matchToken } to bind with one tap (valid for 10 minutes). */
  matchToken: string | null;
  cardNoMasked: string;
  holderNameMasked: string;
  relation: Relation;
  proof: BindingProof;
  /** The user has already bound this card (no matchToken then). */
  isBound: boolean;
}
export interface RosterLookupResponse {
  matches: RosterMatch[];
  /** With an authCode: which of the two Alipay shared (both need a special permission). */
  shared: { certNo: boolean; mobile: boolean } | null;
}

// GET /bindings/:id/others (the holder), POST …/others/:otherId/approve, DELETE …/others/:otherId
export interface OtherBindingView {
  id: string;
  relation: Relation;
  status: BindingStatus;
  approval: BindingApproval;
  proof: BindingProof | null;
  isWithholdingPayer: boolean;
  createdAt: string;
}
export interface OtherBindingsResponse {
  items: OtherBindingView[];
}
export interface BindingsResponse {
  items: BindingView[];
}

// GET /bindings/:id/statement?from&to&page
/** CAMPUS_CODE: paid with the Alipay campus code at a campus device (DESIGN §7.5). */
/**
 * What a statement row is: the card system's own records (CONSUMPTION, and RECHARGE from other channels) and
 * ours (RECHARGE, WITHHOLDING swipes, REPAYMENT of arrears, REFUND, CAMPUS_CODE, …). New record kinds are
 * added by a statement source on the server (server/src/domain/cards/statement/sources.ts).
 */
export type StatementKind =
  'CONSUMPTION' | 'RECHARGE' | 'WITHHOLDING' | 'REPAYMENT' | 'REFUND' | 'CAMPUS_CODE' | 'TERMINAL_ORDER';
/** An accepted campus-code payment: being charged at Alipay, paid, failed (then owed), or repaid. */
export type CampusCodePaymentState = 'PENDING' | 'RETRYING' | 'PAID' | 'FAILED' | 'SETTLED';
export interface StatementEntry {
  /** `<source>:<key>`; GET /bindings/:id/statement/:entryId is its receipt. */
  id: string;
  occurredAt: string;
  kind: StatementKind;
  /** Negative for spending, positive for money put on the card or given back. */
  amountFen: number;
  /** Card balance after this entry, when the card system reports it. */
  balanceAfterFen: number | null;
  /** Canteen, terminal or channel by name, for people to recognise the entry. */
  place: string | null;
  /**
   * Our record's state, read with the kind (shared/format statementStatusLabel): a recharge CREATED…CREDITED,
   * a withholding swipe PENDING…COLLECTED/ARREARS/SETTLED, a campus-code payment PENDING…PAID/FAILED; null for
   * the card system's own records.
   */
  status: string | null;
  /** Our order number (the Alipay out_trade_no), when the record is ours. */
  orderNo: string | null;
}
export interface StatementResponse {
  entries: StatementEntry[];
  page: number;
  pageSize: number;
  hasMore: boolean;
  from: string;
  to: string;
  /** The card system had more records in the window than one statement reads: narrow the dates. */
  truncated: boolean;
  /** The longest window the card system allows, in days. */
  maxDays: number;
}

// GET /bindings/:id/statement/:entryId
export interface ReceiptEvent {
  at: string;
  /** A state or step of the record (shared/format receiptEventLabel), e.g. PAID, CREDITED, ATTEMPT. */
  event: string;
  /** e.g. Alipay's reason for a failed attempt. */
  detail: string | null;
}
export interface ReceiptView {
  id: string;
  kind: StatementKind;
  amountFen: number;
  occurredAt: string;
  status: string | null;
  /** Canteen, terminal or merchant by name. */
  place: string | null;
  cardNo: string;
  holderName: string;
  /** Our order number (Alipay out_trade_no) and Alipay's trade number, when Alipay moved money. */
  orderNo: string | null;
  alipayTradeNo: string | null;
  /** The card system's serial of its record, and the POS transaction / recharge flow number. */
  vendorSerial: string | null;
  reference: string | null;
  timeline: ReceiptEvent[];
}

// GET /bindings/:id/campus-code
/** What `my.navigateToMiniProgram` needs to open Alipay's campus code for the card's school. */
export interface CampusCodeEntry {
  appId: string;
  /** `query` is one URL-encoded string (ALIPAY-M2.md §5). */
  extraData: { query: string };
}

// POST /recharges, GET /recharges/:id
export interface CreateRechargeRequest {
  bindingId: string;
  amountFen: number;
}
export interface RechargeView {
  id: string;
  outTradeNo: string;
  /** Alipay trade number for `my.tradePay({ tradeNO })`. */
  tradeNo: string | null;
  bindingId: string;
  cardNo: string;
  amountFen: number;
  status: RechargeStatus;
  createdAt: string;
  paidAt: string | null;
  creditedAt: string | null;
}
export interface CreateRechargeResponse extends RechargeView {
  orderId: string;
  tradeNo: string;
}

// POST /withholding/sign, GET /withholding, PUT /withholding/cards, DELETE /withholding?schoolId=
/**
 * One agreement per payer and school covers the cards the payer chooses (a parent: several children), each
 * with the payer's own limits (at most the school's; absent = the school's).
 */
export interface WithholdingCardRequest {
  bindingId: string;
  txnLimitFen?: number;
  dailyLimitFen?: number;
}
/** `bindingId` alone is one card with the school's limits. */
export interface WithholdingSignRequest {
  bindingId?: string;
  cards?: WithholdingCardRequest[];
}
export interface WithholdingSignResponse {
  /** For `my.paySignCenter({ signStr })`. */
  signStr: string;
  agreementId: string;
  externalAgreementNo: string;
}
/** PUT /withholding/cards: change which cards an ACTIVE agreement covers, and their limits; no new signing. */
export interface WithholdingCardsRequest {
  schoolId: string;
  cards: WithholdingCardRequest[];
}
export interface WithholdingCardView {
  bindingId: string;
  cardNo: string;
  holderName: string;
  /** Turns true once the card system has bound the card for withholding (its swipes come to us). */
  isBoundAtCardSystem: boolean;
  /** The limits in force for this card: the payer's own, or the school's. */
  txnLimitFen: number;
  dailyLimitFen: number;
  /** Whether the payer set their own limits (false: the school's). */
  hasOwnLimits: boolean;
}
export interface WithholdingView {
  schoolId: string;
  status: AgreementStatus;
  agreementId: string | null;
  signedAt: string | null;
  /** The cards whose swipes this agreement pays. */
  cards: WithholdingCardView[];
  /** The school's limits, the most a payer may allow. */
  limits: { txnLimitFen: number; dailyLimitFen: number };
}
export interface WithholdingResponse {
  items: WithholdingView[];
}

// GET /debts, POST /debts/repay
/**
 * What is owed: a canteen swipe withholding could not collect (WITHHOLDING), or a campus-code payment
 * Alipay refused (CAMPUS_CODE: the device said "paid" offline, the charge failed afterwards).
 */
export type DebtKind = 'WITHHOLDING' | 'CAMPUS_CODE';
export interface DebtView {
  kind: DebtKind;
  school: { id: string; name: string };
  /** Whose card it was (a parent paying for several children sees which child). */
  holderName: string | null;
  /** The canteen or terminal by name. */
  place: string | null;
  /** Our id of the deduction or campus-code payment. */
  id: string;
  /** WITHHOLDING only; the same as `id`. */
  deductionId: string | null;
  txnNo: string;
  cardNo: string;
  amountFen: number;
  occurredAt: string;
  terminalId: string | null;
  /** RETRYING and ARREARS are withholding's; FAILED a campus-code payment's. */
  status: 'RETRYING' | 'ARREARS' | 'FAILED';
  attempts: number;
  /** Why Alipay did not pay it, e.g. ACQ.BUYER_BALANCE_NOT_ENOUGH. */
  lastErrorCode: string | null;
  nextAttemptAt: string | null;
}
export interface DebtsResponse {
  totalFen: number;
  items: DebtView[];
  /** An unpaid repayment already created, to reuse with my.tradePay. */
  pendingRepayment: { repaymentId: string; tradeNo: string | null; amountFen: number } | null;
  /** What is owed per school: a repayment settles one school's debts (POST /debts/repay { schoolId }). */
  schools: Array<{
    schoolId: string;
    schoolName: string;
    totalFen: number;
    count: number;
    pendingRepayment: { repaymentId: string; tradeNo: string | null; amountFen: number } | null;
  }>;
}
// POST /debts/repay
export interface RepayRequest {
  /** Needed only when the user owes at more than one school. */
  schoolId?: string;
}
export interface RepayResponse {
  repaymentId: string;
  tradeNo: string;
  amountFen: number;
}
export interface RepaymentView {
  id: string;
  amountFen: number;
  status: 'CREATED' | 'PAID' | 'CLOSED';
  tradeNo: string | null;
}

// GET /me
export interface MeResponse {
  user: UserView;
  bindings: BindingView[];
  withholding: WithholdingView[];
  debts: { totalFen: number; count: number };
}

// GET /message-subscriptions, POST /message-subscriptions { accepted: templateIds }
export type MessageKind =
  'RECHARGE_CREDITED' | 'WITHHOLDING_FAILED' | 'ARREARS' | 'BALANCE_LOW' | 'CARD_LOST' | 'CARD_BOUND';
export interface MessageSubscriptionView {
  kind: MessageKind;
  title: string;
  /** For my.requestSubscribeMessage({ entityIds }) (at most 3 per call). */
  templateId: string;
  isLongTerm: boolean;
  /** One-time templates: messages the user has allowed and not yet received; null for long-term ones. */
  remaining: number | null;
}
export interface MessageSubscriptionsView {
  kinds: MessageSubscriptionView[];
}
// PUT /bindings/:id/balance-alert
export interface BalanceAlertRequest {
  /** null turns the message off. */
  thresholdFen: number | null;
}

// ---- terminal orders in the mini-program (issue #15): the page a vending machine's QR opens ----------------

/** GET /api/v1/terminal-orders/:orderNo: what the payment page shows. */
export interface TerminalOrderPageView {
  orderNo: string;
  schoolName: string;
  terminal: { name: string; location: string | null; kind: 'VENDING' | 'CASHIER' };
  items: Array<{ name: string; quantity: number; unitFen: number }>;
  amountFen: number;
  /** PAYABLE until paid or expired; PAID_BY_ME once this person's payment went through. */
  state: 'PAYABLE' | 'PAID_BY_ME' | 'PAID' | 'CLOSED';
  expiresAt: string;
}
/**
 * POST /api/v1/me/phone { authCode } (an auth_user code): the mobile Alipay shares is kept (hashed and
 * encrypted) for schools that ask payers they do not know for it (PHONE_REQUIRED, seed 002 §1).
 */
export interface SharePhoneRequest {
  authCode: string;
}
export interface PhoneShareResponse {
  /** "138****5678". */
  phoneMasked: string;
}
/** POST /api/v1/terminal-orders/:orderNo/pay → the trade for my.tradePay. */
export interface TerminalPayResponse {
  orderNo: string;
  tradeNo: string;
}
/** GET /api/v1/terminal-payments: this person's paid terminal orders, newest first. */
export interface TerminalPaymentView {
  orderNo: string;
  terminalName: string;
  location: string | null;
  amountFen: number;
  paidAt: string;
  /** What came back for items the machine did not give out. */
  refundedFen: number;
}
export interface TerminalPaymentsResponse {
  items: TerminalPaymentView[];
}
