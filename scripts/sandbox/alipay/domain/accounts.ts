import type { SandboxContext } from '../context.js';
import { newAppId, newPartnerId, randomDigits } from '../ids.js';
import type { AccountEntry, IdMode, Merchant, User } from '../state/types.js';

export function createMerchant(ctx: SandboxContext, input: { appId?: string; name?: string }): Merchant {
  const { state } = ctx;
  let pid = newPartnerId();
  while (state.merchants.has(pid) || state.users.has(pid)) pid = newPartnerId();
  const appId = input.appId ?? newAppId();
  const merchant: Merchant = {
    pid,
    appId,
    name: input.name ?? `Sandbox merchant ${pid.slice(-4)}`,
    email: `merchant${pid.slice(-6)}@sandbox.test`,
    balanceFen: 0,
    accountEntries: [],
  };
  state.merchants.set(pid, merchant);
  state.merchantsByAppId.set(appId, merchant);
  return merchant;
}

export interface NewUserInput {
  balanceFen?: number;
  /** A chosen user_id (2088 + 12 digits), e.g. for demo users that must survive a restart. */
  userId?: string;
  logonId?: string;
  nickName?: string;
  avatar?: string;
  gender?: 'F' | 'M';
  province?: string;
  city?: string;
  certNo?: string;
  mobile?: string;
}

export function createUser(ctx: SandboxContext, input: NewUserInput): User {
  const { state } = ctx;
  let userId = input.userId ?? `2088${randomDigits(12)}`;
  if (input.userId && (state.users.has(userId) || state.merchants.has(userId))) {
    throw new Error(`user ${userId} exists`);
  }
  while (state.users.has(userId) || state.merchants.has(userId)) userId = `2088${randomDigits(12)}`;
  const number = state.nextUserNumber();
  const user: User = {
    userId,
    logonId: input.logonId ?? `student${number}_${userId.slice(-4)}@sandbox.test`,
    balanceFen: input.balanceFen ?? 0,
    nickName: input.nickName,
    avatar: input.avatar,
    gender: input.gender,
    province: input.province,
    city: input.city,
    certNo: input.certNo,
    mobile: input.mobile,
    shares: { certNo: false, mobile: false },
    createdAt: ctx.clock.now(),
  };
  state.users.set(userId, user);
  state.usersByLogonId.set(user.logonId, user);
  state.indexUser(user);
  return user;
}

/** Alipay masks logon ids in every answer: `stu***@sandbox.test` (ALIPAY.md §3.1 buyer_logon_id). */
export function maskLogonId(logonId: string): string {
  const at = logonId.indexOf('@');
  if (at > 0) return `${logonId.slice(0, Math.min(3, at))}***${logonId.slice(at)}`;
  if (logonId.length > 5) return `${logonId.slice(0, 3)}******${logonId.slice(-2)}`;
  return '***';
}

/**
 * The user-id fields an app in `idMode` sees (ALIPAY.md §4.1): open_id for openid apps, user_id for the old
 * ones, both during the migration. `names` gives the field names the API uses
 * (buyer_user_id/buyer_open_id, buyer_id/buyer_open_id, alipay_user_id/alipay_open_id, …).
 */
export function identityFields(
  ctx: SandboxContext,
  user: User,
  idMode: IdMode,
  openIdAppId: string,
  names: { userId: string; openId: string },
): Record<string, string> {
  const out: Record<string, string> = {};
  if (idMode !== 'open_id') out[names.userId] = user.userId;
  if (idMode !== 'user_id') out[names.openId] = ctx.state.openIdOf(user.userId, openIdAppId);
  return out;
}

export function idModeOfApp(ctx: SandboxContext, appId: string): IdMode {
  return ctx.state.apps.get(appId)?.idMode ?? 'open_id';
}

let entryCounter = 0;

/** Books money into or out of a merchant's account and keeps the statement line (signcustomer bill). */
export function bookMerchant(
  ctx: SandboxContext,
  merchant: Merchant,
  entry: Omit<AccountEntry, 'entryNo' | 'balanceAfterFen' | 'at'>,
): void {
  merchant.balanceFen += entry.amountFen;
  const at = ctx.clock.now();
  merchant.accountEntries.push({
    ...entry,
    entryNo: `${at.getTime()}${String(++entryCounter).padStart(8, '0')}`,
    at,
    balanceAfterFen: merchant.balanceFen,
  });
}
