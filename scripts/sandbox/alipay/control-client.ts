/**
 * A typed client for the Alipay sandbox's control API (docs/sandbox.md), over plain fetch. Used by tests,
 * the dev launcher, benchmarks and the mini-program test harness, which fakes my.getAuthCode (issueAuthCode),
 * my.tradePay (payTrade) and my.paySignCenter (signAgreement) with it.
 */
import type {
  AdvanceClockRequest,
  AppSettingsRequest,
  CancelAuthorizationRequest,
  CancelAuthorizationView,
  LinkAuthorizationView,
  AgreementView,
  ApiFaultSpec,
  AppView,
  AuthCodeRequest,
  AuthCodeView,
  ClockView,
  ControlErrorBody,
  CreateUserRequest,
  FaultView,
  Ledger,
  LedgerFilter,
  MerchantAuthorizationRequest,
  MerchantAuthorizationView,
  NotificationRecord,
  NotifyFaultSpec,
  PayTradeRequest,
  PayTradeResult,
  ScanQrRequest,
  ScanQrResult,
  CreateMerchantRequest,
  AccountView,
  PaymentCodeRequest,
  PaymentCodeView,
  CampusCodeRequest,
  CampusCodeView,
  RegisterAppRequest,
  ResetRequest,
  MessageTemplateRequest,
  SentMessageView,
  SharedInfoRequest,
  SubscribeRequest,
  SignAgreementRequest,
  SignAgreementResult,
  UnsignAgreementResult,
  UserView,
  BillCorruptionRequest,
  BillCorruptionView,
} from './control-types.js';

export type * from './control-types.js';

export class AlipaySandboxControlError extends Error {
  override name = 'AlipaySandboxControlError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(`${status} ${code}: ${message}`);
  }
}

export interface WaitOptions {
  /** Give up after this many ms (default 5000). */
  timeoutMs?: number;
  /** Poll interval in ms (default 10). */
  intervalMs?: number;
}

export class AlipaySandboxControl {
  private readonly base: string;

  /** `baseUrl`: the sandbox URL (http://host:port), with or without `/control`. */
  constructor(baseUrl: string) {
    this.base = `${baseUrl.replace(/\/+$/, '').replace(/\/control$/, '')}/control`;
  }

  health(): Promise<{ ok: true; url: string; alipayPublicKey: string }> {
    return this.request('GET', '/health');
  }

  registerApp(request: RegisterAppRequest): Promise<AppView> {
    return this.request('POST', '/apps', request);
  }

  listApps(): Promise<AppView[]> {
    return this.request('GET', '/apps');
  }

  /** The app's gateway (应用网关), message subscriptions and authorization callback. */
  configureApp(appId: string, settings: AppSettingsRequest): Promise<AppView> {
    return this.request('PATCH', `/apps/${encodeURIComponent(appId)}`, settings);
  }

  /** The school withdraws its authorization inside Alipay (tokens stop working; the ISV is told if subscribed). */
  cancelMerchantAuthorization(request: CancelAuthorizationRequest): Promise<CancelAuthorizationView> {
    return this.request('POST', '/merchant-authorizations/cancel', request);
  }

  /**
   * What a school's Alipay account does with an ISV's authorization link: opens the authorization page
   * (`link`, pointing at this sandbox's /oauth2/appToAppAuth.htm) and confirms. Returns the redirect to the
   * ISV's callback without following it.
   */
  async authorizeLink(
    link: string,
    merchant: { merchantName?: string; merchantAppId?: string } = {},
  ): Promise<LinkAuthorizationView> {
    const url = new URL(link);
    const form = new URLSearchParams(url.searchParams);
    if (merchant.merchantName) form.set('merchant_name', merchant.merchantName);
    if (merchant.merchantAppId) form.set('merchant_app_id', merchant.merchantAppId);
    const response = await fetch(`${url.origin}${url.pathname}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
      redirect: 'manual',
    });
    const location = response.headers.get('location');
    if (response.status !== 302 || !location)
      throw new AlipaySandboxControlError(response.status, 'AUTHORIZATION_REFUSED', await response.text());
    return { redirectUrl: location, appAuthCode: new URL(location).searchParams.get('app_auth_code') ?? '' };
  }

  /** A school authorises the ISV app: returns the app_auth_code for alipay.open.auth.token.app. */
  authorizeMerchant(request: MerchantAuthorizationRequest): Promise<MerchantAuthorizationView> {
    return this.request('POST', '/merchant-authorizations', request);
  }

  createUser(request: CreateUserRequest = {}): Promise<UserView> {
    return this.request('POST', '/users', request);
  }

  getUser(userId: string): Promise<UserView> {
    return this.request('GET', `/users/${encodeURIComponent(userId)}`);
  }

  /** The user lets the platform read their certified ID number and/or mobile (alipay.user.info.share). */
  shareInfo(userId: string, request: SharedInfoRequest): Promise<UserView> {
    return this.request('PUT', `/users/${encodeURIComponent(userId)}/shared-info`, request);
  }

  /** Registers a subscription-message template (as chosen in the merchant console). */
  registerMessageTemplate(request: MessageTemplateRequest): Promise<unknown> {
    return this.request('POST', '/message-templates', request);
  }

  /** The user's answer to my.requestSubscribeMessage. */
  subscribeMessages(request: SubscribeRequest): Promise<Record<string, unknown>> {
    return this.request('POST', '/message-subscriptions', request);
  }

  /** Messages delivered by alipay.open.app.mini.templatemessage.send, oldest first. */
  messages(userId?: string): Promise<SentMessageView[]> {
    return this.request('GET', `/messages${userId ? `?userId=${encodeURIComponent(userId)}` : ''}`);
  }

  setBalance(userId: string, balanceFen: number): Promise<UserView> {
    return this.request('PUT', `/users/${encodeURIComponent(userId)}/balance`, { balanceFen });
  }

  /** my.getAuthCode for a user in an app. */
  issueAuthCode(request: AuthCodeRequest): Promise<AuthCodeView> {
    return this.request('POST', '/auth-codes', request);
  }

  /** A campus-code payment code: the auth_code for alipay.trade.pay scene=bar_code. */
  issuePaymentCode(request: PaymentCodeRequest): Promise<PaymentCodeView> {
    return this.request('POST', '/payment-codes', request);
  }

  /** A campus code the user shows (校园码): the decoding SDK's outputs, built by the sandbox's own encoder. */
  issueCampusCode(request: CampusCodeRequest): Promise<CampusCodeView> {
    return this.request('POST', '/campus-codes', request);
  }

  /** my.tradePay({tradeNO}) as the given user. */
  payTrade(request: PayTradeRequest): Promise<PayTradeResult> {
    return this.request('POST', '/trades/pay', request);
  }

  /** The Alipay app's camera on a precreate qr_code: the first scan makes the trade, then pay / leave / fail. */
  scanQrCode(request: ScanQrRequest): Promise<ScanQrResult> {
    return this.request('POST', '/qr-codes/scan', request);
  }

  /** A merchant account (a vending-machine operator's collection or royalty account). */
  createMerchant(request: CreateMerchantRequest = {}): Promise<AccountView> {
    return this.request('POST', '/merchants', request);
  }

  /** Any account's balance: user or merchant. */
  getAccount(accountId: string): Promise<AccountView> {
    return this.request('GET', `/accounts/${encodeURIComponent(accountId)}`);
  }

  /** my.paySignCenter({signStr}) as the given user. */
  signAgreement(request: SignAgreementRequest): Promise<SignAgreementResult> {
    return this.request('POST', '/agreements/sign', request);
  }

  /** The user ends the agreement inside Alipay: dut_user_unsign goes to the sign call's notify_url. */
  unsignAgreement(agreementNo: string): Promise<UnsignAgreementResult> {
    return this.request('POST', `/agreements/${encodeURIComponent(agreementNo)}/unsign`, {});
  }

  getAgreement(agreementNo: string): Promise<AgreementView> {
    return this.request('GET', `/agreements/${encodeURIComponent(agreementNo)}`);
  }

  injectApiFault(spec: ApiFaultSpec): Promise<FaultView> {
    return this.request('POST', '/faults/api', spec);
  }

  injectNotifyFault(spec: NotifyFaultSpec): Promise<FaultView> {
    return this.request('POST', '/faults/notify', spec);
  }

  listFaults(): Promise<FaultView[]> {
    return this.request('GET', '/faults');
  }

  removeFault(id: string): Promise<void> {
    return this.request('DELETE', `/faults/${encodeURIComponent(id)}`);
  }

  clearFaults(): Promise<void> {
    return this.request('DELETE', '/faults');
  }

  clock(): Promise<ClockView> {
    return this.request('GET', '/clock');
  }

  advanceClock(by: AdvanceClockRequest): Promise<ClockView> {
    return this.request('POST', '/clock/advance', by);
  }

  ledger(filter: LedgerFilter = {}): Promise<Ledger> {
    return this.request('GET', `/ledger${query(filter)}`);
  }

  notifications(filter: LedgerFilter = {}): Promise<NotificationRecord[]> {
    return this.request('GET', `/notifications${query(filter)}`);
  }

  /** Spoils a merchant's bill of one day (a dropped row, another amount, a stranger's trade). */
  corruptBill(request: BillCorruptionRequest): Promise<BillCorruptionView> {
    return this.request('POST', '/bills/corruptions', request);
  }

  clearBillCorruptions(): Promise<void> {
    return this.request('DELETE', '/bills/corruptions');
  }

  reset(request: ResetRequest = {}): Promise<{ ok: true }> {
    return this.request('POST', '/reset', request);
  }

  /**
   * Polls the notifications matching `filter` until `until` holds for them (default: at least one was
   * acknowledged), or throws after the deadline.
   */
  async waitForNotifications(
    filter: LedgerFilter,
    until: (notifications: NotificationRecord[]) => boolean = (list) =>
      list.some((n) => n.status === 'acknowledged'),
    options: WaitOptions = {},
  ): Promise<NotificationRecord[]> {
    const deadline = Date.now() + (options.timeoutMs ?? 5000);
    for (;;) {
      const notifications = await this.notifications(filter);
      if (until(notifications)) return notifications;
      if (Date.now() > deadline) {
        throw new Error(
          `waitForNotifications timed out for ${JSON.stringify(filter)}: ${JSON.stringify(notifications, null, 1)}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 10));
    }
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.base}${path}`, {
      method,
      headers: body === undefined ? undefined : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    const parsed: unknown = text ? JSON.parse(text) : undefined;
    if (!response.ok) {
      const error = (parsed as ControlErrorBody | undefined)?.error;
      throw new AlipaySandboxControlError(
        response.status,
        error?.code ?? 'HTTP_ERROR',
        error?.message ?? text,
      );
    }
    return parsed as T;
  }
}

function query(filter: LedgerFilter): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(filter)) if (value !== undefined) params.set(key, String(value));
  const text = params.toString();
  return text ? `?${text}` : '';
}
