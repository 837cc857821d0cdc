import type { SandboxContext } from '../context.js';
import { businessError, invalidParameter } from '../protocol/alipay-error.js';
import { newSettleNo } from '../ids.js';
import type { RoyaltyPlan, RoyaltyReceiver, Settlement, Trade, User } from '../state/types.js';
import { parseYuan } from './amounts.js';
import { bookMerchant } from './accounts.js';

/**
 * Profit sharing (ALIPAY.md §4.15, DESIGN §7.6): `royalty_info` on trade.create / trade.pay splits the money
 * when the trade is paid, unless `extend_params.royalty_freeze` keeps it for a later `alipay.trade.order.settle`.
 * Receivers are sandbox users (trans_in_type userId, openId or loginName).
 */

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

export function resolveReceiver(
  ctx: SandboxContext,
  transIn: string,
  transInType: string,
  openIdAppId: string,
): User | undefined {
  const { state } = ctx;
  switch (transInType) {
    case 'userId':
      return state.users.get(transIn);
    case 'openId': {
      const owner = state.openIds.get(transIn);
      return owner && owner.appId === openIdAppId ? state.users.get(owner.userId) : undefined;
    }
    case 'loginName':
      return state.usersByLogonId.get(transIn);
    default:
      return undefined;
  }
}

function percentageOf(value: unknown): number | undefined {
  const raw = text(value);
  if (raw === undefined) return undefined;
  const pct = Number(raw);
  if (!Number.isInteger(pct) || pct < 1 || pct > 100)
    throw invalidParameter('amount_percentage 须为 1–100 的整数');
  return pct;
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
  const plan: RoyaltyPlan = {
    frozen: String(asRecord(extendParams)?.royalty_freeze) === 'true',
    details: [],
  };
  let fixedFen = 0;
  for (const item of details) {
    const detail = asRecord(item);
    const transIn = text(detail?.trans_in);
    const transInType = text(detail?.trans_in_type) ?? 'userId';
    if (!detail || !transIn) throw invalidParameter('royalty_detail_infos.trans_in');
    if (!resolveReceiver(ctx, transIn, transInType, openIdAppId)) {
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

function transfer(ctx: SandboxContext, trade: Trade, receivers: RoyaltyReceiver[], amountFen: number): void {
  for (const receiver of receivers) {
    const user = ctx.state.users.get(receiver.userId);
    if (user) user.balanceFen += receiver.amountFen;
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
  const receivers: RoyaltyReceiver[] = plan.details.map((detail) => ({
    transIn: detail.transIn,
    transInType: detail.transInType,
    userId: resolveReceiver(ctx, detail.transIn, detail.transInType, trade.openIdAppId)?.userId ?? '',
    amountFen: detail.amountFen ?? Math.floor((trade.totalFen * (detail.percentage ?? 0)) / 100),
  }));
  const amountFen = receivers.reduce((sum, r) => sum + r.amountFen, 0);
  const settlement: Settlement = {
    settleNo: newSettleNo(ctx.clock.now()),
    source: 'royalty_info',
    receivers,
    amountFen,
    finish: true,
    at: ctx.clock.now(),
    fingerprint: '',
  };
  transfer(ctx, trade, receivers, amountFen);
  trade.settlements.push(settlement);
  trade.allocationFinished = true;
}

export interface SettleRequest {
  outRequestNo: string;
  royaltyParameters: unknown;
  finish: boolean;
}

/** alipay.trade.order.settle on a paid trade (ALIPAY.md §4.15). Idempotent on out_request_no. */
export function settleTrade(ctx: SandboxContext, trade: Trade, request: SettleRequest): Settlement {
  const params = Array.isArray(request.royaltyParameters) ? request.royaltyParameters : [];
  const fingerprint = JSON.stringify([trade.tradeNo, params, request.finish]);
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

  const availableFen = trade.totalFen - trade.refundedFen - trade.settledFen;
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
    const receiver = resolveReceiver(ctx, transIn, transInType, trade.openIdAppId);
    if (!receiver) throw businessError('ACQ.ROYALTY_RECEIVER_INVALID', '分账收入方账户无效');
    const amountText = text(detail.amount);
    const percentage = amountText === undefined ? percentageOf(detail.amount_percentage) : undefined;
    const amountFen =
      amountText !== undefined
        ? parseYuan(amountText, 'amount', 'ACQ.INVALID_PARAMETER')
        : percentage !== undefined
          ? Math.floor((trade.totalFen * percentage) / 100)
          : undefined;
    if (amountFen === undefined) throw invalidParameter('amount 或 amount_percentage');
    receivers.push({ transIn, transInType, userId: receiver.userId, amountFen });
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
  };
  if (amountFen > 0) transfer(ctx, trade, receivers, amountFen);
  trade.settlements.push(settlement);
  if (request.finish) trade.allocationFinished = true;
  ctx.state.settleRequests.set(key, { tradeNo: trade.tradeNo, settleNo: settlement.settleNo });
  return settlement;
}
