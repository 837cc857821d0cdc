import crypto from 'node:crypto';
import { AlipaySdk } from 'alipay-sdk';
import { fenToYuan, yuanToFenAllowZero } from '../../../../shared/money.js';
import type { AlipayConfig } from '../../config.js';
import type { OutsideCallObserver } from '../outside-calls.js';
import { AlipayError, isAgreementGone } from './errors.js';
import { callAlipay, type AlipayResponse } from './sdk-call.js';

/**
 * Our side of Alipay: typed inputs and outputs in our units (fen, our order numbers), failures as
 * AlipayError with a classification. Nothing outside integrations/alipay sees an SDK response shape or a
 * yuan string.
 */

/** A buyer is known by open_id (new apps) or user_id (older apps), ALIPAY.md §4.1. */
export interface AlipayPayer {
  openId?: string | null;
  userId?: string | null;
}

export type TradeStatus = 'WAIT_BUYER_PAY' | 'TRADE_SUCCESS' | 'TRADE_FINISHED' | 'TRADE_CLOSED';

export interface TradeState {
  tradeNo: string;
  outTradeNo: string;
  status: TradeStatus;
  totalFen: number;
  buyer: AlipayPayer;
}

/** A share of a trade paid to another account (royalty, ALIPAY.md §4.15): the account's PID (2088…). */
export interface RoyaltyShare {
  account: string;
  amountFen: number;
  desc?: string;
}

/** Where a trade's money goes besides the acting merchant (seed 002 "资金模式", DESIGN §7.6). */
export interface TradeMoneyRouting {
  /** 收款限制集: this account collects (seller_id). */
  sellerId?: string | null;
  /** 分润 at payment: royalty_info. */
  royalty?: RoyaltyShare[];
  /** Keep the money for a later alipay.trade.order.settle (extend_params.royalty_freeze). */
  royaltyFreeze?: boolean;
}

/** An async split's state (alipay.trade.order.settle.query, ALIPAY-M2.md §2); null: Alipay knows none. */
export interface SettlementState {
  state: 'SUCCESS' | 'FAIL' | 'PROCESSING';
  errorCode: string | null;
}

/** Alipay's absolute times (`time_expire`): Beijing wall time, whatever the process time zone. */
export function beijingDateTime(date: Date): string {
  const b = new Date(date.getTime() + 8 * 3_600_000).toISOString();
  return `${b.slice(0, 10)} ${b.slice(11, 19)}`;
}

function routingFields(routing: TradeMoneyRouting | undefined): Record<string, unknown> {
  if (!routing) return {};
  const fields: Record<string, unknown> = {};
  if (routing.sellerId) fields.sellerId = routing.sellerId;
  if (routing.royalty && routing.royalty.length > 0) {
    fields.royaltyInfo = {
      royaltyType: 'ROYALTY',
      royaltyDetailInfos: routing.royalty.map((share, i) => ({
        serialNo: i + 1,
        transInType: 'userId',
        transIn: share.account,
        amount: fenToYuan(share.amountFen),
        ...(share.desc ? { desc: share.desc } : {}),
      })),
    };
  }
  if (routing.royaltyFreeze) fields.extendParams = { royaltyFreeze: 'true' };
  return fields;
}

export type PayOutcome = { status: 'PAID'; tradeNo: string } | { status: 'PENDING'; tradeNo: string | null };

export interface AgreementState {
  agreementNo: string;
  status: string;
  signedAt: string | null;
  validUntil: string | null;
}

export interface OAuthResult {
  userId: string | null;
  openId: string | null;
  accessToken: string;
  expiresInSeconds: number;
}

/**
 * What alipay.user.info.share tells about the user (ALIPAY.md §4.2). `certNo` (the resident ID number) and
 * `mobile` come only when the app holds the special permission and the user granted them: both optional.
 */
export interface AlipayUserInfo {
  userId: string | null;
  openId: string | null;
  certNo: string | null;
  mobile: string | null;
}

export interface AppAuthorization {
  appAuthToken: string;
  refreshToken: string | null;
  /** The school's own app id (auth_app_id). */
  authAppId: string;
  /** The school's merchant PID (user_id): seller_id of the trades we make for it. */
  sellerId: string;
  /** expires_in / re_expires_in (documented as obsolete; null when absent). */
  expiresInSeconds: number | null;
  refreshExpiresInSeconds: number | null;
}

/** alipay.open.auth.token.app.query (ALIPAY-M2.md §4). */
export interface AppAuthTokenState {
  isValid: boolean;
  authAppId: string | null;
  sellerId: string | null;
  authStart: string | null;
  authEnd: string | null;
  expiresInSeconds: number | null;
  authMethods: string[];
}

/** 20001 sub_codes that say the school's app_auth_token no longer works (ALIPAY-M2.md §0). */
const REFUSED_TOKEN_SUB_CODES = new Set([
  'aop.invalid-app-auth-token',
  'aop.app-auth-token-time-out',
  'aop.invalid-app-auth-token-no-api',
]);

export function isAppAuthTokenRefused(error: unknown): error is AlipayError {
  return error instanceof AlipayError && refusesAppAuthToken(error.code, error.subCode);
}

/** The same, from an answer's code and sub_code as recorded. */
export function refusesAppAuthToken(code: string, subCode: string | null | undefined): boolean {
  return code === '20001' && REFUSED_TOKEN_SUB_CODES.has(subCode ?? '');
}

/** Alipay's string, or null when absent or not a string. */
function str(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function seconds(value: unknown): number | null {
  const n = Number(value);
  return value === undefined || value === null || value === '' || !Number.isFinite(n) ? null : n;
}

function payerFields(payer: AlipayPayer): Record<string, string> {
  if (payer.openId) return { buyerOpenId: payer.openId };
  if (payer.userId) return { buyerId: payer.userId };
  throw new Error('an Alipay payer needs an open_id or a user_id');
}

/** What opening a trade for one of our orders says, whichever way it is paid (trade.create, trade.precreate). */
interface TradeOpening {
  outTradeNo: string;
  amountFen: number;
  subject: string;
  notifyUrl: string;
  appAuthToken?: string | null;
  /** An absolute expiry (time_expire); without it each API's relative default applies. */
  expiresAt?: Date;
  terminalId?: string;
  body?: string;
  routing?: TradeMoneyRouting;
}

function openingFields(input: TradeOpening): Record<string, unknown> {
  return {
    outTradeNo: input.outTradeNo,
    totalAmount: fenToYuan(input.amountFen),
    subject: input.subject,
    ...(input.expiresAt ? { timeExpire: beijingDateTime(input.expiresAt) } : {}),
    ...(input.terminalId ? { terminalId: input.terminalId } : {}),
    ...(input.body ? { body: input.body } : {}),
    ...routingFields(input.routing),
  };
}

/** The field a success must carry; without it the call's effect is unknown. */
function required(value: unknown, method: string, code: string, field: string): string {
  const text = str(value);
  if (!text) throw new AlipayError('unknown', method, code, undefined, `no ${field} in the answer`);
  return text;
}

/**
 * The SDK must be told the key's format or it rewraps the key wrongly (ALIPAY.md §1.6). A PEM header says
 * it ("RSA PRIVATE KEY" is PKCS1); a bare base64 key, as Alipay's console hands it out, is tried as PKCS8.
 */
function privateKeyType(key: string): 'PKCS1' | 'PKCS8' {
  if (key.includes('-----')) return key.includes('RSA PRIVATE') ? 'PKCS1' : 'PKCS8';
  try {
    crypto.createPrivateKey({
      key: Buffer.from(key.replace(/\s+/g, ''), 'base64'),
      format: 'der',
      type: 'pkcs8',
    });
    return 'PKCS8';
  } catch {
    return 'PKCS1';
  }
}

export class Alipay {
  private readonly sdk: AlipaySdk;
  private tokenRefused?: (appAuthToken: string, error: AlipayError) => void;
  private callObserver?: OutsideCallObserver;

  constructor(readonly config: AlipayConfig) {
    this.sdk = new AlipaySdk({
      appId: config.appId,
      privateKey: config.privateKey,
      keyType: privateKeyType(config.privateKey),
      alipayPublicKey: config.alipayPublicKey,
      gateway: config.gateway,
      timeout: config.timeoutMs,
      signType: 'RSA2',
    });
    // The SDK keeps the keys as PEM text and hands them to node:crypto on every signature and check, which
    // parses them again each time: measured 1.75 ms per RSA2 signature with PEM, 0.78 ms with a parsed
    // key. Every use of these two fields in alipay-sdk 4.x is a node:crypto sign/verify call, which takes a
    // KeyObject as well, so give it keys parsed once.
    const keys = this.sdk.config as unknown as {
      privateKey: string | crypto.KeyObject;
      alipayPublicKey: string | crypto.KeyObject;
    };
    keys.privateKey = crypto.createPrivateKey(keys.privateKey as string);
    if (keys.alipayPublicKey) keys.alipayPublicKey = crypto.createPublicKey(keys.alipayPublicKey as string);
  }

  get appId(): string {
    return this.config.appId;
  }

  /**
   * Called (synchronously, must not throw) whenever Alipay refuses a school's app_auth_token (20001
   * aop.invalid-app-auth-token and friends), whichever call it was: the server uses it to check the
   * school's authorization and suspend the school (domain/schools/isv-authorization.ts).
   */
  onAppAuthTokenRefused(listener: (appAuthToken: string, error: AlipayError) => void): void {
    this.tokenRefused = listener;
  }

  /**
   * Called (synchronously, must not throw) after every call made for one of our orders — a trade, a refund,
   * an agreement by our external number — with its outcome and duration: the admins' order timeline.
   */
  observeCalls(observer: OutsideCallObserver): void {
    this.callObserver = observer;
  }

  /** Every call goes through here, so that a refused app_auth_token is noticed whatever the call. */
  private async call(
    method: string,
    options: Parameters<typeof callAlipay>[2] = {},
  ): Promise<AlipayResponse> {
    const startedAt = new Date();
    const started = performance.now();
    try {
      const response = await callAlipay(this.sdk, method, options);
      this.report(method, options, startedAt, started, response);
      return response;
    } catch (error) {
      this.report(method, options, startedAt, started, error);
      if (options.appAuthToken && isAppAuthTokenRefused(error))
        this.tokenRefused?.(options.appAuthToken, error);
      throw error;
    }
  }

  private report(
    method: string,
    options: Parameters<typeof callAlipay>[2] = {},
    startedAt: Date,
    started: number,
    result: AlipayResponse | unknown,
  ): void {
    const biz = options.bizContent ?? {};
    const reference = str(biz.outTradeNo) ?? str(biz.externalAgreementNo);
    if (!this.callObserver || !reference) return;
    const failure = result instanceof AlipayError ? result : null;
    const answer = failure ? null : (result as AlipayResponse);
    try {
      this.callObserver({
        system: 'ALIPAY',
        operation: method,
        reference,
        outcome: failure
          ? (failure.kind.toUpperCase() as 'UNKNOWN' | 'PENDING' | 'RETRYABLE' | 'FINAL')
          : result instanceof Error
            ? 'UNKNOWN'
            : 'OK',
        code: failure?.code ?? answer?.code ?? (result instanceof Error ? 'CLIENT_ERROR' : null),
        subCode: failure?.subCode ?? null,
        startedAt,
        durationMs: Math.round(performance.now() - started),
      });
    } catch {
      // Observing never breaks a call.
    }
  }

  /** auth_base code from my.getAuthCode → the user's ids (ALIPAY.md §4.1). Codes are single use. */
  async exchangeAuthCode(code: string): Promise<OAuthResult> {
    const res = await this.call('alipay.system.oauth.token', {
      params: { grantType: 'authorization_code', code },
    });
    const accessToken = str(res.accessToken);
    if (!accessToken)
      throw new AlipayError(
        'final',
        'alipay.system.oauth.token',
        'NO_TOKEN',
        undefined,
        'no access_token in the answer',
      );
    return {
      userId: str(res.userId),
      openId: str(res.openId),
      accessToken,
      expiresInSeconds: Number(res.expiresIn ?? 0),
    };
  }

  /** auth_user access token → what the user agreed to share (never logged: it is personal data). */
  async userInfo(accessToken: string): Promise<AlipayUserInfo> {
    const res = await this.call('alipay.user.info.share', { params: { authToken: accessToken } });
    // cert_type 0 is the resident identity card; other documents (passports…) are not roster ID numbers.
    const certType = str(res.certType);
    return {
      userId: str(res.userId),
      openId: str(res.openId),
      certNo: certType === null || certType === '0' ? str(res.certNo) : null,
      mobile: str(res.mobile),
    };
  }

  /** ISV: a school's app_auth_code → the app_auth_token we then send on its behalf (ALIPAY.md §4.13). */
  exchangeAppAuthCode(code: string): Promise<AppAuthorization> {
    return this.appAuthTokens({ grantType: 'authorization_code', code });
  }

  /** ISV: a new token pair from the app_refresh_token, before the old one expires (ALIPAY-M2.md §4). */
  refreshAppAuthToken(refreshToken: string): Promise<AppAuthorization> {
    return this.appAuthTokens({ grantType: 'refresh_token', refreshToken });
  }

  private async appAuthTokens(bizContent: Record<string, string>): Promise<AppAuthorization> {
    const res = await this.call('alipay.open.auth.token.app', { bizContent });
    // The current answer lists tokens[] (batch authorization); older ones put the fields at the top level.
    const token = (Array.isArray(res.tokens) ? (res.tokens[0] as AlipayResponse) : res) ?? res;
    const appAuthToken = str(token.appAuthToken);
    const authAppId = str(token.authAppId);
    const sellerId = str(token.userId);
    if (!appAuthToken || !authAppId || !sellerId) {
      throw new AlipayError(
        'final',
        'alipay.open.auth.token.app',
        'NO_TOKEN',
        undefined,
        'incomplete authorization answer',
      );
    }
    return {
      appAuthToken,
      refreshToken: str(token.appRefreshToken),
      authAppId,
      sellerId,
      expiresInSeconds: seconds(token.expiresIn),
      refreshExpiresInSeconds: seconds(token.reExpiresIn),
    };
  }

  /** What Alipay says about a school's app_auth_token: valid or not, for whom, until when. */
  async queryAppAuthToken(appAuthToken: string): Promise<AppAuthTokenState> {
    const res = await this.call('alipay.open.auth.token.app.query', { bizContent: { appAuthToken } });
    return {
      isValid: res.status === 'valid',
      authAppId: str(res.authAppId),
      sellerId: str(res.userId),
      authStart: str(res.authStart),
      authEnd: str(res.authEnd),
      expiresInSeconds: seconds(res.expiresIn),
      authMethods: Array.isArray(res.authMethods) ? res.authMethods.map(String) : [],
    };
  }

  /**
   * Mini-program JSAPI trade for my.tradePay (ALIPAY.md §4.3). Terminal orders add the terminal_id (seed 002:
   * mandatory for vending machines), where the money goes (`routing`) and an absolute expiry.
   */
  async createTrade(input: TradeOpening & { payer: AlipayPayer; timeoutMinutes?: number }): Promise<{
    tradeNo: string;
  }> {
    const res = await this.call('alipay.trade.create', {
      appAuthToken: input.appAuthToken ?? undefined,
      notifyUrl: input.notifyUrl,
      bizContent: {
        ...openingFields(input),
        productCode: 'JSAPI_PAY',
        opAppId: this.config.appId,
        ...(input.expiresAt ? {} : { timeoutExpress: `${input.timeoutMinutes ?? 15}m` }),
        ...payerFields(input.payer),
      },
    });
    return { tradeNo: required(res.tradeNo, 'alipay.trade.create', 'NO_TRADE_NO', 'trade_no') };
  }

  /**
   * 当面付扫码 (ALIPAY-M2.md §1, seed 002 §2): a qr_code for the terminal to show; the trade exists at Alipay only
   * once someone scans it. A repeat with the same out_trade_no and amount answers the same code.
   */
  async precreateTrade(input: TradeOpening & { expiresAt: Date; terminalId: string }): Promise<{
    qrCode: string;
  }> {
    const res = await this.call('alipay.trade.precreate', {
      appAuthToken: input.appAuthToken ?? undefined,
      notifyUrl: input.notifyUrl,
      bizContent: { ...openingFields(input), productCode: 'FACE_TO_FACE_PAYMENT' },
    });
    return { qrCode: required(res.qrCode, 'alipay.trade.precreate', 'NO_QR_CODE', 'qr_code') };
  }

  /**
   * alipay.trade.order.settle (ALIPAY.md §4.15, ALIPAY-M2.md §2): splits a paid (frozen) trade, asynchronously;
   * the result comes as the alipay.trade.order.settle.notify message or from querySettlement. Idempotent on
   * out_request_no: a repeat with the same amounts answers the same settle_no.
   */
  async settleTrade(input: {
    tradeNo: string;
    outRequestNo: string;
    shares: RoyaltyShare[];
    finish: boolean;
    appAuthToken?: string | null;
  }): Promise<{ settleNo: string }> {
    const res = await this.call('alipay.trade.order.settle', {
      appAuthToken: input.appAuthToken ?? undefined,
      bizContent: {
        outRequestNo: input.outRequestNo,
        tradeNo: input.tradeNo,
        royaltyMode: 'async',
        // No shares: only 分账完结 (royalty_finish), for which royalty_parameters is not required (ALIPAY-M2.md §2).
        ...(input.shares.length > 0
          ? {
              royaltyParameters: input.shares.map((share) => ({
                royaltyType: 'transfer',
                transInType: 'userId',
                transIn: share.account,
                amount: fenToYuan(share.amountFen),
                ...(share.desc ? { desc: share.desc } : {}),
              })),
            }
          : {}),
        ...(input.finish ? { extendParams: { royaltyFinish: 'true' } } : {}),
      },
    });
    return { settleNo: required(res.settleNo, 'alipay.trade.order.settle', 'NO_SETTLE_NO', 'settle_no') };
  }

  /** What became of a split (null: Alipay knows none under this out_request_no). */
  async querySettlement(input: {
    tradeNo: string;
    outRequestNo: string;
    appAuthToken?: string | null;
  }): Promise<SettlementState | null> {
    try {
      const res = await this.call('alipay.trade.order.settle.query', {
        appAuthToken: input.appAuthToken ?? undefined,
        bizContent: { outRequestNo: input.outRequestNo, tradeNo: input.tradeNo },
      });
      const details = Array.isArray(res.royaltyDetailList) ? (res.royaltyDetailList as AlipayResponse[]) : [];
      const failed = details.find((d) => d.state === 'FAIL');
      if (failed) return { state: 'FAIL', errorCode: str(failed.errorCode) };
      if (details.some((d) => d.state === 'PROCESSING')) return { state: 'PROCESSING', errorCode: null };
      return { state: 'SUCCESS', errorCode: null };
    } catch (error) {
      if (error instanceof AlipayError && /SETTLE_NOT_EXIST|TRADE_NOT_EXIST/.test(error.subCode ?? ''))
        return null;
      throw error;
    }
  }

  /**
   * Password-free withholding (ALIPAY.md §4.4 b). 10000 → PAID; 10003 → PENDING (the buyer must
   * confirm; poll then cancel). Everything else throws a classified AlipayError.
   */
  async payWithAgreement(input: {
    outTradeNo: string;
    amountFen: number;
    subject: string;
    agreementNo: string;
    appAuthToken?: string | null;
  }): Promise<PayOutcome> {
    return this.pay(input.appAuthToken, {
      outTradeNo: input.outTradeNo,
      totalAmount: fenToYuan(input.amountFen),
      subject: input.subject,
      productCode: 'GENERAL_WITHHOLDING',
      agreementParams: { agreementNo: input.agreementNo },
    });
  }

  /**
   * A code the user showed at a till (ALIPAY.md §4.4 a): for a campus code (seed 001 §7), `authCode` is the
   * decoding SDK's final_data, never the raw code. Same outcomes as payWithAgreement.
   */
  async payWithCode(input: {
    outTradeNo: string;
    amountFen: number;
    subject: string;
    authCode: string;
    terminalId: string;
    appAuthToken?: string | null;
  }): Promise<PayOutcome> {
    return this.pay(input.appAuthToken, {
      outTradeNo: input.outTradeNo,
      totalAmount: fenToYuan(input.amountFen),
      subject: input.subject,
      scene: 'bar_code',
      authCode: input.authCode,
      productCode: 'FACE_TO_FACE_PAYMENT',
      terminalId: input.terminalId,
    });
  }

  private async pay(
    appAuthToken: string | null | undefined,
    bizContent: Record<string, unknown>,
  ): Promise<PayOutcome> {
    const res = await this.call('alipay.trade.pay', {
      appAuthToken: appAuthToken ?? undefined,
      accept: ['10003'],
      bizContent,
    });
    if (res.code === '10003') return { status: 'PENDING', tradeNo: str(res.tradeNo) };
    return { status: 'PAID', tradeNo: required(res.tradeNo, 'alipay.trade.pay', 'NO_TRADE_NO', 'trade_no') };
  }

  /** null when Alipay has no such trade (e.g. created but the buyer never opened the cashier). */
  async queryTrade(input: { outTradeNo: string; appAuthToken?: string | null }): Promise<TradeState | null> {
    try {
      const res = await this.call('alipay.trade.query', {
        appAuthToken: input.appAuthToken ?? undefined,
        bizContent: { outTradeNo: input.outTradeNo },
      });
      return {
        tradeNo: String(res.tradeNo),
        outTradeNo: String(res.outTradeNo ?? input.outTradeNo),
        status: String(res.tradeStatus) as TradeStatus,
        totalFen: yuanToFenAllowZero(String(res.totalAmount ?? '0')),
        buyer: { openId: str(res.buyerOpenId), userId: str(res.buyerUserId) },
      };
    } catch (error) {
      if (error instanceof AlipayError && /TRADE_NOT_EXIST/.test(error.subCode ?? '')) return null;
      throw error;
    }
  }

  /** Closes an unpaid trade. Already closed or never created count as closed. */
  async closeTrade(input: {
    outTradeNo: string;
    appAuthToken?: string | null;
  }): Promise<'CLOSED' | 'NOT_EXIST'> {
    try {
      await this.call('alipay.trade.close', {
        appAuthToken: input.appAuthToken ?? undefined,
        bizContent: { outTradeNo: input.outTradeNo },
      });
      return 'CLOSED';
    } catch (error) {
      if (error instanceof AlipayError && /TRADE_NOT_EXIST/.test(error.subCode ?? '')) return 'NOT_EXIST';
      throw error;
    }
  }

  /** For unknown outcomes only: closes an unpaid trade or refunds a paid one (ALIPAY.md §4.7). */
  async cancelTrade(input: {
    outTradeNo: string;
    appAuthToken?: string | null;
  }): Promise<{ action: string | null; retry: boolean }> {
    const res = await this.call('alipay.trade.cancel', {
      appAuthToken: input.appAuthToken ?? undefined,
      bizContent: { outTradeNo: input.outTradeNo },
    });
    return { action: str(res.action), retry: res.retryFlag === 'Y' };
  }

  /**
   * Idempotent on (outTradeNo, outRequestNo): a retry must reuse both and the amount (ALIPAY.md §4.8).
   * `royaltyReturns`: royalty to take back from receivers first (refund_royalty_parameters, ALIPAY-M2.md §2).
   */
  async refund(input: {
    outTradeNo: string;
    outRequestNo: string;
    amountFen: number;
    reason: string;
    appAuthToken?: string | null;
    royaltyReturns?: RoyaltyShare[] | null;
  }): Promise<{ refundedTotalFen: number; moved: boolean }> {
    const royaltyReturns = input.royaltyReturns?.filter((r) => r.amountFen > 0) ?? [];
    const res = await this.call('alipay.trade.refund', {
      appAuthToken: input.appAuthToken ?? undefined,
      bizContent: {
        outTradeNo: input.outTradeNo,
        outRequestNo: input.outRequestNo,
        refundAmount: fenToYuan(input.amountFen),
        refundReason: input.reason,
        ...(royaltyReturns.length > 0
          ? {
              refundRoyaltyParameters: royaltyReturns.map((r) => ({
                royaltyType: 'transfer',
                transOutType: 'userId',
                transOut: r.account,
                amount: fenToYuan(r.amountFen),
              })),
            }
          : {}),
      },
    });
    return {
      refundedTotalFen: yuanToFenAllowZero(String(res.refundFee ?? '0')),
      moved: res.fundChange === 'Y',
    };
  }

  /** Whether a refund request number went through (absent refund_status = not received or failed, §4.9). */
  async isRefunded(input: {
    outTradeNo: string;
    outRequestNo: string;
    appAuthToken?: string | null;
  }): Promise<boolean> {
    try {
      const res = await this.call('alipay.trade.fastpay.refund.query', {
        appAuthToken: input.appAuthToken ?? undefined,
        bizContent: { outTradeNo: input.outTradeNo, outRequestNo: input.outRequestNo },
      });
      return res.refundStatus === 'REFUND_SUCCESS';
    } catch (error) {
      if (error instanceof AlipayError && /TRADE_NOT_EXIST/.test(error.subCode ?? '')) return false;
      throw error;
    }
  }

  /**
   * The string for my.paySignCenter: sdkExecute of alipay.user.agreement.page.sign, URL-encoded once more
   * (ALIPAY.md §4.10). Signing happens locally; Alipay sends dut_user_sign to notifyUrl.
   */
  agreementSignString(input: {
    externalAgreementNo: string;
    signScene: string;
    notifyUrl: string;
    appAuthToken?: string | null;
    externalLogonId?: string;
    singleAmountFen?: number;
  }): string {
    const params: Record<string, unknown> = {
      notifyUrl: input.notifyUrl,
      bizContent: {
        personalProductCode: 'GENERAL_WITHHOLDING_P',
        productCode: 'GENERAL_WITHHOLDING',
        signScene: input.signScene,
        externalAgreementNo: input.externalAgreementNo,
        accessParams: { channel: 'ALIPAYAPP' },
        ...(input.externalLogonId ? { externalLogonId: input.externalLogonId } : {}),
      },
    };
    if (input.appAuthToken) params.appAuthToken = input.appAuthToken;
    return encodeURIComponent(this.sdk.sdkExecute('alipay.user.agreement.page.sign', params));
  }

  /** null when Alipay knows no such agreement (never signed, or unsigned and gone). */
  async queryAgreement(input: {
    agreementNo?: string;
    externalAgreementNo?: string;
    signScene?: string;
    payer?: AlipayPayer;
    appAuthToken?: string | null;
  }): Promise<AgreementState | null> {
    const biz: Record<string, unknown> = { personalProductCode: 'GENERAL_WITHHOLDING_P' };
    if (input.agreementNo) biz.agreementNo = input.agreementNo;
    if (input.externalAgreementNo) biz.externalAgreementNo = input.externalAgreementNo;
    if (input.signScene) biz.signScene = input.signScene;
    if (input.payer?.openId) biz.alipayOpenId = input.payer.openId;
    else if (input.payer?.userId) biz.alipayUserId = input.payer.userId;
    try {
      const res = await this.call('alipay.user.agreement.query', {
        appAuthToken: input.appAuthToken ?? undefined,
        bizContent: biz,
      });
      return {
        agreementNo: String(res.agreementNo),
        status: String(res.status),
        signedAt: str(res.signTime),
        validUntil: str(res.invalidTime),
      };
    } catch (error) {
      if (
        error instanceof AlipayError &&
        /USER_AGREEMENT_NOT_EXIST|AGREEMENT_HAS_UNSIGNED/.test(error.subCode ?? '')
      )
        return null;
      throw error;
    }
  }

  /** Ends an agreement at Alipay; one that is already gone counts as ended. */
  async unsignAgreement(input: { agreementNo: string; appAuthToken?: string | null }): Promise<void> {
    try {
      await this.call('alipay.user.agreement.unsign', {
        appAuthToken: input.appAuthToken ?? undefined,
        bizContent: { agreementNo: input.agreementNo, personalProductCode: 'GENERAL_WITHHOLDING_P' },
      });
    } catch (error) {
      if (
        error instanceof AlipayError &&
        (isAgreementGone(error.subCode) || /NOT_NORMAL/.test(error.subCode ?? ''))
      )
        return;
      throw error;
    }
  }

  /**
   * alipay.data.dataservice.bill.downloadurl.query (ALIPAY.md §4.14): the URL of one day's trade bill, which
   * must be fetched within about 30 s; null while the bill does not exist yet (BILL_NOT_EXIST, NO_BILL_DATA
   * before it is generated in the morning of the next day).
   */
  async tradeBillUrl(input: { billDate: string; appAuthToken?: string | null }): Promise<string | null> {
    try {
      const res = await this.call('alipay.data.dataservice.bill.downloadurl.query', {
        appAuthToken: input.appAuthToken ?? undefined,
        bizContent: { billType: 'trade', billDate: input.billDate },
      });
      return required(
        res.billDownloadUrl,
        'alipay.data.dataservice.bill.downloadurl.query',
        'NO_URL',
        'bill_download_url',
      );
    } catch (error) {
      if (error instanceof AlipayError && /BILL_NOT_EXIST|NO_BILL_DATA/.test(error.subCode ?? ''))
        return null;
      throw error;
    }
  }

  /**
   * A subscription message (ALIPAY-M2.md §3): to the user's open_id (or user_id) with a template the user
   * subscribed to; `data` is the JSON string of keyword values. Sent for the school (app_auth_token).
   */
  async sendTemplateMessage(input: {
    to: AlipayPayer;
    templateId: string;
    page: string;
    data: string;
    appAuthToken?: string | null;
  }): Promise<void> {
    const to = input.to.openId
      ? { toOpenId: input.to.openId }
      : input.to.userId
        ? { toUserId: input.to.userId }
        : undefined;
    if (!to) throw new Error('a message needs an open_id or a user_id');
    await this.call('alipay.open.app.mini.templatemessage.send', {
      appAuthToken: input.appAuthToken ?? undefined,
      bizContent: { ...to, userTemplateId: input.templateId, page: input.page, data: input.data },
    });
  }

  /** checkNotifySignV2: the body is already form-decoded by Koa (ALIPAY.md §1.6, §3.3). */
  verifyNotification(form: Record<string, string>): boolean {
    // Only RSA2 (SHA256withRSA): the SDK would also check an `RSA` (SHA-1) signature, a weaker hash that
    // our app never asked Alipay for (ALIPAY.md §3.3).
    if (form.sign_type !== 'RSA2') return false;
    try {
      return this.sdk.checkNotifySignV2(form);
    } catch {
      return false;
    }
  }
}
