import type { SandboxContext } from '../context.js';
import { parseBeijing } from '../beijing-time.js';
import type { GatewayCall } from '../gateway/api.js';
import { businessError, invalidParameter } from '../protocol/alipay-error.js';
import type { Trade, User } from '../state/types.js';
import { refreshTradeStatus } from '../domain/trades.js';

/** Reading biz_content fields the way Alipay validates them. */

export function optionalText(source: Readonly<Record<string, unknown>>, field: string): string | undefined {
  const value = source[field];
  if (typeof value === 'string') return value.trim() === '' ? undefined : value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

export function requiredText(
  source: Readonly<Record<string, unknown>>,
  field: string,
  maxLength = 256,
): string {
  const value = optionalText(source, field);
  if (value === undefined) throw invalidParameter(`${field} 不能为空`);
  if (value.length > maxLength) throw invalidParameter(`${field} 长度超过 ${maxLength}`);
  return value;
}

export function optionalObject(
  source: Readonly<Record<string, unknown>>,
  field: string,
): Record<string, unknown> | undefined {
  const value = source[field];
  return value && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** Trade lookup scoped to the acting merchant; trade_no wins over out_trade_no (ALIPAY.md §4.5). */
export function findTrade(
  ctx: SandboxContext,
  call: GatewayCall,
  notFoundExtra: (outTradeNo?: string) => Record<string, unknown> = () => ({}),
): Trade {
  const tradeNo = optionalText(call.biz, 'trade_no');
  const outTradeNo = optionalText(call.biz, 'out_trade_no');
  if (!tradeNo && !outTradeNo) throw invalidParameter('out_trade_no 和 trade_no 不能同时为空');
  const trade = tradeNo
    ? ctx.state.tradesByNo.get(tradeNo)
    : ctx.state.tradesByOutNo.get(ctx.state.tradeKey(call.merchant.pid, outTradeNo!));
  if (!trade || trade.merchant !== call.merchant) {
    throw businessError('ACQ.TRADE_NOT_EXIST', '交易不存在', notFoundExtra(outTradeNo));
  }
  return refreshTradeStatus(ctx, trade);
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * When an unpaid trade closes (ALIPAY.md §6): `time_expire` (absolute) wins over `timeout_express`
 * (`Nm`/`Nh`/`Nd`, 1m–15d, or `1c` = midnight today); the default is 3h for face-to-face, 15d otherwise.
 */
export function expiryOf(ctx: SandboxContext, call: GatewayCall, productCode: string): Date {
  const now = ctx.clock.now();
  const timeExpire = optionalText(call.biz, 'time_expire');
  if (timeExpire) {
    const at = parseBeijing(timeExpire);
    if (!at) throw invalidParameter('time_expire 格式应为 yyyy-MM-dd HH:mm:ss');
    if (at.getTime() <= now.getTime()) {
      throw businessError('ACQ.NOW_TIME_AFTER_EXPIRE_TIME_ERROR', '当前时间已超过允许支付的时间');
    }
    return at;
  }
  const express = optionalText(call.biz, 'timeout_express');
  if (express) {
    if (express === '1c') {
      const beijingMidnight = new Date(
        Math.floor((now.getTime() + 8 * 3600_000) / DAY_MS + 1) * DAY_MS - 8 * 3600_000,
      );
      return beijingMidnight;
    }
    const match = /^([1-9]\d*)([mhd])$/.exec(express);
    if (!match) throw invalidParameter('timeout_express 格式错误');
    const ms = Number(match[1]) * { m: 60_000, h: 3_600_000, d: DAY_MS }[match[2] as 'm' | 'h' | 'd'];
    if (ms > 15 * DAY_MS) throw invalidParameter('timeout_express 取值范围 1m～15d');
    return new Date(now.getTime() + ms);
  }
  return new Date(now.getTime() + (productCode === 'FACE_TO_FACE_PAYMENT' ? 3 * 3_600_000 : 15 * DAY_MS));
}

/**
 * The buyer named on a trade: buyer_open_id (scoped to `openIdAppId`) or buyer_id, checked against the app's
 * id mode — an openid app sending buyer_id (or the reverse) is refused so the mix-up shows in tests.
 */
export function resolveNamedBuyer(
  ctx: SandboxContext,
  call: GatewayCall,
  openIdAppId: string,
): User | undefined {
  const openId = optionalText(call.biz, 'buyer_open_id');
  const userId = optionalText(call.biz, 'buyer_id');
  if (openId) {
    if (call.app.idMode === 'user_id') {
      throw invalidParameter('该应用为 user_id 模式，请传 buyer_id（ALIPAY.md §4.1）');
    }
    const owner = ctx.state.openIds.get(openId);
    if (!owner) throw businessError('ACQ.BUYER_NOT_EXIST', '买家不存在');
    if (owner.appId !== openIdAppId) {
      throw invalidParameter(`buyer_open_id 不属于应用 ${openIdAppId}（open_id 按应用隔离）`);
    }
    return ctx.state.users.get(owner.userId);
  }
  if (userId) {
    if (call.app.idMode === 'open_id') {
      throw invalidParameter('该应用为 openid 模式，请传 buyer_open_id（ALIPAY.md §4.1）');
    }
    const user = ctx.state.users.get(userId);
    if (!user) throw businessError('ACQ.BUYER_NOT_EXIST', '买家不存在');
    return user;
  }
  return undefined;
}
