import type { ApiHandler } from '../gateway/api.js';
import { formatBeijing } from '../beijing-time.js';
import { businessError, invalidParameter } from '../protocol/alipay-error.js';
import { royaltyDetailList, settleTrade } from '../domain/royalty.js';
import { findTrade, optionalObject, optionalText, requiredText } from './biz.js';

/**
 * alipay.trade.order.settle (ALIPAY.md §4.15, ALIPAY-M2.md §2): splits a paid trade to royalty receivers,
 * `royalty_mode` sync (default) or async.
 */
export const orderSettle: ApiHandler = (ctx, call) => {
  const outRequestNo = requiredText(call.biz, 'out_request_no', 64);
  requiredText(call.biz, 'trade_no', 64);
  const mode = optionalText(call.biz, 'royalty_mode') ?? 'sync';
  if (mode !== 'sync' && mode !== 'async') throw invalidParameter('royalty_mode 须为 sync 或 async');
  const trade = findTrade(ctx, call);
  const settlement = settleTrade(ctx, trade, {
    outRequestNo,
    royaltyParameters: call.biz.royalty_parameters,
    finish: optionalText(optionalObject(call.biz, 'extend_params') ?? {}, 'royalty_finish') === 'true',
    mode,
  });
  return { code: '10000', msg: 'Success', trade_no: trade.tradeNo, settle_no: settlement.settleNo };
};

/**
 * alipay.trade.order.settle.query (ALIPAY-M2.md §2): by settle_no, or out_request_no + trade_no; each detail's
 * state is SUCCESS, FAIL or PROCESSING.
 */
export const orderSettleQuery: ApiHandler = (ctx, call) => {
  const settleNo = optionalText(call.biz, 'settle_no');
  const outRequestNo = optionalText(call.biz, 'out_request_no');
  if (!settleNo && !(outRequestNo && optionalText(call.biz, 'trade_no')))
    throw invalidParameter('settle_no 或 out_request_no + trade_no');
  let found;
  if (settleNo) {
    for (const trade of ctx.state.tradesByNo.values()) {
      if (trade.merchant !== call.merchant) continue;
      const settlement = trade.settlements.find((s) => s.settleNo === settleNo);
      if (settlement) found = { trade, settlement };
      if (found) break;
    }
  } else {
    const trade = findTrade(ctx, call);
    const settlement = trade.settlements.find((s) => s.outRequestNo === outRequestNo);
    if (settlement) found = { trade, settlement };
  }
  if (!found) throw businessError('ACQ.SETTLE_NOT_EXIST', '分账单不存在');
  return {
    code: '10000',
    msg: 'Success',
    out_request_no: found.settlement.outRequestNo,
    operation_dt: formatBeijing(found.settlement.at),
    royalty_detail_list: royaltyDetailList(found.trade, found.settlement),
  };
};
