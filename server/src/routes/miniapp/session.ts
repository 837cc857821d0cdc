import Router from '@koa/router';
import Joi from 'joi';
import type { SessionRequest } from '../../../../shared/api.js';
import type { Deps } from '../../deps.js';
import { loginWithAuthCode } from '../../domain/users/login.js';
import { rateLimit } from '../../http/rate-limit.js';
import { validate } from '../../http/validate.js';

const sessionBody = Joi.object<SessionRequest>({ authCode: Joi.string().trim().min(4).max(128).required() });

/** `POST /api/v1/session`: the only mini-program route without a session. */
export function sessionRoutes(deps: Deps): Router {
  const router = new Router();
  router.post('/session', rateLimit(deps, 'session-ip'), async (ctx) => {
    const body = validate(sessionBody, ctx.request.body, 'body');
    ctx.body = await loginWithAuthCode(deps, body.authCode);
  });
  return router;
}
