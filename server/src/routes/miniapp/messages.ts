import Router from '@koa/router';
import Joi from 'joi';
import type { MessageSubscriptionsView } from '../../../../shared/api.js';
import type { Deps } from '../../deps.js';
import { messageSubscriptions, recordSubscriptions } from '../../domain/messages/subscriptions.js';
import { validate } from '../../http/validate.js';

const subscribedBody = Joi.object({
  accepted: Joi.array().items(Joi.string().trim().min(1).max(64)).max(3).unique().required(),
});

/** Subscription messages: which templates to ask for, and the user's answer (DESIGN §6.1, ALIPAY-M2.md §3). */
export function messageRoutes(deps: Deps): Router {
  const router = new Router();

  router.get('/message-subscriptions', async (ctx) => {
    ctx.body = (await messageSubscriptions(deps, ctx.state.userId)) satisfies MessageSubscriptionsView;
  });

  router.post('/message-subscriptions', async (ctx) => {
    const { accepted } = validate(subscribedBody, ctx.request.body, 'body');
    ctx.body = (await recordSubscriptions(
      deps,
      ctx.state.userId,
      accepted,
    )) satisfies MessageSubscriptionsView;
  });

  return router;
}
