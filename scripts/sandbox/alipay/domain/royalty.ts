import type { SandboxContext } from '../context.js';
import { formatBeijing } from '../beijing-time.js';
import { businessError, invalidParameter } from '../protocol/alipay-error.js';
import { newSettleNo } from '../ids.js';
import type {
  Merchant,
  RoyaltyAccountKind,
  RoyaltyPlan,
  RoyaltyReceiver,
  RoyaltyReturn,
  Settlement,
  Trade,
  User,
} from '../state/types.js';
import { parseYuan, yuanText } from './amounts.js';
import { bookMerchant } from './accounts.js';

/**
 * Profit sharing (ALIPAY.md §4.15, ALIPAY-M2.md §2, DESIGN §7.6): `royalty_info` on trade.create / trade.pay /
 * trade.precreate splits the money when the trade is paid, unless `extend_params.royalty_freeze` keeps it for a
 * later `alipay.trade.order.settle` (sync, or async with the `alipay.trade.order.settle.notify` message).
 * Receivers are sandbox accounts: users (trans_in_type userId, openId or loginName) or merchants (a PID as
 * userId: a vending-machine operator's account). Refunds take royalty back (refundRoyalty below).
 */

/** A royalty receiver: a user or a merchant account. */
export interface RoyaltyAccount {
  kind: RoyaltyAccountKind;
  id: string;
  user?: User;
  merchant?: Merchant;
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() || undefined;
  if (typeof value === 'number') return String(value);
  return undefined;
}

export function resolveAccount(
  ctx: SandboxContext,
  transIn: string,
  transInType: string,
  openIdAppId: string,
): RoyaltyAccount | undefined {
  const { state } = ctx;
  switch (transInType) {
    case 'userId': {
      const user = state.users.get(transIn);
      if (user) return { kind: 'user', id: user.userId, user };
      const merchant = state.merchants.get(transIn);
      return merchant ? { kind: 'merchant', id: merchant.pid, merchant } : undefined;
    }
    case 'openId': {
      const owner = state.openIds.get(transIn);
      const user = owner && owner.appId === openIdAppId ? state.users.get(owner.userId) : undefined;
      return user ? { kind: 'user', id: user.userId, user } : undefined;
    }
    case 'loginName': {
      const user = state.usersByLogonId.get(transIn);
      return user ? { kind: 'user', id: user.userId, user } : undefined;
    }
    default:
      return undefined;
  }
}

/** Kept for callers that only split to users (older tests). */
export function resolveReceiver(
  ctx: SandboxContext,
  transIn: string,
  transInType: string,
  openIdAppId: string,
): User | undefined {
  return resolveAccount(ctx, transIn, transInType, openIdAppId)?.user;
}

function accountOf(ctx: SandboxContext, receiver: { userId: string }): RoyaltyAccount | undefined {
  return resolveAccount(ctx, receiver.userId, 'userId', '');
}

function percentageOf(value: unknown): number | undefined {
  const raw = text(value);
  if (raw === undefined) return undefined;
  const pct = Number(raw);
  if (!Number.isInteger(pct) || pct < 1 || pct > 100)
    throw invalidParameter('amount_percentage 须为 1–100 的整数');
  return pct;
}

export function isRoyaltyFreeze(extendParams: unknown): boolean {
  return String(asRecord(extendParams)?.royalty_freeze) === 'true';
}

export function parseRoyaltyInfo(
  ctx: SandboxContext,
  raw: unknown,
  extendParams: unknown,
  totalFen: number,
  openIdAppId: string,
): RoyaltyPlan | undefined {
  if (raw === undefined) return undefined;
  const info = asRecord(raw);
  const details = info?.royalty_detail_infos;
  if (!info || !Array.isArray(details) || details.length === 0) {
    throw invalidParameter('royalty_info.royalty_detail_infos');
  }
  const plan: RoyaltyPlan = { frozen: isRoyaltyFreeze(extendParams), details: [] };
  let fixedFen = 0;
  for (const item of details) {
    const detail = asRecord(item);
    const transIn = text(detail?.trans_in);
    const transInType = text(detail?.trans_in_type) ?? 'userId';
    if (!detail || !transIn) throw invalidParameter('royalty_detail_infos.trans_in');
    if (!resolveAccount(ctx, transIn, transInType, openIdAppId)) {
      throw businessError('ACQ.ROYALTY_RECEIVER_INVALID', '分账收入方账户无效');
    }
    const amountText = text(detail.amount);
    const amountFen =
      amountText === undefined ? undefined : parseYuan(amountText, 'amount', 'ACQ.INVALID_PARAMETER');
    const percentage = amountFen === undefined ? percentageOf(detail.amount_percentage) : undefined;
    if (amountFen === undefined && percentage === undefined)
      throw invalidParameter('amount 或 amount_percentage');
    fixedFen += amountFen ?? Math.floor((totalFen * (percentage ?? 0)) / 100);
    plan.details.push({ transIn, transInType, amountFen, percentage });
  }
  if (fixedFen > totalFen) throw businessError('ACQ.ALLOC_AMOUNT_VALIDATE_ERROR', '分账金额超过交易金额');
  return plan;
}

function credit(ctx: SandboxContext, trade: Trade, account: RoyaltyAccount, amountFen: number): void {
  if (account.user) account.user.balanceFen += amountFen;
  if (account.merchant) {
    bookMerchant(ctx, account.merchant, {
      bizNo: trade.tradeNo,
      outTradeNo: trade.outTradeNo,
      subject: trade.subject,
      counterparty: trade.seller.pid,
      amountFen,
      bizType: '分账',
      memo: amountFen >= 0 ? '分账收入' : '退分账',
    });
  }
}

function transfer(ctx: SandboxContext, trade: Trade, receivers: RoyaltyReceiver[], amountFen: number): void {
  for (const receiver of receivers) {
    const account = accountOf(ctx, receiver);
    if (account) credit(ctx, trade, account, receiver.amountFen);
  }
  bookMerchant(ctx, trade.seller, {
    bizNo: trade.tradeNo,
    outTradeNo: trade.outTradeNo,
    subject: trade.subject,
    counterparty: receivers.map((r) => r.transIn).join('|'),
    amountFen: -amountFen,
    bizType: '分账',
    memo: '分账',
  });
  trade.settledFen += amountFen;
}

/** Runs the split that royalty_info asked for, at payment time (not for frozen plans). */
export function applyRoyaltyOnPayment(ctx: SandboxContext, trade: Trade): void {
  const plan = trade.royalty;
  if (!plan || plan.frozen) return;
  const receivers: RoyaltyReceiver[] = plan.details.map((detail) => {
    const account = resolveAccount(ctx, detail.transIn, detail.transInType, trade.openIdAppId);
    return {
      transIn: detail.transIn,
      transInType: detail.transInType,
      userId: account?.id ?? '',
      accountKind: account?.kind,
      amountFen: detail.amountFen ?? Math.floor((trade.totalFen * (detail.percentage ?? 0)) / 100),
    };
  });
  const amountFen = receivers.reduce((sum, r) => sum + r.amountFen, 0);
  const settlement: Settlement = {
    settleNo: newSettleNo(ctx.clock.now()),
    source: 'royalty_info',
    receivers,
    amountFen,
    finish: true,
    at: ctx.clock.now(),
    fingerprint: '',
    mode: 'sync',
    state: 'SUCCESS',
  };
  transfer(ctx, trade, receivers, amountFen);
  trade.settlements.push(settlement);
  trade.allocationFinished = true;
}

export interface SettleRequest {
  outRequestNo: string;
  royaltyParameters: unknown;
  finish: boolean;
  mode: 'sync' | 'async';
}

/** How long an async split takes in the sandbox (real time), before it runs and its message is sent. */
const ASYNC_SETTLE_DELAY_MS = 50;

/**
 * alipay.trade.order.settle on a paid trade (ALIPAY.md §4.15, ALIPAY-M2.md §2). Idempotent on out_request_no:
 * the same request answers the same settle_no, a different one ACQ.DISCORDANT_REPEAT_REQUEST. `async` answers
 * at once (state PROCESSING) and splits a moment later, then sends `alipay.trade.order.settle.notify` to the
 * app gateway when the app subscribed to it.
 */
export function settleTrade(ctx: SandboxContext, trade: Trade, request: SettleRequest): Settlement {
  const params = Array.isArray(request.royaltyParameters) ? request.royaltyParameters : [];
  const fingerprint = JSON.stringify([trade.tradeNo, params, request.finish, request.mode]);
  const repeat = trade.settlements.find((s) => s.outRequestNo === request.outRequestNo);
  if (repeat) {
    if (repeat.fingerprint !== fingerprint) {
      throw businessError('ACQ.DISCORDANT_REPEAT_REQUEST', '请求参数与之前请求不一致');
    }
    return repeat;
  }
  const key = `${trade.merchant.pid}\n${request.outRequestNo}`;
  if (ctx.state.settleRequests.has(key)) throw businessError('ACQ.DUP_OUT_REQUEST_NO', '外部请求号重复');
  if (trade.status !== 'TRADE_SUCCESS' && trade.status !== 'TRADE_FINISHED') {
    throw businessError('ACQ.TRADE_STATUS_ERROR', '交易状态不合法');
  }
  if (trade.allocationFinished) throw businessError('ACQ.ALREADY_FINISH_ALLOC', '交易已完结分账');
  if (params.length === 0 && !request.finish) throw invalidParameter('royalty_parameters');
  // "Never mix sync and async on the same trade" (ALIPAY-M2.md §2 rules).
  const otherMode = trade.settlements.find(
    (s) => s.source === 'trade.order.settle' && (s.mode ?? 'sync') !== request.mode,
  );
  if (otherMode) throw invalidParameter('同一笔交易不能混用同步与异步分账');

  const availableFen = trade.totalFen - trade.refundedFen - trade.settledFen - pendingFen(trade);
  const receivers: RoyaltyReceiver[] = [];
  for (const item of params) {
    const detail = asRecord(item);
    const transIn = text(detail?.trans_in);
    const transInType = text(detail?.trans_in_type) ?? 'userId';
    if (!detail || !transIn) throw invalidParameter('royalty_parameters.trans_in');
    const transOut = text(detail.trans_out);
    if (transOut && transOut === transIn)
      throw businessError('ACQ.ROYALTY_ACCOUNTS_EQUAL', '分账转出方与转入方相同');
    if (transOut && transOut !== trade.seller.pid) {
      throw businessError('ACQ.ROYALTY_ACCOUNT_NOT_EXIST', '分账转出方账户不是收款方');
    }
    const account = resolveAccount(ctx, transIn, transInType, trade.openIdAppId);
    if (!account) throw businessError('ACQ.ROYALTY_RECEIVER_INVALID', '分账收入方账户无效');
    if (account.id === trade.seller.pid)
      throw businessError('ACQ.ROYALTY_ACCOUNTS_EQUAL', '分账转出方与转入方相同');
    const amountText = text(detail.amount);
    const percentage = amountText === undefined ? percentageOf(detail.amount_percentage) : undefined;
    const amountFen =
      amountText !== undefined
        ? parseYuan(amountText, 'amount', 'ACQ.INVALID_PARAMETER')
        : percentage !== undefined
          ? Math.floor((trade.totalFen * percentage) / 100)
          : undefined;
    if (amountFen === undefined) throw invalidParameter('amount 或 amount_percentage');
    receivers.push({ transIn, transInType, userId: account.id, accountKind: account.kind, amountFen });
  }
  const amountFen = receivers.reduce((sum, r) => sum + r.amountFen, 0);
  if (amountFen > availableFen) {
    throw businessError('ACQ.ALLOC_AMOUNT_VALIDATE_ERROR', '分账金额超过可分账金额');
  }
  const settlement: Settlement = {
    settleNo: newSettleNo(ctx.clock.now()),
    outRequestNo: request.outRequestNo,
    source: 'trade.order.settle',
    receivers,
    amountFen,
    finish: request.finish,
    at: ctx.clock.now(),
    fingerprint,
    mode: request.mode,
    state: request.mode === 'async' ? 'PROCESSING' : 'SUCCESS',
  };
  trade.settlements.push(settlement);
  ctx.state.settleRequests.set(key, { tradeNo: trade.tradeNo, settleNo: settlement.settleNo });
  if (request.mode === 'sync') {
    if (amountFen > 0) transfer(ctx, trade, receivers, amountFen);
    if (request.finish) trade.allocationFinished = true;
  } else {
    ctx.timers.after(ASYNC_SETTLE_DELAY_MS, () => completeAsyncSettlement(ctx, trade, settlement));
  }
  return settlement;
}

/**
 * The money of a trade paid with royalty_freeze that waits for a split (ALIPAY-M2.md §2): it is in the seller's
 * balance but frozen there until a settle with royalty_finish releases what no receiver took; refunds and
 * splits draw on it.
 */
export function frozenFen(trade: Trade): number {
  if (!trade.royaltyFreeze || trade.allocationFinished || !trade.paidAt) return 0;
  return Math.max(0, trade.totalFen - trade.refundedFen - trade.settledFen);
}

/** Money promised to async splits still PROCESSING: not available to another split or a refund. */
function pendingFen(trade: Trade): number {
  return trade.settlements.filter((s) => s.state === 'PROCESSING').reduce((sum, s) => sum + s.amountFen, 0);
}

function completeAsyncSettlement(ctx: SandboxContext, trade: Trade, settlement: Settlement): void {
  if (settlement.state !== 'PROCESSING') return;
  if (trade.status === 'TRADE_CLOSED' && trade.refundedFen >= trade.totalFen) {
    settlement.state = 'FAIL';
    settlement.errorCode = 'TXN_RESULT_ACCOUNT_BALANCE_NOT_ENOUGH';
  } else {
    if (settlement.amountFen > 0) transfer(ctx, trade, settlement.receivers, settlement.amountFen);
    // royalty_finish takes effect with the split: a failed one leaves the money frozen for another try.
    if (settlement.finish) trade.allocationFinished = true;
    settlement.state = 'SUCCESS';
  }
  sendSettleMessage(ctx, trade, settlement);
}

/** The royalty_detail_list of the settle query and message (ALIPAY-M2.md §2: RoyaltyDetail). */
export function royaltyDetailList(trade: Trade, settlement: Settlement): Array<Record<string, string>> {
  return settlement.receivers.map((r, i) => ({
    operation_type: 'transfer',
    execute_dt: formatBeijing(settlement.at),
    trans_out: trade.seller.pid,
    trans_out_type: 'userId',
    trans_in: r.transIn,
    trans_in_type: r.transInType,
    amount: yuanText(r.amountFen),
    state: settlement.state ?? 'SUCCESS',
    detail_id: `${settlement.settleNo}${String(i + 1).padStart(3, '0')}`,
    ...(settlement.state === 'FAIL'
      ? { error_code: settlement.errorCode ?? 'UNKNOWN', error_desc: '分账失败' }
      : {}),
  }));
}

/**
 * `alipay.trade.order.settle.notify` to the calling app's gateway (ALIPAY-M2.md §2 "Async result": a message,
 * §0 format). Its biz_content fields are not confirmed there; the sandbox sends what the settle query answers.
 */
function sendSettleMessage(ctx: SandboxContext, trade: Trade, settlement: Settlement): void {
  const app = ctx.state.apps.get(trade.appId);
  if (!app?.appGatewayUrl || !app.messageTopics.has('alipay.trade.order.settle.notify')) return;
  ctx.notifier.send({
    notifyType: 'alipay.trade.order.settle.notify',
    notifyUrl: app.appGatewayUrl,
    appId: app.appId,
    outTradeNo: trade.outTradeNo,
    tradeNo: trade.tradeNo,
    fields: {
      app_id: app.appId,
      auth_app_id: trade.merchant.appId,
      biz_content: JSON.stringify({
        trade_no: trade.tradeNo,
        out_request_no: settlement.outRequestNo,
        settle_no: settlement.settleNo,
        operation_dt: formatBeijing(ctx.clock.now()),
        royalty_detail_list: royaltyDetailList(trade, settlement),
      }),
    },
  });
}

/** What each receiver got from this trade, less what refunds already took back. */
function netReceived(trade: Trade): Map<string, { receiver: RoyaltyReceiver; fen: number }> {
  const byAccount = new Map<string, { receiver: RoyaltyReceiver; fen: number }>();
  for (const settlement of trade.settlements) {
    if (settlement.state && settlement.state !== 'SUCCESS') continue;
    for (const r of settlement.receivers) {
      const entry = byAccount.get(r.userId) ?? { receiver: r, fen: 0 };
      entry.fen += r.amountFen;
      byAccount.set(r.userId, entry);
    }
  }
  for (const back of trade.royaltyReturns ?? []) {
    const entry = byAccount.get(back.accountId);
    if (entry) entry.fen -= back.amountFen;
  }
  return byAccount;
}

/** A requested return: refund_royalty_parameters (trans_out = the receiver, trans_in = the seller). */
export interface RequestedRoyaltyReturn {
  accountId: string;
  amountFen: number;
}

export function parseRefundRoyaltyParameters(
  ctx: SandboxContext,
  raw: unknown,
  trade: Trade,
): RequestedRoyaltyReturn[] | undefined {
  if (raw === undefined) return undefined;
  if (!Array.isArray(raw)) throw invalidParameter('refund_royalty_parameters');
  return raw.map((item) => {
    const detail = asRecord(item);
    const transOut = text(detail?.trans_out);
    if (!detail || !transOut) throw invalidParameter('refund_royalty_parameters.trans_out');
    const account = resolveAccount(ctx, transOut, text(detail.trans_out_type) ?? 'userId', trade.openIdAppId);
    if (!account) throw businessError('ACQ.ROYALTY_RECEIVER_INVALID', '退分账转出方账户无效');
    const transIn = text(detail.trans_in);
    if (transIn && transIn !== trade.seller.pid) throw invalidParameter('退分账转入方须为收款方');
    return { accountId: account.id, amountFen: parseYuan(detail.amount, 'amount', 'ACQ.INVALID_PARAMETER') };
  });
}

/**
 * The royalty a refund takes back before the buyer gets the money (ALIPAY-M2.md §2 "Refunds and royalty"):
 * - refund_royalty_parameters given: exactly those amounts, from those receivers, never more than each got;
 * - none given on a 当面付 trade (FACE_TO_FACE_PAYMENT: precreate, bar code): Alipay reverses by itself, in
 *   proportion (its rounding is not documented; ours: each receiver keeps floor(received × still paid / total),
 *   so a rounding fen goes back to the seller, as the split's own remainder does);
 * - none given on other products (JSAPI_PAY, …): nothing comes back; the seller alone pays the refund.
 * Returns the moves to make; the caller checks the seller's balance and applies them (applyRoyaltyReturns).
 */
export function planRoyaltyReturns(
  trade: Trade,
  refundFen: number,
  requested: RequestedRoyaltyReturn[] | undefined,
): Array<{ receiver: RoyaltyReceiver; amountFen: number; how: RoyaltyReturn['how'] }> {
  const received = netReceived(trade);
  if (requested) {
    return requested.map((r) => {
      const entry = received.get(r.accountId);
      if (!entry || entry.fen < r.amountFen)
        throw businessError('ACQ.REFUND_ROYALTY_AMOUNT_ERROR', '退分账金额超过分账收入方的分账金额');
      return { receiver: entry.receiver, amountFen: r.amountFen, how: 'requested' as const };
    });
  }
  if (trade.productCode !== 'FACE_TO_FACE_PAYMENT') return [];
  const refundedAfter = trade.refundedFen + refundFen;
  const moves: Array<{ receiver: RoyaltyReceiver; amountFen: number; how: RoyaltyReturn['how'] }> = [];
  for (const [accountId, entry] of received) {
    const gotFen = trade.settlements
      .filter((s) => !s.state || s.state === 'SUCCESS')
      .flatMap((s) => s.receivers)
      .filter((r) => r.userId === accountId)
      .reduce((sum, r) => sum + r.amountFen, 0);
    const returnedFen = gotFen - entry.fen;
    const keepsFen = Math.floor((gotFen * (trade.totalFen - refundedAfter)) / trade.totalFen);
    const owedFen = gotFen - keepsFen - returnedFen;
    if (owedFen > 0) moves.push({ receiver: entry.receiver, amountFen: owedFen, how: 'auto' });
  }
  return moves;
}

/** Moves the planned royalty back from the receivers to the seller. */
export function applyRoyaltyReturns(
  ctx: SandboxContext,
  trade: Trade,
  outRequestNo: string,
  moves: ReturnType<typeof planRoyaltyReturns>,
): void {
  for (const move of moves) {
    const account = accountOf(ctx, move.receiver);
    if (account) credit(ctx, trade, account, -move.amountFen);
    bookMerchant(ctx, trade.seller, {
      bizNo: trade.tradeNo,
      outTradeNo: trade.outTradeNo,
      subject: trade.subject,
      counterparty: move.receiver.transIn,
      amountFen: move.amountFen,
      bizType: '分账',
      memo: '退分账',
    });
    trade.settledFen -= move.amountFen;
    (trade.royaltyReturns ??= []).push({
      outRequestNo,
      accountId: move.receiver.userId,
      amountFen: move.amountFen,
      how: move.how,
    });
  }
}
