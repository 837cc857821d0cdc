import Router from '@koa/router';
import Joi from 'joi';
import type { MeResponse, PhoneShareResponse, SharePhoneRequest } from '../../../../shared/api.js';
import type { Deps } from '../../deps.js';
import { listBindings } from '../../domain/cards/bindings.js';
import { withholdingViews } from '../../domain/withholding/agreements.js';
import { sharePhone } from '../../domain/users/phone.js';
import { debtSummary } from '../../domain/withholding/debts.js';
import { rateLimit } from '../../http/rate-limit.js';
import { validate } from '../../http/validate.js';
import { bindingView } from './views.js';

const sharePhoneBody = Joi.object<SharePhoneRequest>({
  authCode: Joi.string().trim().min(4).max(128).required(),
});

/**
 * `GET /me`: what the entry page needs to route the user (bindings, withholding, debts).
 * `POST /me/phone`: the user shares their Alipay mobile (an auth_user code) where a school asks for it.
 */
export function meRoutes(deps: Deps): Router {
  const router = new Router();
  router.get('/me', async (ctx) => {
    const userId: string = ctx.state.userId;
    const [bindings, debts, withholding] = await Promise.all([
      listBindings(deps, userId),
      debtSummary(deps, userId),
      withholdingViews(deps, userId),
    ]);
    ctx.body = {
      user: { id: userId },
      bindings: bindings.map(bindingView),
      withholding,
      debts,
    } satisfies MeResponse;
  });
  router.post('/me/phone', rateLimit(deps, 'phone-user'), async (ctx) => {
    const { authCode } = validate(sharePhoneBody, ctx.request.body, 'body');
    ctx.body = (await sharePhone(deps, ctx.state.userId, authCode)) satisfies PhoneShareResponse;
  });
  return router;
}
