import type { Middleware } from 'koa';
import type { Deps } from '../deps.js';
import { programForCrmToken } from '../domain/membercard/programs.js';

/**
 * AntBuilder card management's calls to our CRM routes carry the school's token in the `token` header
 * (seed 003: "在 HEADER 中加入 token，CRM 可以验证 token 是否一致"). The token names the school: its
 * membership program lands on `ctx.state.membershipProgram`. A missing or wrong token is 401
 * CRM_AUTH_FAILED and nothing else happens.
 */
export function crmAuth(deps: Pick<Deps, 'db'>): Middleware {
  return async (ctx, next) => {
    const token = ctx.get('token') || undefined;
    ctx.state.membershipProgram = await programForCrmToken(deps, token);
    await next();
  };
}
