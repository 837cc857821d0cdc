import type { ApiHandler } from '../gateway/api.js';
import { businessError, invalidParameter } from '../protocol/alipay-error.js';
import { newQrCode } from '../ids.js';
import { isRoyaltyFreeze, parseRoyaltyInfo } from '../domain/royalty.js';
import { refreshTradeStatus } from '../domain/trades.js';
import type { Precreate } from '../state/types.js';
import { expiryOf, optionalText } from './biz.js';
import { checkRepeatedOutTradeNo, readTradeBasics } from './trade-create.js';

/** Whatever qr_code_timeout_express says, the code itself is dead after 2 h (ALIPAY-M2.md §1). */
const QR_LIFE_MS = 2 * 3_600_000;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

function qrTimeoutMs(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const match = /^([1-9]\d*)([mhd])$/.exec(text);
  if (!match) throw invalidParameter('qr_code_timeout_express 格式错误');
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}

/**
 * alipay.trade.precreate (当面付扫码支付, ALIPAY-M2.md §1): answers a qr_code for the terminal to show. No trade
 * exists until someone scans it (control route /control/qr-codes/scan, docs/sandbox.md); until then
 * trade.query answers ACQ.TRADE_NOT_EXIST. A repeat with the same out_trade_no and amount answers the same
 * code; a different amount or seller is ACQ.CONTEXT_INCONSISTENT; once closed, ACQ.TRADE_HAS_CLOSE.
 */
export const tradePrecreate: ApiHandler = (ctx, call) => {
  const basics = readTradeBasics(ctx, call);
  const { state } = ctx;
  const key = state.tradeKey(call.merchant.pid, basics.outTradeNo);
  const scanned = state.tradesByOutNo.get(key);
  if (scanned) {
    const trade = checkRepeatedOutTradeNo(
      refreshTradeStatus(ctx, scanned),
      basics,
      'FACE_TO_FACE_PAYMENT',
      undefined,
    );
    return { code: '10000', msg: 'Success', out_trade_no: trade.outTradeNo, qr_code: trade.qrCode };
  }
  const existing = state.precreatesByOutNo.get(key);
  if (existing) {
    if (existing.closedAt) throw businessError('ACQ.TRADE_HAS_CLOSE', '交易已经关闭');
    if (existing.totalFen !== basics.totalFen || existing.seller !== basics.seller)
      throw businessError('ACQ.CONTEXT_INCONSISTENT', '交易信息被篡改');
    return { code: '10000', msg: 'Success', out_trade_no: existing.outTradeNo, qr_code: existing.qrCode };
  }
  const now = ctx.clock.now();
  const expiresAt = expiryOf(ctx, call, 'FACE_TO_FACE_PAYMENT');
  const qrLifeMs = Math.min(
    QR_LIFE_MS,
    qrTimeoutMs(optionalText(call.biz, 'qr_code_timeout_express')) ?? QR_LIFE_MS,
  );
  let qrCode = newQrCode();
  while (state.precreates.has(qrCode)) qrCode = newQrCode();
  const precreate: Precreate = {
    qrCode,
    outTradeNo: basics.outTradeNo,
    appId: call.app.appId,
    merchant: call.merchant,
    seller: basics.seller,
    openIdAppId: basics.openIdAppId,
    totalFen: basics.totalFen,
    subject: basics.subject,
    body: optionalText(call.biz, 'body'),
    terminalId: optionalText(call.biz, 'terminal_id'),
    storeId: optionalText(call.biz, 'store_id'),
    notifyUrl: call.params.notify_url || undefined,
    royalty: parseRoyaltyInfo(
      ctx,
      call.biz.royalty_info,
      call.biz.extend_params,
      basics.totalFen,
      basics.openIdAppId,
    ),
    royaltyFreeze: isRoyaltyFreeze(call.biz.extend_params) || undefined,
    createdAt: now,
    expiresAt,
    qrExpiresAt: new Date(Math.min(expiresAt.getTime(), now.getTime() + qrLifeMs)),
  };
  if (precreate.notifyUrl && precreate.notifyUrl.length > 256) throw invalidParameter('notify_url 过长');
  state.precreates.set(qrCode, precreate);
  state.precreatesByOutNo.set(key, precreate);
  return { code: '10000', msg: 'Success', out_trade_no: basics.outTradeNo, qr_code: qrCode };
};
