import { randomBytes } from 'node:crypto';
import { deriveOpenId } from '../ids.js';
import type {
  BillCorruption,
  Agreement,
  AppAuthToken,
  AppAuthorization,
  AccessToken,
  CampusCode,
  Precreate,
  Merchant,
  MessageSubscription,
  MessageTemplate,
  PaymentCode,
  RegisteredApp,
  SentMessage,
  Trade,
  User,
  UserAuthCode,
} from './types.js';

/**
 * Everything the sandbox knows, in memory. Maps keyed the way the gateway looks things up, so that every
 * request path is a handful of Map reads (the server's benchmarks push ≥ 500 trade.pay calls per second).
 */
export class SandboxState {
  /**
   * Stable per sandbox process, so a user's open_id in an app survives a reset; a launcher that wants the
   * same open_ids across restarts (npm start) passes its own.
   */
  readonly openIdSecret: Buffer;

  constructor(openIdSecret?: Buffer) {
    this.openIdSecret = openIdSecret ?? randomBytes(32);
  }

  readonly apps = new Map<string, RegisteredApp>();
  /** Merchants by PID. */
  readonly merchants = new Map<string, Merchant>();
  /** Merchants by their own app id (auth_app_id). */
  readonly merchantsByAppId = new Map<string, Merchant>();
  readonly users = new Map<string, User>();
  readonly usersByLogonId = new Map<string, User>();
  /** open_id → the user and the app it is scoped to. */
  readonly openIds = new Map<string, { userId: string; appId: string }>();
  readonly userAuthCodes = new Map<string, UserAuthCode>();
  readonly accessTokens = new Map<string, AccessToken>();
  readonly refreshTokens = new Map<string, AccessToken>();
  readonly paymentCodes = new Map<string, PaymentCode>();
  /** Campus codes by final_data (base64). */
  readonly campusCodes = new Map<string, CampusCode>();
  readonly messageTemplates = new Map<string, MessageTemplate>();
  /** `${userId}\n${templateId}`. */
  readonly messageSubscriptions = new Map<string, MessageSubscription>();
  readonly sentMessages: SentMessage[] = [];
  readonly appAuthorizations = new Map<string, AppAuthorization>();
  readonly appAuthTokens = new Map<string, AppAuthToken>();
  readonly appRefreshTokens = new Map<string, AppAuthToken>();
  readonly tradesByNo = new Map<string, Trade>();
  /** `${merchant.pid}\n${outTradeNo}`: out_trade_no is unique per merchant (ALIPAY.md §6). */
  readonly tradesByOutNo = new Map<string, Trade>();
  readonly agreements = new Map<string, Agreement>();
  /** alipay.trade.precreate QR codes by qr_code, and by tradeKey(merchant, out_trade_no). */
  readonly precreates = new Map<string, Precreate>();
  readonly precreatesByOutNo = new Map<string, Precreate>();
  /** `${merchant.pid}\n${outRequestNo}` of trade.order.settle (unique per merchant, ALIPAY.md §6). */
  readonly settleRequests = new Map<string, { tradeNo: string; settleNo: string }>();
  /** Faults asked for in bills (control API `POST /bills/corruptions`), applied when a bill is served. */
  readonly billCorruptions: BillCorruption[] = [];
  private userCounter = 0;

  nextUserNumber(): number {
    return ++this.userCounter;
  }

  openIdOf(userId: string, appId: string): string {
    return deriveOpenId(this.openIdSecret, appId, userId);
  }

  /** Indexes the open_ids of one user in every registered app. */
  indexUser(user: User): void {
    for (const appId of this.apps.keys())
      this.openIds.set(this.openIdOf(user.userId, appId), { userId: user.userId, appId });
  }

  /** Indexes the open_ids of every user in one app. */
  indexApp(appId: string): void {
    for (const userId of this.users.keys()) this.openIds.set(this.openIdOf(userId, appId), { userId, appId });
  }

  tradeKey(merchantPid: string, outTradeNo: string): string {
    return `${merchantPid}\n${outTradeNo}`;
  }

  /** Forgets every user, trade, agreement and token; keeps registered apps and their merchants when asked. */
  reset(keepApps: boolean): void {
    const keptMerchants = keepApps ? new Set([...this.apps.values()].map((app) => app.merchant)) : new Set();
    if (!keepApps) this.apps.clear();
    for (const [pid, merchant] of this.merchants) {
      if (!keptMerchants.has(merchant)) {
        this.merchants.delete(pid);
        this.merchantsByAppId.delete(merchant.appId);
      } else {
        merchant.balanceFen = 0;
        merchant.accountEntries.length = 0;
      }
    }
    this.users.clear();
    this.usersByLogonId.clear();
    this.openIds.clear();
    this.userAuthCodes.clear();
    this.accessTokens.clear();
    this.refreshTokens.clear();
    this.paymentCodes.clear();
    this.billCorruptions.length = 0;
    this.campusCodes.clear();
    this.messageTemplates.clear();
    this.messageSubscriptions.clear();
    this.sentMessages.length = 0;
    this.appAuthorizations.clear();
    this.appAuthTokens.clear();
    this.appRefreshTokens.clear();
    this.tradesByNo.clear();
    this.tradesByOutNo.clear();
    this.agreements.clear();
    this.precreates.clear();
    this.precreatesByOutNo.clear();
    this.settleRequests.clear();
    this.userCounter = 0;
  }
}
