import type { Middleware } from 'koa';
import { DomainError } from '../domain/errors.js';
import type { SessionTokens } from '../lib/session-token.js';

/** `Authorization: Bearer <session token>` → `ctx.state.userId`, or 401 in the error model. */
export function requireSession(sessions: SessionTokens): Middleware {
  return async (ctx, next) => {
    const header = ctx.get('authorization');
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw new DomainError('UNAUTHENTICATED');
    const checked = sessions.check(match[1]);
    if ('error' in checked)
      throw new DomainError(checked.error === 'EXPIRED' ? 'SESSION_EXPIRED' : 'UNAUTHENTICATED');
    ctx.state.userId = checked.userId;
    await next();
  };
}
