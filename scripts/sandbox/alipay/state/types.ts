import type { KeyObject } from 'node:crypto';

/** How an app identifies users (ALIPAY.md §4.1 "The openid migration"). `both` is the migration phase. */
export type IdMode = 'open_id' | 'user_id' | 'both';

/** A merchant account (PID) that receives money: seller_id in trades and notifications. */
export interface Merchant {
  pid: string;
  /** The merchant's own app id: `auth_app_id` in notifications (ALIPAY.md §1.5). */
  appId: string;
  name: string;
  email: string;
  balanceFen: number;
  accountEntries: AccountEntry[];
}

/** One line of the merchant's account statement (the `signcustomer` bill, ALIPAY.md §4.14). */
export interface AccountEntry {
  entryNo: string;
  bizNo: string;
  outTradeNo: string;
  subject: string;
  at: Date;
  counterparty: string;
  amountFen: number;
  balanceAfterFen: number;
  bizType: '交易' | '退款' | '分账';
  memo: string;
}

export interface RegisteredApp {
  appId: string;
  name: string;
  publicKey: KeyObject;
  publicKeyPem: string;
  idMode: IdMode;
  /** The merchant behind the app; ISV calls with an app_auth_token act for another merchant instead. */
  merchant: Merchant;
  /** 应用网关: where Alipay sends this app's open_app_auth_notify and subscribed messages. */
  appGatewayUrl?: string;
  /** Message topics (msg_method) the app subscribed to, e.g. alipay.open.auth.appauth.cancelled. */
  messageTopics: Set<string>;
  /** 授权回调地址: when set, an authorization link's redirect_uri must equal it exactly. */
  authRedirectUri?: string;
}

export interface User {
  userId: string;
  logonId: string;
  balanceFen: number;
  nickName?: string;
  avatar?: string;
  gender?: 'F' | 'M';
  province?: string;
  city?: string;
  certNo?: string;
  mobile?: string;
  /** What alipay.user.info.share may return beyond the profile (needs special permission, ALIPAY.md §4.2). */
  /** Absent on users saved by an older sandbox: nothing granted. */
  shares?: { certNo: boolean; mobile: boolean };
  createdAt: Date;
}

export type Scope = 'auth_base' | 'auth_user';

export interface UserAuthCode {
  code: string;
  userId: string;
  appId: string;
  scopes: Scope[];
  expiresAt: Date;
  used: boolean;
}

export interface AccessToken {
  accessToken: string;
  refreshToken: string;
  userId: string;
  appId: string;
  scopes: Scope[];
  issuedAt: Date;
  expiresAt: Date;
  refreshExpiresAt: Date;
  refreshUsed: boolean;
}

/** A one-time payment code for `alipay.trade.pay` scene=bar_code (campus code, seed 001). */
export interface PaymentCode {
  authCode: string;
  userId: string;
  expiresAt: Date;
  used: boolean;
}

/**
 * A campus code (校园码, seed 001) as Alipay knows it: whose it is, when it was made, and the trade that holds
 * it (one that waits for the buyer or took the money). Keyed by final_data (base64), the trade.pay auth_code.
 */
export interface CampusCode {
  finalData: string;
  userId: string;
  schoolCode: string;
  generatedAt: Date;
  /** Seed 001 §4: "最长不超过10天"; trade.pay refuses it after this. */
  expiresAt: Date;
  /** The trade that holds the code: paid, or waiting for the buyer. A closed trade lets it go. */
  heldBy?: Trade;
}

/** A school's authorisation of the ISV app (ALIPAY.md §4.13). */
export interface AppAuthorization {
  appAuthCode: string;
  isvAppId: string;
  merchant: Merchant;
  codeExpiresAt: Date;
  codeUsed: boolean;
}

export interface AppAuthToken {
  appAuthToken: string;
  appRefreshToken: string;
  isvAppId: string;
  merchant: Merchant;
  issuedAt: Date;
  expiresAt: Date;
  /** The merchant cancelled the authorization, or authorized again (which invalidates older tokens). */
  revoked?: { at: Date; because: 'cancelled' | 'reauthorized' };
}

export type TradeStatus = 'WAIT_BUYER_PAY' | 'TRADE_SUCCESS' | 'TRADE_FINISHED' | 'TRADE_CLOSED';

export interface Refund {
  outRequestNo: string;
  amountFen: number;
  reason?: string;
  refundedAt: Date;
  /** true when the refund came from trade.cancel rather than trade.refund */
  byCancel: boolean;
}

/** A royalty receiver's account: a user (userId / openId / loginName) or a merchant PID (userId). */
export type RoyaltyAccountKind = 'user' | 'merchant';

export interface RoyaltyReceiver {
  transIn: string;
  transInType: string;
  /** The account's id: a user_id or a merchant PID. */
  userId: string;
  accountKind?: RoyaltyAccountKind;
  amountFen: number;
}

/** Royalty a refund took back from a receiver to the seller (ALIPAY-M2.md §2 "Refunds and royalty"). */
export interface RoyaltyReturn {
  outRequestNo: string;
  /** The receiver's account id (user_id or PID). */
  accountId: string;
  amountFen: number;
  /** `auto`: proportional, done by Alipay itself (当面付); `requested`: refund_royalty_parameters. */
  how: 'auto' | 'requested';
}

export interface Settlement {
  settleNo: string;
  outRequestNo?: string;
  source: 'royalty_info' | 'trade.order.settle';
  receivers: RoyaltyReceiver[];
  amountFen: number;
  finish: boolean;
  at: Date;
  /** royalty_mode: `sync` (default) splits in the call; `async` answers at once and splits a moment later. */
  mode?: 'sync' | 'async';
  /** PROCESSING until an async split has run (alipay.trade.order.settle.query, the settle message). */
  state?: 'PROCESSING' | 'SUCCESS' | 'FAIL';
  errorCode?: string;
  /** Serialised request, to tell an idempotent repeat from a conflicting one. */
  fingerprint: string;
}

export interface RoyaltyPlan {
  frozen: boolean;
  details: Array<{ transIn: string; transInType: string; amountFen?: number; percentage?: number }>;
}

export interface Trade {
  tradeNo: string;
  outTradeNo: string;
  /** The app that made the call. */
  appId: string;
  /** The merchant the call acted for (app's own, or the one behind an app_auth_token): out_trade_no scope. */
  merchant: Merchant;
  /** The account that receives the money: seller_id. Usually the same as `merchant`. */
  seller: Merchant;
  /** The app whose open_ids identify the buyer (`op_app_id` or the calling app). */
  openIdAppId: string;
  createdBy: 'alipay.trade.create' | 'alipay.trade.pay' | 'alipay.trade.cancel' | 'alipay.trade.precreate';
  productCode: string;
  totalFen: number;
  subject: string;
  body?: string;
  buyer?: User;
  status: TradeStatus;
  createdAt: Date;
  paidAt?: Date;
  closedAt?: Date;
  expiresAt?: Date;
  notifyUrl?: string;
  passbackParams?: string;
  storeId?: string;
  terminalId?: string;
  operatorId?: string;
  agreementNo?: string;
  paymentCode?: string;
  refundedFen: number;
  refunds: Map<string, Refund>;
  royalty?: RoyaltyPlan;
  /** extend_params.royalty_freeze: the money waits for alipay.trade.order.settle (ALIPAY.md §4.15). */
  royaltyFreeze?: boolean;
  settlements: Settlement[];
  settledFen: number;
  /** Royalty that refunds took back from receivers (ALIPAY-M2.md §2). */
  royaltyReturns?: RoyaltyReturn[];
  allocationFinished: boolean;
  /** The qr_code of the alipay.trade.precreate this trade was scanned from. */
  qrCode?: string;
  cancelAction?: 'close' | 'refund';
  /** trade.pay answered 10003: the buyer still has to confirm (a repeat of the call answers 10003 again). */
  awaitingBuyerConfirmation?: boolean;
}

/**
 * An alipay.trade.precreate (ALIPAY-M2.md §1): the QR the terminal shows. Alipay creates the trade only
 * when someone scans it and the cashier opens; until then trade.query answers ACQ.TRADE_NOT_EXIST.
 */
export interface Precreate {
  qrCode: string;
  outTradeNo: string;
  appId: string;
  merchant: Merchant;
  seller: Merchant;
  openIdAppId: string;
  totalFen: number;
  subject: string;
  body?: string;
  terminalId?: string;
  storeId?: string;
  notifyUrl?: string;
  royalty?: RoyaltyPlan;
  royaltyFreeze?: boolean;
  createdAt: Date;
  /** The trade closes this long after creation (timeout_express, default 3h for 当面付). */
  expiresAt: Date;
  /** qr_code_timeout_express, and at most 2 h whatever is asked (ALIPAY-M2.md §1). */
  qrExpiresAt: Date;
  /** trade.close or trade.cancel before anyone scanned: the code no longer opens a cashier. */
  closedAt?: Date;
  /** The trade made by the first scan. */
  trade?: Trade;
}

export type AgreementStatus = 'NORMAL' | 'UNSIGN';

export interface Agreement {
  agreementNo: string;
  externalAgreementNo?: string;
  externalLogonId?: string;
  personalProductCode: string;
  productCode?: string;
  signScene: string;
  thirdPartyType: string;
  user: User;
  /** The app that built the signStr; its id mode decides alipay_user_id / alipay_open_id. */
  appId: string;
  merchant: Merchant;
  status: AgreementStatus;
  signTime: Date;
  validTime: Date;
  invalidTime: string;
  unsignTime?: Date;
  notifyUrl?: string;
}

/**
 * A deliberate fault in one merchant's bill for one day (control API `POST /bills/corruptions`), so that
 * each reconciliation finding can be produced: DROP leaves out the rows of an out_trade_no, AMOUNT changes
 * its trade row's amount, STRANGER adds a trade nobody here made.
 */
export interface BillCorruption {
  id: string;
  sellerPid: string;
  /** yyyy-MM-dd (Beijing), the bill's day. */
  billDate: string;
  kind: 'DROP' | 'AMOUNT' | 'ROYALTY' | 'STRANGER';
  outTradeNo?: string;
  /**
   * DROP / AMOUNT / ROYALTY: only the refund row of this out_request_no (else DROP takes every row, AMOUNT and
   * ROYALTY the trade's); STRANGER: a refund row of outTradeNo with this request number.
   */
  outRequestNo?: string;
  amountFen?: number;
}

/** A subscription-message template the mini-program chose in the merchant console (ALIPAY-M2.md §3). */
export interface MessageTemplate {
  templateId: string;
  /** How many keywords its `data` must carry (keyword1 … keywordN). */
  keywords: number;
  /** Long-term templates may be sent repeatedly after one consent; one-time ones once per subscription. */
  longTerm: boolean;
}

/** What one user allowed for one template through my.requestSubscribeMessage. */
export interface MessageSubscription {
  userId: string;
  templateId: string;
  /** One-time templates: sends left (each subscription adds one). */
  remaining: number;
  /** Long-term templates: accepted until revoked. */
  accepted: boolean;
}

/** A message alipay.open.app.mini.templatemessage.send delivered. */
export interface SentMessage {
  msgNo: string;
  appId: string;
  /** The merchant the call acted for (ISV calls carry its app_auth_token). */
  authAppId: string;
  userId: string;
  templateId: string;
  page: string | null;
  data: Record<string, { value: string }>;
  sentAt: Date;
}
