import type { SandboxContext } from '../context.js';
import type { ApiHandler, GatewayCall } from '../gateway/api.js';
import { newTradeNo } from '../ids.js';
import { businessError, invalidParameter } from '../protocol/alipay-error.js';
import type { Merchant, Trade, User } from '../state/types.js';
import { parseYuan } from '../domain/amounts.js';
import { isRoyaltyFreeze, parseRoyaltyInfo } from '../domain/royalty.js';
import { expiryOf, optionalText, requiredText, resolveNamedBuyer } from './biz.js';
import { refreshTradeStatus } from '../domain/trades.js';

/** The fields both trade.create and trade.pay read the same way. */
export interface TradeBasics {
  outTradeNo: string;
  totalFen: number;
  subject: string;
  openIdAppId: string;
  seller: Merchant;
}

export function readTradeBasics(ctx: SandboxContext, call: GatewayCall): TradeBasics {
  const outTradeNo = requiredText(call.biz, 'out_trade_no', 64);
  const totalFen = parseYuan(call.biz.total_amount, 'total_amount');
  const subject = requiredText(call.biz, 'subject', 256);
  const openIdAppId = optionalText(call.biz, 'op_app_id') ?? call.app.appId;
  const sellerId = optionalText(call.biz, 'seller_id');
  let seller = call.merchant;
  if (sellerId && sellerId !== call.merchant.pid) {
    const other = ctx.state.merchants.get(sellerId);
    if (!other) throw businessError('ACQ.INVALID_RECEIVE_ACCOUNT', '收款账户无效');
    seller = other;
  }
  return { outTradeNo, totalFen, subject, openIdAppId, seller };
}

/**
 * What happens when an out_trade_no comes again (ALIPAY.md §4.3, §7 item 7): a paid trade →
 * ACQ.TRADE_HAS_SUCCESS, a closed one → ACQ.TRADE_HAS_CLOSE, different key details → ACQ.CONTEXT_INCONSISTENT.
 * Returns the existing open trade when the repeat is identical.
 */
export function checkRepeatedOutTradeNo(
  existing: Trade,
  basics: TradeBasics,
  productCode: string,
  buyer: User | undefined,
): Trade {
  const sameContext =
    existing.totalFen === basics.totalFen &&
    existing.productCode === productCode &&
    existing.seller === basics.seller &&
    (buyer === undefined || existing.buyer === undefined || existing.buyer === buyer);
  if (existing.status === 'TRADE_SUCCESS' || existing.status === 'TRADE_FINISHED') {
    if (!sameContext) throw businessError('ACQ.CONTEXT_INCONSISTENT', '交易信息被篡改');
    throw businessError('ACQ.TRADE_HAS_SUCCESS', '交易已被支付');
  }
  if (existing.status === 'TRADE_CLOSED') throw businessError('ACQ.TRADE_HAS_CLOSE', '交易已经关闭');
  if (!sameContext) throw businessError('ACQ.CONTEXT_INCONSISTENT', '交易信息被篡改');
  return existing;
}

export function newTrade(
  ctx: SandboxContext,
  call: GatewayCall,
  basics: TradeBasics,
  details: { productCode: string; createdBy: Trade['createdBy']; buyer?: User },
): Trade {
  const now = ctx.clock.now();
  let tradeNo = newTradeNo(now);
  while (ctx.state.tradesByNo.has(tradeNo)) tradeNo = newTradeNo(now);
  const trade: Trade = {
    tradeNo,
    outTradeNo: basics.outTradeNo,
    appId: call.app.appId,
    merchant: call.merchant,
    seller: basics.seller,
    openIdAppId: basics.openIdAppId,
    createdBy: details.createdBy,
    productCode: details.productCode,
    totalFen: basics.totalFen,
    subject: basics.subject,
    body: optionalText(call.biz, 'body'),
    buyer: details.buyer,
    status: 'WAIT_BUYER_PAY',
    createdAt: now,
    expiresAt: expiryOf(ctx, call, details.productCode),
    notifyUrl: call.params.notify_url || undefined,
    passbackParams: optionalText(call.biz, 'passback_params'),
    storeId: optionalText(call.biz, 'store_id'),
    terminalId: optionalText(call.biz, 'terminal_id'),
    operatorId: optionalText(call.biz, 'operator_id'),
    refundedFen: 0,
    refunds: new Map(),
    royalty: parseRoyaltyInfo(
      ctx,
      call.biz.royalty_info,
      call.biz.extend_params,
      basics.totalFen,
      basics.openIdAppId,
    ),
    royaltyFreeze: isRoyaltyFreeze(call.biz.extend_params) || undefined,
    settlements: [],
    settledFen: 0,
    allocationFinished: false,
  };
  if (trade.notifyUrl && trade.notifyUrl.length > 256) throw invalidParameter('notify_url 过长');
  return trade;
}

export function storeTrade(ctx: SandboxContext, trade: Trade): void {
  ctx.state.tradesByNo.set(trade.tradeNo, trade);
  ctx.state.tradesByOutNo.set(ctx.state.tradeKey(trade.merchant.pid, trade.outTradeNo), trade);
}

/**
 * alipay.trade.create (ALIPAY.md §4.3): a WAIT_BUYER_PAY trade for `my.tradePay({tradeNO})`, carrying its
 * buyer (buyer_open_id or buyer_id) and notify_url. The control route "buyer pays" completes it.
 */
export const tradeCreate: ApiHandler = (ctx, call) => {
  const basics = readTradeBasics(ctx, call);
  const productCode = optionalText(call.biz, 'product_code') ?? 'FACE_TO_FACE_PAYMENT';
  const buyer = resolveNamedBuyer(ctx, call, basics.openIdAppId);
  const existing = ctx.state.tradesByOutNo.get(ctx.state.tradeKey(call.merchant.pid, basics.outTradeNo));
  let trade: Trade;
  if (existing) {
    trade = checkRepeatedOutTradeNo(refreshTradeStatus(ctx, existing), basics, productCode, buyer);
  } else {
    trade = newTrade(ctx, call, basics, { productCode, createdBy: 'alipay.trade.create', buyer });
    storeTrade(ctx, trade);
  }
  return { code: '10000', msg: 'Success', out_trade_no: trade.outTradeNo, trade_no: trade.tradeNo };
};
