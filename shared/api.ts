/**
 * The mini-program API (`/api/v1`, DESIGN §6.1): request and response shapes shared by the BFF and the
 * mini-program. Amounts are integer fen; times are ISO-8601 strings. Errors use shared/errors.ts.
 */

export type Relation = 'SELF' | 'PARENT';
export type BindingStatus = 'ACTIVE' | 'LOST' | 'UNBOUND';
export type CardStatus = 'NORMAL' | 'LOST' | 'FROZEN';
export type RechargeStatus = 'CREATED' | 'PAID' | 'CREDITED' | 'CREDIT_FAILED' | 'REFUNDED' | 'CLOSED';
export type AgreementStatus = 'NONE' | 'PENDING' | 'ACTIVE' | 'UNSIGNED' | 'FAILED';
export type DeductionStatus =
  'PENDING' | 'COLLECTED' | 'RETRYING' | 'ARREARS' | 'SETTLED' | 'REVERSED' | 'DECLINED';

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
}
export interface SchoolsResponse {
  items: SchoolView[];
}

// POST /bindings, GET /bindings, GET /bindings/:id
export interface CreateBindingRequest {
  schoolId: string;
  cardNo: string;
  /** The card holder's name, as printed on the card. */
  name: string;
  relation: Relation;
}
export interface BindingView {
  id: string;
  school: { id: string; name: string };
  cardNo: string;
  holderName: string;
  identity: 'STUDENT' | 'STAFF' | null;
  relation: Relation;
  status: BindingStatus;
  /** This user pays the card's canteen swipes with Alipay withholding. */
  isWithholdingPayer: boolean;
  createdAt: string;
}
export interface BindingDetail extends BindingView {
  /** Live from the card system; null when it did not answer (then `balanceUnavailable` is true). */
  balanceFen: number | null;
  cardStatus: CardStatus | null;
  balanceUnavailable: boolean;
}
export interface BindingsResponse {
  items: BindingView[];
}

// GET /bindings/:id/statement?from&to&page
export type StatementKind = 'CONSUMPTION' | 'RECHARGE' | 'WITHHOLDING';
export interface StatementEntry {
  id: string;
  occurredAt: string;
  kind: StatementKind;
  /** Negative for spending, positive for money put on the card. */
  amountFen: number;
  /** Card balance after this entry, when the card system reports it. */
  balanceAfterFen: number | null;
  /** Canteen, terminal or channel, for people to recognise the entry. */
  place: string | null;
  /** Our recharge orders carry their state (a paid order not yet on the card shows as PAID). */
  rechargeStatus?: RechargeStatus;
  orderId?: string;
}
export interface StatementResponse {
  entries: StatementEntry[];
  page: number;
  pageSize: number;
  hasMore: boolean;
  from: string;
  to: string;
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

// POST /withholding/sign, GET /withholding, DELETE /withholding?schoolId= (answers the ended WithholdingView)
export interface WithholdingSignRequest {
  bindingId: string;
}
export interface WithholdingSignResponse {
  /** For `my.paySignCenter({ signStr })`. */
  signStr: string;
  agreementId: string;
  externalAgreementNo: string;
}
export interface WithholdingView {
  schoolId: string;
  status: AgreementStatus;
  agreementId: string | null;
  signedAt: string | null;
  /** The card whose swipes this agreement pays; `isBoundAtCardSystem` turns true once the card system has bound it. */
  card: { bindingId: string; cardNo: string; holderName: string; isBoundAtCardSystem: boolean } | null;
  limits: { txnLimitFen: number; dailyLimitFen: number };
}
export interface WithholdingResponse {
  items: WithholdingView[];
}

// GET /debts, POST /debts/repay
export interface DebtView {
  deductionId: string;
  txnNo: string;
  cardNo: string;
  amountFen: number;
  occurredAt: string;
  terminalId: string | null;
  status: 'RETRYING' | 'ARREARS';
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
