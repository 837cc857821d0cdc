import type { SandboxContext } from '../context.js';
import { newTradeNo } from '../ids.js';
import type { Trade, User } from '../state/types.js';
import { payAsBuyer, type CashierResult } from './cashier.js';
import { refreshTradeStatus } from './trades.js';

/**
 * Scanning a precreate QR with the Alipay app (ALIPAY-M2.md §1): the first scan creates the trade, with the
 * scanner as its buyer, and opens the cashier; then the person pays, leaves (6001: the trade stays
 * WAIT_BUYER_PAY) or fails. A code closed before anyone scanned it, or past its 2-hour life, opens nothing.
 */
export function scanQrCode(
  ctx: SandboxContext,
  request: { qrCode: string; user: User; action: 'pay' | 'cancel' | 'fail' },
): CashierResult & { tradeNo?: string; outTradeNo?: string } {
  const { state } = ctx;
  const precreate = state.precreates.get(request.qrCode);
  if (!precreate) return { resultCode: '4000', memo: 'not a QR code this sandbox issued' };
  let trade: Trade | undefined = precreate.trade;
  if (!trade) {
    const now = ctx.clock.now();
    if (precreate.closedAt) return { resultCode: '4000', memo: '交易已关闭，请收银员重新收款' };
    if (now >= precreate.qrExpiresAt) return { resultCode: '4000', memo: '二维码已过期' };
    const key = state.tradeKey(precreate.merchant.pid, precreate.outTradeNo);
    // trade.cancel of a code nobody had scanned reserves its out_trade_no as a closed trade.
    if (state.tradesByOutNo.has(key)) return { resultCode: '4000', memo: '交易已关闭，请收银员重新收款' };
    let tradeNo = newTradeNo(now);
    while (state.tradesByNo.has(tradeNo)) tradeNo = newTradeNo(now);
    trade = {
      tradeNo,
      outTradeNo: precreate.outTradeNo,
      appId: precreate.appId,
      merchant: precreate.merchant,
      seller: precreate.seller,
      openIdAppId: precreate.openIdAppId,
      createdBy: 'alipay.trade.precreate',
      productCode: 'FACE_TO_FACE_PAYMENT',
      totalFen: precreate.totalFen,
      subject: precreate.subject,
      body: precreate.body,
      buyer: request.user,
      status: 'WAIT_BUYER_PAY',
      createdAt: now,
      expiresAt: precreate.expiresAt,
      notifyUrl: precreate.notifyUrl,
      storeId: precreate.storeId,
      terminalId: precreate.terminalId,
      refundedFen: 0,
      refunds: new Map(),
      royalty: precreate.royalty,
      royaltyFreeze: precreate.royaltyFreeze,
      settlements: [],
      settledFen: 0,
      allocationFinished: false,
      qrCode: precreate.qrCode,
    };
    state.tradesByNo.set(trade.tradeNo, trade);
    state.tradesByOutNo.set(key, trade);
    precreate.trade = trade;
  }
  refreshTradeStatus(ctx, trade);
  const result = payAsBuyer(ctx, { tradeNo: trade.tradeNo, user: request.user, action: request.action });
  return { ...result, tradeNo: trade.tradeNo, outTradeNo: trade.outTradeNo };
}

/** trade.close / trade.cancel of a code nobody scanned: it opens no cashier any more. */
export function closeUnscannedPrecreate(
  ctx: SandboxContext,
  merchantPid: string,
  outTradeNo: string,
): boolean {
  const precreate = ctx.state.precreatesByOutNo.get(ctx.state.tradeKey(merchantPid, outTradeNo));
  if (!precreate || precreate.trade || precreate.closedAt) return false;
  precreate.closedAt = ctx.clock.now();
  return true;
}
