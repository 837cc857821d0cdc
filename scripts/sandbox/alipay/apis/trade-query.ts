import { formatBeijing } from '../beijing-time.js';
import type { ApiHandler } from '../gateway/api.js';
import { amountFields, buyerFields, fundBillList } from '../domain/trades.js';
import { findTrade } from './biz.js';

/** The real ACQ.TRADE_NOT_EXIST answer keeps zero amounts and the out_trade_no (ALIPAY.md §4.5 sample). */
export function tradeNotExistExtra(outTradeNo?: string): Record<string, unknown> {
  return {
    buyer_pay_amount: '0.00',
    invoice_amount: '0.00',
    ...(outTradeNo ? { out_trade_no: outTradeNo } : {}),
    point_amount: '0.00',
    receipt_amount: '0.00',
  };
}

/** alipay.trade.query (ALIPAY.md §4.5). */
export const tradeQuery: ApiHandler = (ctx, call) => {
  const trade = findTrade(ctx, call, tradeNotExistExtra);
  const answer: Record<string, unknown> = {
    code: '10000',
    msg: 'Success',
    trade_no: trade.tradeNo,
    out_trade_no: trade.outTradeNo,
    trade_status: trade.status,
    ...buyerFields(ctx, trade),
    ...amountFields(trade),
  };
  if (trade.paidAt) {
    answer.send_pay_date = formatBeijing(trade.paidAt);
    answer.fund_bill_list = fundBillList(trade);
  }
  if (trade.storeId) answer.store_id = trade.storeId;
  if (trade.terminalId) answer.terminal_id = trade.terminalId;
  return answer;
};
