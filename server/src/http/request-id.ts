import crypto from 'node:crypto';
import type { Middleware } from 'koa';

const INCOMING_ID = /^[A-Za-z0-9._-]{8,64}$/;

/** Every request gets an id (a well-formed incoming X-Request-Id is kept) echoed in the response and logs. */
export function requestId(): Middleware {
  return async (ctx, next) => {
    const incoming = ctx.get('x-request-id');
    ctx.state.requestId = INCOMING_ID.test(incoming) ? incoming : crypto.randomUUID();
    ctx.set('X-Request-Id', ctx.state.requestId);
    await next();
  };
}
