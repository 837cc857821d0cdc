import type { SandboxContext } from '../context.js';
import { newPaymentCode, newUserAuthCode } from '../ids.js';
import type { PaymentCode, RegisteredApp, Scope, User, UserAuthCode } from '../state/types.js';
import { collectPayment, refreshTradeStatus } from './trades.js';

/**
 * What the Alipay app does for the user, standing in for my.getAuthCode, my.tradePay and the payment code
 * screen (ALIPAY.md §5).
 */

export function issueUserAuthCode(
  ctx: SandboxContext,
  user: User,
  app: RegisteredApp,
  scopes: Scope[],
  ttlMs: number,
): UserAuthCode {
  const code: UserAuthCode = {
    code: newUserAuthCode(),
    userId: user.userId,
    appId: app.appId,
    scopes,
    expiresAt: new Date(ctx.clock.nowMs() + ttlMs),
    used: false,
  };
  ctx.state.userAuthCodes.set(code.code, code);
  return code;
}

export function issuePaymentCode(ctx: SandboxContext, user: User, ttlMs: number): PaymentCode {
  let authCode = newPaymentCode();
  while (ctx.state.paymentCodes.has(authCode)) authCode = newPaymentCode();
  const code: PaymentCode = {
    authCode,
    userId: user.userId,
    expiresAt: new Date(ctx.clock.nowMs() + ttlMs),
    used: false,
  };
  ctx.state.paymentCodes.set(authCode, code);
  return code;
}

export interface CashierResult {
  resultCode: string;
  memo?: string;
}

/**
 * my.tradePay({tradeNO}) as `user` (ALIPAY.md §5): 9000 paid; 6001 cancelled, or the user is not the trade's
 * buyer; 4000 failed (unknown or closed trade, already paid, balance short). Paying fires trade_status_sync.
 */
export function payAsBuyer(
  ctx: SandboxContext,
  request: { tradeNo: string; user: User; action: 'pay' | 'cancel' | 'fail'; reportResultCode?: string },
): CashierResult {
  const trade = ctx.state.tradesByNo.get(request.tradeNo);
  if (!trade) return { resultCode: '4000', memo: 'no such trade_no' };
  refreshTradeStatus(ctx, trade);
  if (request.action === 'cancel') return { resultCode: '6001', memo: 'the user left the cashier' };
  if (trade.buyer && trade.buyer !== request.user) {
    return {
      resultCode: '6001',
      memo: "the paying user is not the trade's buyer (buyer_id / buyer_open_id)",
    };
  }
  if (trade.status === 'TRADE_SUCCESS' || trade.status === 'TRADE_FINISHED') {
    return { resultCode: '4000', memo: 'the trade is already paid' };
  }
  if (trade.status === 'TRADE_CLOSED') return { resultCode: '4000', memo: 'the trade is closed' };
  if (request.action === 'fail') return { resultCode: '4000', memo: 'payment failed (injected)' };
  const outcome = collectPayment(ctx, trade, request.user);
  if (!outcome.ok) return { resultCode: '4000', memo: '余额不足 (balance not enough)' };
  return { resultCode: request.reportResultCode ?? '9000' };
}
