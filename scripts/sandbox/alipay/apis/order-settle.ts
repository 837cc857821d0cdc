import type { ApiHandler } from '../gateway/api.js';
import { settleTrade } from '../domain/royalty.js';
import { findTrade, optionalObject, optionalText, requiredText } from './biz.js';

/** alipay.trade.order.settle (ALIPAY.md §4.15): splits a paid trade to royalty receivers. */
export const orderSettle: ApiHandler = (ctx, call) => {
  const outRequestNo = requiredText(call.biz, 'out_request_no', 64);
  requiredText(call.biz, 'trade_no', 64);
  const trade = findTrade(ctx, call);
  const settlement = settleTrade(ctx, trade, {
    outRequestNo,
    royaltyParameters: call.biz.royalty_parameters,
    finish: optionalText(optionalObject(call.biz, 'extend_params') ?? {}, 'royalty_finish') === 'true',
  });
  return { code: '10000', msg: 'Success', trade_no: trade.tradeNo, settle_no: settlement.settleNo };
};
