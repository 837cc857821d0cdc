import type { SandboxContext } from '../context.js';
import { formatBeijing } from '../beijing-time.js';
import type { ApiHandler, GatewayCall } from '../gateway/api.js';
import { businessError, invalidParameter } from '../protocol/alipay-error.js';
import type { CampusCode, PaymentCode, Trade, User } from '../state/types.js';
import {
  amountFields,
  buyerFields,
  closeUnpaidTrade,
  collectPayment,
  fundBillList,
  refreshTradeStatus,
} from '../domain/trades.js';
import { optionalObject, optionalText } from './biz.js';
import { checkRepeatedOutTradeNo, newTrade, readTradeBasics, storeTrade } from './trade-create.js';

const PAYMENT_CODE_PATTERN = /^(2[5-9]|30)\d{14,22}$/;
const WITHHOLDING_PRODUCTS = new Set(['GENERAL_WITHHOLDING', 'CYCLE_PAY_AUTH']);

interface Payer {
  buyer: User;
  paymentCode?: PaymentCode;
  campusCode?: CampusCode;
  agreementNo?: string;
}

const AUTH_CODE_INVALID = '支付失败，获取顾客账户信息失败，请顾客刷新付款码后重新收款';

/**
 * Bar code (ALIPAY.md §4.4 (a)): a one-time payment code of 16–24 digits starting with 25–30, or a campus
 * code's final_data (seed 001 §7: the SDK's processed code, not the raw one). A campus code is taken for
 * 10 days after it was made, and by one trade only: while a trade waits for it or has been paid with it,
 * another out_trade_no is refused; a closed trade lets it go.
 */
function payerFromPaymentCode(ctx: SandboxContext, call: GatewayCall, outTradeNo: string): Payer {
  const scene = optionalText(call.biz, 'scene') ?? 'bar_code';
  if (scene !== 'bar_code')
    throw invalidParameter(`scene=${scene}: the sandbox takes bar_code payments only`);
  const authCode = optionalText(call.biz, 'auth_code');
  if (!authCode) throw invalidParameter('auth_code 不能为空');
  if (!PAYMENT_CODE_PATTERN.test(authCode)) return payerFromCampusCode(ctx, authCode, outTradeNo);
  const code = ctx.state.paymentCodes.get(authCode);
  if (!code || code.used || code.expiresAt.getTime() <= ctx.clock.nowMs()) {
    throw businessError('ACQ.PAYMENT_AUTH_CODE_INVALID', AUTH_CODE_INVALID);
  }
  return { buyer: ctx.state.users.get(code.userId)!, paymentCode: code };
}

function payerFromCampusCode(ctx: SandboxContext, finalData: string, outTradeNo: string): Payer {
  const code = ctx.state.campusCodes.get(finalData);
  if (!code) throw businessError('ACQ.PAYMENT_AUTH_CODE_INVALID', AUTH_CODE_INVALID);
  if (code.expiresAt.getTime() <= ctx.clock.nowMs())
    throw businessError('ACQ.PAYMENT_AUTH_CODE_INVALID', '校园码已过期（超过10天），请顾客重新出示付款码');
  const holder = code.heldBy && refreshTradeStatus(ctx, code.heldBy);
  if (holder && holder.status !== 'TRADE_CLOSED' && holder.outTradeNo !== outTradeNo)
    throw businessError('ACQ.PAYMENT_AUTH_CODE_INVALID', '校园码已被使用');
  return { buyer: ctx.state.users.get(code.userId)!, campusCode: code };
}

/** Withholding (ALIPAY.md §4.4 (b)): the agreement must be NORMAL and belong to the acting merchant. */
function payerFromAgreement(ctx: SandboxContext, call: GatewayCall, productCode: string): Payer {
  const agreementNo = optionalText(optionalObject(call.biz, 'agreement_params') ?? {}, 'agreement_no');
  if (!agreementNo) throw invalidParameter('agreement_params.agreement_no 不能为空');
  const agreement = ctx.state.agreements.get(agreementNo);
  if (!agreement || agreement.merchant !== call.merchant) {
    throw businessError('ACQ.AGREEMENT_NOT_EXIST', '用户协议不存在或已解约');
  }
  if (agreement.status !== 'NORMAL') throw businessError('ACQ.AGREEMENT_INVALID', '用户协议已失效');
  if (agreement.personalProductCode !== `${productCode}_P`) {
    throw businessError('ACQ.AGREEMENT_ERROR', '协议产品码与支付产品码不匹配');
  }
  return { buyer: agreement.user, agreementNo };
}

function paidAnswer(ctx: SandboxContext, trade: Trade): Record<string, unknown> {
  return {
    code: '10000',
    msg: 'Success',
    trade_no: trade.tradeNo,
    out_trade_no: trade.outTradeNo,
    ...buyerFields(ctx, trade),
    ...amountFields(trade),
    gmt_payment: formatBeijing(trade.paidAt!),
    fund_bill_list: fundBillList(trade),
  };
}

/** 10003: the trade exists, the buyer still has to confirm (ALIPAY.md §4.4 "Result handling"). */
function inProcess(
  ctx: SandboxContext,
  trade: Trade,
  fault: NonNullable<GatewayCall['payInProcess']>,
): Record<string, unknown> {
  trade.awaitingBuyerConfirmation = true;
  if (fault.completeAfterMs !== undefined) {
    ctx.timers.after(fault.completeAfterMs, () => {
      refreshTradeStatus(ctx, trade);
      if (trade.status !== 'WAIT_BUYER_PAY') return;
      if (fault.outcome === 'close' || !collectPayment(ctx, trade, trade.buyer!).ok)
        closeUnpaidTrade(ctx, trade);
    });
  }
  return inProcessAnswer(ctx, trade);
}

function inProcessAnswer(ctx: SandboxContext, trade: Trade): Record<string, unknown> {
  return {
    code: '10003',
    msg: ' order success pay inprocess',
    trade_no: trade.tradeNo,
    out_trade_no: trade.outTradeNo,
    ...buyerFields(ctx, trade),
    ...amountFields(trade),
  };
}

/**
 * alipay.trade.pay: campus-code (bar_code + auth_code) and withholding (GENERAL_WITHHOLDING + agreement_no)
 * payments. A business failure before any money moves leaves no trade behind (query → ACQ.TRADE_NOT_EXIST), so
 * the same out_trade_no can be retried, e.g. after ACQ.BUYER_BALANCE_NOT_ENOUGH.
 */
export const tradePay: ApiHandler = (ctx, call) => {
  const basics = readTradeBasics(ctx, call);
  const productCode = optionalText(call.biz, 'product_code') ?? 'FACE_TO_FACE_PAYMENT';
  if (productCode !== 'FACE_TO_FACE_PAYMENT' && !WITHHOLDING_PRODUCTS.has(productCode)) {
    throw invalidParameter(`product_code ${productCode} 不支持 alipay.trade.pay`);
  }
  const existing = ctx.state.tradesByOutNo.get(ctx.state.tradeKey(call.merchant.pid, basics.outTradeNo));
  if (existing && refreshTradeStatus(ctx, existing).status !== 'WAIT_BUYER_PAY') {
    // A repeat of a settled out_trade_no is answered from the trade alone (TRADE_HAS_SUCCESS / TRADE_HAS_CLOSE /
    // CONTEXT_INCONSISTENT), before the one-time code is looked at: that is what a retry after an unknown
    // outcome sees (ALIPAY.md §4.4, §4.16).
    checkRepeatedOutTradeNo(existing, basics, productCode, undefined);
  }
  if (existing?.awaitingBuyerConfirmation) {
    // Still waiting for the buyer after a 10003: a repeat of the call is answered the same way.
    return inProcessAnswer(ctx, checkRepeatedOutTradeNo(existing, basics, productCode, undefined));
  }
  const payer =
    productCode === 'FACE_TO_FACE_PAYMENT'
      ? payerFromPaymentCode(ctx, call, basics.outTradeNo)
      : payerFromAgreement(ctx, call, productCode);
  const trade = existing
    ? checkRepeatedOutTradeNo(existing, basics, productCode, payer.buyer)
    : newTrade(ctx, call, basics, { productCode, createdBy: 'alipay.trade.pay', buyer: payer.buyer });
  trade.agreementNo ??= payer.agreementNo;
  trade.paymentCode ??= payer.paymentCode?.authCode ?? payer.campusCode?.finalData;

  if (call.payInProcess && !existing) {
    trade.buyer = payer.buyer;
    storeTrade(ctx, trade);
    if (payer.paymentCode) payer.paymentCode.used = true;
    if (payer.campusCode) payer.campusCode.heldBy = trade;
    return inProcess(ctx, trade, call.payInProcess);
  }
  const outcome = collectPayment(ctx, trade, payer.buyer);
  if (!outcome.ok) {
    if (outcome.reason === 'balance') throw businessError('ACQ.BUYER_BALANCE_NOT_ENOUGH', '买家余额不足');
    throw businessError('ACQ.TRADE_STATUS_ERROR', '交易状态不合法');
  }
  if (!existing) storeTrade(ctx, trade);
  if (payer.paymentCode) payer.paymentCode.used = true;
  if (payer.campusCode) payer.campusCode.heldBy = trade;
  return paidAnswer(ctx, trade);
};
