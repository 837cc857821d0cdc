import type { SandboxContext } from '../context.js';
import { formatBeijing } from '../beijing-time.js';
import type {
  AccountView,
  AgreementView,
  AppView,
  ClockView,
  Ledger,
  LedgerFilter,
  NotificationRecord,
  RefundView,
  TradeView,
  UserView,
} from '../control-types.js';
import { refreshTradeStatus } from '../domain/trades.js';
import { frozenFen } from '../domain/royalty.js';
import type { Agreement, RegisteredApp, Trade, User } from '../state/types.js';

/** Internal records → the JSON the control API promises (control-types.ts). */

const iso = (date: Date | undefined) => date?.toISOString();

export function appView(app: RegisteredApp): AppView {
  return {
    appId: app.appId,
    name: app.name,
    idMode: app.idMode,
    sellerId: app.merchant.pid,
    ...(app.appGatewayUrl ? { appGatewayUrl: app.appGatewayUrl } : {}),
    messageTopics: [...app.messageTopics],
    ...(app.authRedirectUri ? { authRedirectUri: app.authRedirectUri } : {}),
  };
}

export function userView(ctx: SandboxContext, user: User): UserView {
  const openIds: Record<string, string> = {};
  for (const appId of ctx.state.apps.keys()) openIds[appId] = ctx.state.openIdOf(user.userId, appId);
  return {
    userId: user.userId,
    logonId: user.logonId,
    balanceFen: user.balanceFen,
    ...(user.nickName ? { nickName: user.nickName } : {}),
    openIds,
    shares: { certNo: user.shares?.certNo ?? false, mobile: user.shares?.mobile ?? false },
  };
}

export function accountView(ctx: SandboxContext, accountId: string): AccountView | undefined {
  const user = ctx.state.users.get(accountId);
  if (user)
    return {
      accountId,
      kind: 'user',
      balanceFen: user.balanceFen,
      ...(user.nickName ? { name: user.nickName } : {}),
    };
  const merchant = ctx.state.merchants.get(accountId);
  if (merchant) {
    let frozen = 0;
    for (const trade of ctx.state.tradesByNo.values())
      if (trade.seller === merchant) frozen += frozenFen(trade);
    return {
      accountId,
      kind: 'merchant',
      name: merchant.name,
      balanceFen: merchant.balanceFen,
      frozenFen: frozen,
    };
  }
  return undefined;
}

export function clockView(ctx: SandboxContext): ClockView {
  const now = ctx.clock.now();
  return { beijingTime: formatBeijing(now), iso: now.toISOString(), offsetMs: ctx.clock.offset };
}

function refundViews(trade: Trade): RefundView[] {
  return [...trade.refunds.values()].map((refund) => ({
    tradeNo: trade.tradeNo,
    outTradeNo: trade.outTradeNo,
    outRequestNo: refund.outRequestNo,
    amountFen: refund.amountFen,
    ...(refund.reason ? { reason: refund.reason } : {}),
    refundedAt: refund.refundedAt.toISOString(),
    byCancel: refund.byCancel,
  }));
}

export function tradeView(trade: Trade): TradeView {
  return {
    tradeNo: trade.tradeNo,
    outTradeNo: trade.outTradeNo,
    appId: trade.appId,
    authAppId: trade.merchant.appId,
    sellerId: trade.seller.pid,
    createdBy: trade.createdBy,
    productCode: trade.productCode,
    status: trade.status,
    totalFen: trade.totalFen,
    refundedFen: trade.refundedFen,
    settledFen: trade.settledFen,
    frozenFen: frozenFen(trade),
    subject: trade.subject,
    buyerUserId: trade.buyer?.userId,
    agreementNo: trade.agreementNo,
    notifyUrl: trade.notifyUrl,
    createdAt: trade.createdAt.toISOString(),
    paidAt: iso(trade.paidAt),
    closedAt: iso(trade.closedAt),
    expiresAt: iso(trade.expiresAt),
    refunds: refundViews(trade),
    settlements: trade.settlements.map((s) => ({
      settleNo: s.settleNo,
      outRequestNo: s.outRequestNo,
      source: s.source,
      amountFen: s.amountFen,
      finish: s.finish,
      receivers: s.receivers.map((r) => ({
        transIn: r.transIn,
        transInType: r.transInType,
        userId: r.userId,
        amountFen: r.amountFen,
      })),
      at: s.at.toISOString(),
      mode: s.mode ?? 'sync',
      state: s.state ?? 'SUCCESS',
    })),
    royaltyReturns: (trade.royaltyReturns ?? []).map((r) => ({ ...r })),
    ...(trade.terminalId ? { terminalId: trade.terminalId } : {}),
    ...(trade.qrCode ? { qrCode: trade.qrCode } : {}),
  };
}

export function agreementView(agreement: Agreement): AgreementView {
  return {
    agreementNo: agreement.agreementNo,
    externalAgreementNo: agreement.externalAgreementNo,
    status: agreement.status,
    userId: agreement.user.userId,
    appId: agreement.appId,
    authAppId: agreement.merchant.appId,
    personalProductCode: agreement.personalProductCode,
    signScene: agreement.signScene,
    signTime: agreement.signTime.toISOString(),
    unsignTime: iso(agreement.unsignTime),
    notifyUrl: agreement.notifyUrl,
  };
}

function tradeMatches(trade: Trade, filter: LedgerFilter): boolean {
  return (
    (filter.outTradeNo === undefined || trade.outTradeNo === filter.outTradeNo) &&
    (filter.tradeNo === undefined || trade.tradeNo === filter.tradeNo) &&
    (filter.appId === undefined || trade.appId === filter.appId) &&
    (filter.userId === undefined || trade.buyer?.userId === filter.userId) &&
    (filter.agreementNo === undefined || trade.agreementNo === filter.agreementNo)
  );
}

export function notificationsView(ctx: SandboxContext, filter: LedgerFilter): NotificationRecord[] {
  return ctx.notifier.records.filter(
    (n) =>
      (filter.outTradeNo === undefined || n.outTradeNo === filter.outTradeNo) &&
      (filter.tradeNo === undefined || n.tradeNo === filter.tradeNo) &&
      (filter.agreementNo === undefined || n.agreementNo === filter.agreementNo) &&
      (filter.appId === undefined || n.appId === filter.appId) &&
      (filter.notifyType === undefined || n.notifyType === filter.notifyType),
  );
}

/** Reads the ledger filter from a query string; unknown keys and repeated values are ignored. */
export function ledgerFilterOf(query: Record<string, string | string[] | undefined>): LedgerFilter {
  const filter: LedgerFilter = {};
  for (const key of ['outTradeNo', 'tradeNo', 'userId', 'agreementNo', 'appId', 'notifyType'] as const) {
    const value = query[key];
    if (typeof value === 'string' && value !== '') filter[key] = value;
  }
  return filter;
}

/** Everything the sandbox holds, narrowed by the filter (each field that is given must match). */
export function ledgerView(ctx: SandboxContext, filter: LedgerFilter): Ledger {
  const { state } = ctx;
  const hasTradeFilter = ['outTradeNo', 'tradeNo', 'appId', 'userId', 'agreementNo'].some(
    (key) => filter[key as keyof LedgerFilter] !== undefined,
  );
  const trades = [...state.tradesByNo.values()]
    .map((trade) => refreshTradeStatus(ctx, trade))
    .filter((trade) => !hasTradeFilter || tradeMatches(trade, filter));
  const agreements = [...state.agreements.values()].filter(
    (a) =>
      (filter.agreementNo === undefined || a.agreementNo === filter.agreementNo) &&
      (filter.userId === undefined || a.user.userId === filter.userId) &&
      (filter.appId === undefined || a.appId === filter.appId),
  );
  const notifications = notificationsView(ctx, filter);
  const users = [...state.users.values()].filter(
    (u) => filter.userId === undefined || u.userId === filter.userId,
  );
  return {
    clock: clockView(ctx),
    users: users.map((user) => userView(ctx, user)),
    merchants: [...state.merchants.values()].map((m) => ({
      sellerId: m.pid,
      authAppId: m.appId,
      name: m.name,
      balanceFen: m.balanceFen,
    })),
    trades: trades.map(tradeView),
    refunds: trades.flatMap(refundViews),
    agreements: agreements.map(agreementView),
    notifications,
  };
}
