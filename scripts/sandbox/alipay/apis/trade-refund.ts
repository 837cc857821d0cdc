import { formatBeijing } from '../beijing-time.js';
import { parseYuan, yuanText } from '../domain/amounts.js';
import type { ApiHandler } from '../gateway/api.js';
import { businessError } from '../protocol/alipay-error.js';
import { buyerFields, refundTrade } from '../domain/trades.js';
import { parseRefundRoyaltyParameters, planRoyaltyReturns } from '../domain/royalty.js';
import { findTrade, optionalText, requiredText } from './biz.js';

function queryOptions(biz: Readonly<Record<string, unknown>>): Set<string> {
  const options = biz.query_options;
  return new Set(Array.isArray(options) ? options.map(String) : []);
}

/**
 * alipay.trade.refund (ALIPAY.md §4.8): idempotent on (trade, out_request_no) — a repeat with the same amount
 * answers fund_change N, a different amount ACQ.DISCORDANT_REPEAT_REQUEST; refund_fee is cumulative; never more
 * than was paid; a full refund closes the trade. out_request_no defaults to out_trade_no.
 */
export const tradeRefund: ApiHandler = (ctx, call) => {
  const amountFen = parseYuan(call.biz.refund_amount, 'refund_amount', 'ACQ.INVALID_PARAMETER');
  const trade = findTrade(ctx, call);
  const outRequestNo = optionalText(call.biz, 'out_request_no') ?? trade.outTradeNo;
  if (outRequestNo.length > 64)
    throw businessError('ACQ.INVALID_PARAMETER', '参数无效: out_request_no 长度超过 64');
  const previous = trade.refunds.get(outRequestNo);
  let fundChange = 'Y';
  let refundedAt: Date;
  if (previous) {
    if (previous.amountFen !== amountFen) {
      throw businessError('ACQ.DISCORDANT_REPEAT_REQUEST', '退款请求号对应的退款金额与之前请求不一致');
    }
    fundChange = 'N';
    refundedAt = previous.refundedAt;
  } else {
    if (trade.status === 'WAIT_BUYER_PAY') throw businessError('ACQ.TRADE_STATUS_ERROR', '交易状态不合法');
    if (trade.status === 'TRADE_FINISHED') throw businessError('ACQ.TRADE_HAS_FINISHED', '交易已完结');
    if (trade.status === 'TRADE_CLOSED') throw businessError('ACQ.TRADE_HAS_CLOSE', '交易已经关闭');
    if (trade.refundedFen + amountFen > trade.totalFen) {
      throw businessError('ACQ.REASON_TRADE_REFUND_FEE_ERR', '退款金额超限');
    }
    const requested = parseRefundRoyaltyParameters(ctx, call.biz.refund_royalty_parameters, trade);
    const moves = planRoyaltyReturns(trade, amountFen, requested);
    // Royalty already split that does not come back is the seller's to pay; short of it, the refund fails
    // (ALIPAY-M2.md §2: "it fails if the payee's balance is short").
    const returnedFen = moves.reduce((sum, m) => sum + m.amountFen, 0);
    if (trade.settledFen > 0 && trade.seller.balanceFen + returnedFen < amountFen) {
      throw businessError('ACQ.SELLER_BALANCE_NOT_ENOUGH', '卖家余额不足');
    }
    refundedAt = refundTrade(
      ctx,
      trade,
      { outRequestNo, amountFen, reason: optionalText(call.biz, 'refund_reason'), byCancel: false },
      moves,
    ).refundedAt;
  }
  const answer: Record<string, unknown> = {
    code: '10000',
    msg: 'Success',
    trade_no: trade.tradeNo,
    out_trade_no: trade.outTradeNo,
    ...buyerFields(ctx, trade),
    fund_change: fundChange,
    refund_fee: yuanText(trade.refundedFen),
    gmt_refund_pay: formatBeijing(refundedAt),
  };
  if (queryOptions(call.biz).has('refund_detail_item_list')) {
    answer.refund_detail_item_list = [{ fund_channel: 'ALIPAYACCOUNT', amount: yuanText(amountFen) }];
    answer.send_back_fee = yuanText(amountFen);
  }
  return answer;
};

/**
 * alipay.trade.fastpay.refund.query (ALIPAY.md §4.9): REFUND_SUCCESS with this refund's amount; an unknown
 * out_request_no is a bare 10000 without refund data (not a failure).
 */
export const refundQuery: ApiHandler = (ctx, call) => {
  const outRequestNo = requiredText(call.biz, 'out_request_no', 64);
  const trade = findTrade(ctx, call);
  const refund = trade.refunds.get(outRequestNo);
  if (!refund) return { code: '10000', msg: 'Success' };
  const answer: Record<string, unknown> = {
    code: '10000',
    msg: 'Success',
    trade_no: trade.tradeNo,
    out_trade_no: trade.outTradeNo,
    out_request_no: refund.outRequestNo,
    total_amount: yuanText(trade.totalFen),
    refund_amount: yuanText(refund.amountFen),
    refund_status: 'REFUND_SUCCESS',
  };
  if (refund.reason) answer.refund_reason = refund.reason;
  const royaltys = (trade.royaltyReturns ?? []).filter((r) => r.outRequestNo === outRequestNo);
  if (royaltys.length > 0) {
    // ALIPAY-M2.md §2: RefundRoyaltyResult — the royalty this refund took back, receiver → seller.
    answer.refund_royaltys = royaltys.map((r) => ({
      refund_amount: yuanText(r.amountFen),
      royalty_type: 'transfer',
      result_code: 'SUCCESS',
      trans_out: r.accountId,
      trans_in: trade.seller.pid,
      ori_trans_out: trade.seller.pid,
      ori_trans_in: r.accountId,
    }));
  }
  const options = queryOptions(call.biz);
  if (options.has('gmt_refund_pay')) answer.gmt_refund_pay = formatBeijing(refund.refundedAt);
  if (options.has('refund_detail_item_list')) {
    answer.refund_detail_item_list = [{ fund_channel: 'ALIPAYACCOUNT', amount: yuanText(refund.amountFen) }];
  }
  return answer;
};
