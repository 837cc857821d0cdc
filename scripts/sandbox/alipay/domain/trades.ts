import type { SandboxContext } from '../context.js';
import { yuanText } from './amounts.js';
import { formatBeijing } from '../beijing-time.js';
import type { Refund, Trade, User } from '../state/types.js';
import { bookMerchant, identityFields, idModeOfApp, maskLogonId } from './accounts.js';
import { applyRoyaltyOnPayment, applyRoyaltyReturns, planRoyaltyReturns } from './royalty.js';

/**
 * The trade state machine (ALIPAY.md §3.2, §7 item 6):
 * WAIT_BUYER_PAY → TRADE_SUCCESS → (TRADE_FINISHED | TRADE_CLOSED), and WAIT_BUYER_PAY → TRADE_CLOSED.
 * Time-driven moves (expiry, end of the refund window) happen lazily whenever a trade is looked at, against
 * the sandbox clock, so advancing the clock is enough to test them.
 */

export function refreshTradeStatus(ctx: SandboxContext, trade: Trade): Trade {
  const now = ctx.clock.nowMs();
  if (trade.status === 'WAIT_BUYER_PAY' && trade.expiresAt && trade.expiresAt.getTime() <= now) {
    trade.status = 'TRADE_CLOSED';
    trade.closedAt = trade.expiresAt;
  } else if (
    trade.status === 'TRADE_SUCCESS' &&
    trade.paidAt &&
    trade.paidAt.getTime() + ctx.settings.refundWindowMs <= now
  ) {
    trade.status = 'TRADE_FINISHED';
  }
  return trade;
}

export function isPaid(trade: Trade): boolean {
  return trade.status === 'TRADE_SUCCESS' || trade.status === 'TRADE_FINISHED' || trade.paidAt !== undefined;
}

export type CollectOutcome = { ok: true } | { ok: false; reason: 'balance' | 'status' };

/**
 * The buyer's money moves to the seller; royalty_info is split; the TRADE_SUCCESS notification goes to the
 * trade's notify_url. Shared by trade.pay, the control "buyer pays" route and delayed 10003 outcomes.
 */
export function collectPayment(ctx: SandboxContext, trade: Trade, buyer: User): CollectOutcome {
  refreshTradeStatus(ctx, trade);
  if (trade.status !== 'WAIT_BUYER_PAY') return { ok: false, reason: 'status' };
  if (buyer.balanceFen < trade.totalFen) return { ok: false, reason: 'balance' };
  buyer.balanceFen -= trade.totalFen;
  trade.buyer = buyer;
  trade.awaitingBuyerConfirmation = undefined;
  trade.status = 'TRADE_SUCCESS';
  trade.paidAt = ctx.clock.now();
  bookMerchant(ctx, trade.seller, {
    bizNo: trade.tradeNo,
    outTradeNo: trade.outTradeNo,
    subject: trade.subject,
    counterparty: maskLogonId(buyer.logonId),
    amountFen: trade.totalFen,
    bizType: '交易',
    memo: trade.body ?? '',
  });
  applyRoyaltyOnPayment(ctx, trade);
  notifyTradeSuccess(ctx, trade);
  return { ok: true };
}

export function closeUnpaidTrade(ctx: SandboxContext, trade: Trade): void {
  trade.status = 'TRADE_CLOSED';
  trade.closedAt = ctx.clock.now();
}

/**
 * Money back to the buyer; a full refund closes the trade (ALIPAY.md §3.2). Royalty already split is taken back
 * first as `royaltyMoves` says (royalty.ts planRoyaltyReturns). Checks are the caller's job.
 */
export function refundTrade(
  ctx: SandboxContext,
  trade: Trade,
  request: { outRequestNo: string; amountFen: number; reason?: string; byCancel: boolean },
  royaltyMoves: ReturnType<typeof planRoyaltyReturns> = planRoyaltyReturns(
    trade,
    request.amountFen,
    undefined,
  ),
): Refund {
  applyRoyaltyReturns(ctx, trade, request.outRequestNo, royaltyMoves);
  const refund: Refund = { ...request, refundedAt: ctx.clock.now() };
  if (trade.buyer) trade.buyer.balanceFen += request.amountFen;
  bookMerchant(ctx, trade.seller, {
    bizNo: trade.tradeNo,
    outTradeNo: trade.outTradeNo,
    subject: trade.subject,
    counterparty: trade.buyer ? maskLogonId(trade.buyer.logonId) : '',
    amountFen: -request.amountFen,
    bizType: '退款',
    memo: request.reason ?? '',
  });
  trade.refunds.set(request.outRequestNo, refund);
  trade.refundedFen += request.amountFen;
  if (trade.refundedFen >= trade.totalFen) {
    trade.status = 'TRADE_CLOSED';
    trade.closedAt = refund.refundedAt;
  }
  return refund;
}

/** The amounts block of trade answers: zeros until paid (ALIPAY.md §4.4 10003 sample, §4.5). */
export function amountFields(trade: Trade): Record<string, string> {
  const paid = trade.paidAt !== undefined;
  const paidYuan = paid ? yuanText(trade.totalFen) : '0.00';
  return {
    total_amount: yuanText(trade.totalFen),
    receipt_amount: paidYuan,
    buyer_pay_amount: paidYuan,
    point_amount: '0.00',
    invoice_amount: paidYuan,
  };
}

export function fundBillList(trade: Trade): Array<{ fund_channel: string; amount: string }> {
  return [{ fund_channel: 'ALIPAYACCOUNT', amount: yuanText(trade.totalFen) }];
}

/** The buyer fields of a sync answer (buyer_user_id / buyer_open_id per the calling app's id mode). */
export function buyerFields(ctx: SandboxContext, trade: Trade): Record<string, string> {
  if (!trade.buyer) return {};
  return {
    buyer_logon_id: maskLogonId(trade.buyer.logonId),
    ...identityFields(ctx, trade.buyer, idModeOfApp(ctx, trade.appId), trade.openIdAppId, {
      userId: 'buyer_user_id',
      openId: 'buyer_open_id',
    }),
  };
}

/** trade_status_sync with the §3.1 fields, to the trade's notify_url. No notify_url, no notification. */
export function notifyTradeSuccess(ctx: SandboxContext, trade: Trade): void {
  if (!trade.notifyUrl || !trade.buyer || !trade.paidAt) return;
  const amounts = amountFields(trade);
  ctx.notifier.send({
    notifyType: 'trade_status_sync',
    notifyUrl: trade.notifyUrl,
    appId: trade.appId,
    outTradeNo: trade.outTradeNo,
    tradeNo: trade.tradeNo,
    fields: {
      app_id: trade.appId,
      auth_app_id: trade.merchant.appId,
      trade_no: trade.tradeNo,
      out_trade_no: trade.outTradeNo,
      trade_status: 'TRADE_SUCCESS',
      ...amounts,
      ...identityFields(ctx, trade.buyer, idModeOfApp(ctx, trade.appId), trade.openIdAppId, {
        userId: 'buyer_id',
        openId: 'buyer_open_id',
      }),
      buyer_logon_id: maskLogonId(trade.buyer.logonId),
      seller_id: trade.seller.pid,
      seller_email: maskLogonId(trade.seller.email),
      subject: trade.subject,
      body: trade.body,
      gmt_create: formatBeijing(trade.createdAt),
      gmt_payment: formatBeijing(trade.paidAt),
      // A JSON string with camelCase keys in notifications (ALIPAY.md §3.1), unlike the sync answer.
      fund_bill_list: JSON.stringify([{ amount: amounts.total_amount, fundChannel: 'ALIPAYACCOUNT' }]),
      passback_params: trade.passbackParams,
    },
  });
}
