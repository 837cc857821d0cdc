/**
 * JSON shapes of the control API (`/control/*`), shared by the routes and AlipaySandboxControl.
 * Stable: the dev launcher, benchmarks and the mini-program test harness build on them (docs/sandbox.md).
 * Money is integer fen; times are ISO-8601 instants on the sandbox clock.
 */
import type { ApiFaultSpec, NotifyFaultSpec } from './faults.js';
import type { NotificationRecord } from './notify/notifier.js';

export type { ApiFaultSpec, NotifyFaultSpec, NotificationRecord };

export type IdMode = 'open_id' | 'user_id' | 'both';
export type AuthScope = 'auth_base' | 'auth_user';

export interface RegisterAppRequest extends AppSettingsRequest {
  /** 16 digits; generated when absent. */
  appId?: string;
  /** The app's RSA2 public key: PEM or the bare base64 body. */
  publicKey: string;
  idMode?: IdMode;
  name?: string;
}

/** The open platform console's settings of an app. */
export interface AppSettingsRequest {
  /** 应用网关: where open_app_auth_notify and subscribed messages go ('' clears it). */
  appGatewayUrl?: string;
  /** Subscribed message topics (msg_method), e.g. alipay.open.auth.appauth.cancelled. */
  messageTopics?: string[];
  /** 授权回调地址: when set, authorization links must use exactly this redirect_uri ('' clears it). */
  authRedirectUri?: string;
}

export interface AppView {
  appId: string;
  name: string;
  idMode: IdMode;
  /** The app's merchant PID: seller_id of its trades. */
  sellerId: string;
  appGatewayUrl?: string;
  messageTopics: string[];
  authRedirectUri?: string;
}

/** The merchant (school) withdraws its authorization of an ISV app inside Alipay. */
export interface CancelAuthorizationRequest {
  isvAppId: string;
  /** The merchant's app id (auth_app_id). */
  authAppId: string;
}

export interface CancelAuthorizationView {
  revokedTokens: number;
  /** Whether the alipay.open.auth.appauth.cancelled message went to the ISV app's gateway. */
  notified: boolean;
}

/** What the authorization page did: the redirect a browser would follow to the ISV's callback. */
export interface LinkAuthorizationView {
  redirectUrl: string;
  appAuthCode: string;
}

export interface MerchantAuthorizationRequest {
  /** The ISV app that will call alipay.open.auth.token.app and then act with the app_auth_token. */
  isvAppId: string;
  /** The school's (merchant's) own app id: auth_app_id. Generated when absent; an existing app's merchant is reused. */
  merchantAppId?: string;
  merchantName?: string;
  ttlSeconds?: number;
}

export interface MerchantAuthorizationView {
  appAuthCode: string;
  isvAppId: string;
  authAppId: string;
  /** The merchant's PID: seller_id of trades made with its app_auth_token. */
  sellerId: string;
  merchantName: string;
  expiresAt: string;
}

export interface CreateUserRequest {
  balanceFen?: number;
  /** A chosen user_id (2088 + 12 digits); 409 when taken. Generated when absent. */
  userId?: string;
  logonId?: string;
  nickName?: string;
  avatar?: string;
  gender?: 'F' | 'M';
  province?: string;
  city?: string;
  /** The account's certified resident ID number and mobile; shared only once granted (shared-info). */
  certNo?: string;
  mobile?: string;
}

/**
 * Marks what the user lets this platform read through alipay.user.info.share: `cert_no` and `mobile`
 * need a special permission in real Alipay (ALIPAY.md §4.2); here a test or a person grants them.
 */
export interface SharedInfoRequest {
  certNo?: boolean;
  mobile?: boolean;
}

export interface UserView {
  userId: string;
  logonId: string;
  balanceFen: number;
  nickName?: string;
  /** The user's open_id in every registered app (open_id is app-scoped). */
  openIds: Record<string, string>;
  shares: { certNo: boolean; mobile: boolean };
}

export interface AuthCodeRequest {
  userId: string;
  appId: string;
  scopes?: AuthScope | AuthScope[];
  ttlSeconds?: number;
}

/** The shape my.getAuthCode's success callback gets. */
export interface AuthCodeView {
  authCode: string;
  authSuccessScopes: AuthScope[];
  expiresAt: string;
}

export interface PaymentCodeRequest {
  userId: string;
  ttlSeconds?: number;
}

export interface PaymentCodeView {
  /** `auth_code` for alipay.trade.pay scene=bar_code: 18 digits starting with 25–30, single use. */
  authCode: string;
  userId: string;
  expiresAt: string;
}

/** A campus code (校园码) for a user at a school: what the decoding SDK of a campus device gets from it. */
export interface CampusCodeRequest {
  userId: string;
  /** The school's national 10-digit code (school_no). */
  schoolCode: string;
  studentNo: string;
  studentName: string;
  /** data_formwork_id: 4 (with identify_id, the default) or 5. */
  templateId?: 4 | 5;
  /** How student_name is encoded: GB2312 (default) or UTF-8. */
  encodeType?: 'GB2312' | 'UTF-8';
  /** Template 4's electronic student card id; default `E` + the student number. */
  identifyId?: string;
  /** card_type 0–15; default 0. */
  cardType?: number;
  /**
   * When the phone made the code (in_use_time), ISO: default the sandbox clock's now. An earlier time acts out
   * a device that scanned the code then and uploads it days later (at most 30 days back, never ahead).
   */
  madeAt?: string;
}

/** The decoding SDK's outputs (seed 001 §6); byte fields are base64. */
export interface CampusCodeView {
  userId: string;
  /** final_data: what the device uploads and trade.pay takes as auth_code. */
  finalData: string;
  userData: string;
  templateId: 4 | 5;
  /** data_formwork_id as the SDK hands it out: 4 bytes, big-endian. */
  templateIdBytes: string;
  encodeType: 'GB2312' | 'UTF-8';
  /** in_use_time in ms, and as the SDK hands it out: 8 bytes, big-endian. */
  inUseTime: number;
  inUseTimeBytes: string;
  /** After this, trade.pay refuses the code (10 days on the sandbox clock). */
  expiresAt: string;
}

export interface PayTradeRequest {
  /** trade_no from alipay.trade.create (my.tradePay's `tradeNO`). */
  tradeNO: string;
  /** The paying user: userId, or openId in the trade's app. */
  userId?: string;
  openId?: string;
  /** pay (default); cancel: the user closes the cashier (6001); fail: the payment fails (4000). */
  action?: 'pay' | 'cancel' | 'fail';
  /** After paying, report this resultCode instead of 9000 (e.g. 6002/8000: paid, but the client does not know). */
  reportResultCode?: string;
}

/** The shape my.tradePay's success callback gets, plus a sandbox memo. */
export interface PayTradeResult {
  resultCode: string;
  memo?: string;
}

/** Scanning a precreate qr_code with the Alipay app's camera, then paying (or leaving, or failing). */
export interface ScanQrRequest {
  qrCode: string;
  userId?: string;
  openId?: string;
  /** pay (default); cancel: the cashier opens and the person leaves (the trade exists, unpaid); fail. */
  action?: 'pay' | 'cancel' | 'fail';
}

export interface ScanQrResult extends PayTradeResult {
  tradeNo?: string;
  outTradeNo?: string;
}

export interface CreateMerchantRequest {
  name?: string;
}

/** Any account's balance: a user or a merchant (a seller, a royalty receiver). */
export interface AccountView {
  accountId: string;
  kind: 'user' | 'merchant';
  name?: string;
  balanceFen: number;
  /** Merchants: the part of the balance frozen by royalty_freeze trades until their split finishes. */
  frozenFen?: number;
}

export interface SignAgreementRequest {
  /** Exactly what the server hands to my.paySignCenter: encodeURIComponent(sdkExecute(...page.sign...)). */
  signStr: string;
  userId: string;
  /** sign (default, 7000), cancel (user leaves, 6001), deny (signing fails, 7002). */
  action?: 'sign' | 'cancel' | 'deny';
}

export interface SignAgreementResult {
  resultStatus: '7000' | '6001' | '7002';
  result: string;
  memo?: string;
  agreementNo?: string;
}

export interface UnsignAgreementResult {
  agreementNo: string;
  status: 'UNSIGN';
}

export interface FaultView {
  id: string;
  kind: 'api' | 'notify';
  spec: ApiFaultSpec | NotifyFaultSpec;
  /** Firings left (absent: unlimited, rate-based). */
  remaining?: number;
  hits: number;
}

export interface ClockView {
  /** Sandbox time in Alipay's Beijing format. */
  beijingTime: string;
  iso: string;
  offsetMs: number;
}

export interface AdvanceClockRequest {
  ms?: number;
  seconds?: number;
  minutes?: number;
  hours?: number;
  days?: number;
}

export interface ResetRequest {
  /** Also forget apps registered at start-up or through the control API (default false). */
  apps?: boolean;
}

export interface LedgerFilter {
  outTradeNo?: string;
  tradeNo?: string;
  userId?: string;
  agreementNo?: string;
  appId?: string;
  notifyType?: string;
}

export interface RefundView {
  tradeNo: string;
  outTradeNo: string;
  outRequestNo: string;
  amountFen: number;
  reason?: string;
  refundedAt: string;
  byCancel: boolean;
}

export interface SettlementView {
  settleNo: string;
  outRequestNo?: string;
  source: 'royalty_info' | 'trade.order.settle';
  amountFen: number;
  finish: boolean;
  receivers: Array<{ transIn: string; transInType: string; userId: string; amountFen: number }>;
  at: string;
  mode: 'sync' | 'async';
  state: 'PROCESSING' | 'SUCCESS' | 'FAIL';
}

/** Royalty a refund took back from a receiver (ALIPAY-M2.md §2). */
export interface RoyaltyReturnView {
  outRequestNo: string;
  accountId: string;
  amountFen: number;
  how: 'auto' | 'requested';
}

export interface TradeView {
  tradeNo: string;
  outTradeNo: string;
  appId: string;
  authAppId: string;
  sellerId: string;
  createdBy: string;
  productCode: string;
  status: 'WAIT_BUYER_PAY' | 'TRADE_SUCCESS' | 'TRADE_FINISHED' | 'TRADE_CLOSED';
  totalFen: number;
  refundedFen: number;
  settledFen: number;
  /** Paid with royalty_freeze and not split or released yet (royalty_finish). */
  frozenFen: number;
  subject: string;
  buyerUserId?: string;
  agreementNo?: string;
  notifyUrl?: string;
  createdAt: string;
  paidAt?: string;
  closedAt?: string;
  expiresAt?: string;
  refunds: RefundView[];
  settlements: SettlementView[];
  royaltyReturns: RoyaltyReturnView[];
  terminalId?: string;
  qrCode?: string;
}

export interface AgreementView {
  agreementNo: string;
  externalAgreementNo?: string;
  status: 'NORMAL' | 'UNSIGN';
  userId: string;
  appId: string;
  authAppId: string;
  personalProductCode: string;
  signScene: string;
  signTime: string;
  unsignTime?: string;
  notifyUrl?: string;
}

export interface MerchantView {
  sellerId: string;
  authAppId: string;
  name: string;
  balanceFen: number;
}

export interface Ledger {
  clock: ClockView;
  users: UserView[];
  merchants: MerchantView[];
  trades: TradeView[];
  refunds: RefundView[];
  agreements: AgreementView[];
  notifications: NotificationRecord[];
}

export interface ControlErrorBody {
  error: { code: string; message: string };
}

/** POST /control/bills/corruptions: spoil one merchant's bill of one day (reconciliation tests). */
export interface BillCorruptionRequest {
  /** The merchant PID whose bill it is (the school's seller_id). */
  sellerId: string;
  /** yyyy-MM-dd */
  billDate: string;
  /**
   * DROP the rows of outTradeNo; change its trade row's AMOUNT or ROYALTY (分润) to amountFen; add a STRANGER's
   * trade (with outRequestNo: a refund of outTradeNo nobody asked for, of amountFen).
   */
  kind: 'DROP' | 'AMOUNT' | 'ROYALTY' | 'STRANGER';
  outTradeNo?: string;
  /**
   * DROP / AMOUNT / ROYALTY only the refund row of outTradeNo with this out_request_no (AMOUNT: the amount
   * refunded; ROYALTY: the royalty it took back).
   */
  outRequestNo?: string;
  amountFen?: number;
}

export interface BillCorruptionView {
  id: string;
  sellerPid: string;
  billDate: string;
  kind: 'DROP' | 'AMOUNT' | 'ROYALTY' | 'STRANGER';
  outTradeNo?: string;
  outRequestNo?: string;
  amountFen?: number;
}

/** Registers a subscription-message template the mini-program uses (as chosen in the merchant console). */
export interface MessageTemplateRequest {
  templateId: string;
  /** keyword1 … keywordN. */
  keywords: number;
  longTerm?: boolean;
}

/** The user answers my.requestSubscribeMessage({ entityIds: templateIds }). */
export interface SubscribeRequest {
  userId: string;
  templateIds: string[];
  /** default accept */
  answer?: 'accept' | 'reject';
}

export interface SentMessageView {
  msgNo: string;
  appId: string;
  authAppId: string;
  userId: string;
  templateId: string;
  page: string | null;
  /** keyword1 … keywordN → value. */
  data: Record<string, string>;
  sentAt: string;
}
