import type { SandboxContext } from '../context.js';
import type { ApiHandler, GatewayCall } from '../gateway/api.js';
import { newTradeNo } from '../ids.js';
import { AlipayError, businessError } from '../protocol/alipay-error.js';
import type { Trade } from '../state/types.js';
import { closeUnpaidTrade, refundTrade } from '../domain/trades.js';
import { findTrade, optionalText } from './biz.js';
import { storeTrade } from './trade-create.js';
import { closeUnscannedPrecreate } from '../domain/precreate.js';

/**
 * alipay.trade.close (ALIPAY.md §4.6): only an unpaid trade can be closed. A precreate nobody scanned is not a
 * trade yet (ACQ.TRADE_NOT_EXIST), but its code opens nothing afterwards (ALIPAY-M2.md §1, a 3P report).
 */
export const tradeClose: ApiHandler = (ctx, call) => {
  let trade: Trade;
  try {
    trade = findTrade(ctx, call);
  } catch (error) {
    const outTradeNo = optionalText(call.biz, 'out_trade_no');
    if (error instanceof AlipayError && error.subCode === 'ACQ.TRADE_NOT_EXIST' && outTradeNo)
      closeUnscannedPrecreate(ctx, call.merchant.pid, outTradeNo);
    throw error;
  }
  if (trade.status !== 'WAIT_BUYER_PAY') throw businessError('ACQ.TRADE_STATUS_ERROR', '交易状态不合法');
  closeUnpaidTrade(ctx, trade);
  return { code: '10000', msg: 'Success', trade_no: trade.tradeNo, out_trade_no: trade.outTradeNo };
};

/** A zero-amount closed trade that reserves an out_trade_no which never reached the sandbox. */
function closedPlaceholder(ctx: SandboxContext, call: GatewayCall, outTradeNo: string): Trade {
  const now = ctx.clock.now();
  return {
    tradeNo: newTradeNo(now),
    outTradeNo,
    appId: call.app.appId,
    merchant: call.merchant,
    seller: call.merchant,
    openIdAppId: call.app.appId,
    createdBy: 'alipay.trade.cancel',
    productCode: 'FACE_TO_FACE_PAYMENT',
    totalFen: 0,
    subject: '',
    status: 'TRADE_CLOSED',
    createdAt: now,
    closedAt: now,
    refundedFen: 0,
    refunds: new Map(),
    settlements: [],
    settledFen: 0,
    allocationFinished: false,
    cancelAction: 'close',
  };
}

function cancelAnswer(trade: Trade, action: 'close' | 'refund' | undefined): Record<string, unknown> {
  return {
    code: '10000',
    msg: 'Success',
    trade_no: trade.tradeNo,
    out_trade_no: trade.outTradeNo,
    retry_flag: 'N',
    ...(action ? { action } : {}),
  };
}

/**
 * alipay.trade.cancel (ALIPAY.md §4.7), for payments whose result is unknown: closes an unpaid trade, refunds a
 * paid one within the cancel window (then ACQ.TRADE_CANCEL_TIME_OUT). Repeats answer the same action.
 * The ACQ error list has no TRADE_NOT_EXIST for cancel: an out_trade_no that never reached Alipay is closed
 * in advance, so a late trade.pay with it gets ACQ.TRADE_HAS_CLOSE (inferred; see docs/sandbox.md).
 */
export const tradeCancel: ApiHandler = (ctx, call) => {
  let trade: Trade;
  try {
    trade = findTrade(ctx, call);
  } catch (error) {
    const outTradeNo = optionalText(call.biz, 'out_trade_no');
    if (!(error instanceof AlipayError) || error.subCode !== 'ACQ.TRADE_NOT_EXIST' || !outTradeNo)
      throw error;
    closeUnscannedPrecreate(ctx, call.merchant.pid, outTradeNo);
    const placeholder = closedPlaceholder(ctx, call, outTradeNo);
    storeTrade(ctx, placeholder);
    return cancelAnswer(placeholder, 'close');
  }
  if (trade.cancelAction) return cancelAnswer(trade, trade.cancelAction);
  if (trade.status === 'TRADE_FINISHED') throw businessError('ACQ.TRADE_HAS_FINISHED', '交易已完结');
  if (trade.status === 'WAIT_BUYER_PAY') {
    closeUnpaidTrade(ctx, trade);
    trade.cancelAction = 'close';
    return cancelAnswer(trade, 'close');
  }
  if (trade.status === 'TRADE_CLOSED') return cancelAnswer(trade, undefined);
  if (trade.paidAt && trade.paidAt.getTime() + ctx.settings.cancelWindowMs <= ctx.clock.nowMs()) {
    throw businessError('ACQ.TRADE_CANCEL_TIME_OUT', '超过撤销时间范围，请使用退款接口');
  }
  const remainingFen = trade.totalFen - trade.refundedFen;
  if (remainingFen > 0) {
    refundTrade(ctx, trade, {
      outRequestNo: `cancel-${trade.tradeNo}`,
      amountFen: remainingFen,
      byCancel: true,
    });
  }
  trade.cancelAction = 'refund';
  return cancelAnswer(trade, 'refund');
};
