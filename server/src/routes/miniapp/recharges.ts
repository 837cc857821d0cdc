import Router from '@koa/router';
import Joi from 'joi';
import type { CreateRechargeRequest, CreateRechargeResponse } from '../../../../shared/api.js';
import type { Deps } from '../../deps.js';
import { createRecharge, ownRecharge } from '../../domain/recharge/recharge.js';
import { rateLimit } from '../../http/rate-limit.js';
import { validate } from '../../http/validate.js';
import { amountFen, idParams, uuid } from './schemas.js';
import { rechargeView } from './views.js';

const rechargeBody = Joi.object<CreateRechargeRequest>({
  bindingId: uuid.required(),
  amountFen: amountFen.required(),
});

/** `POST /recharges` → a trade for my.tradePay; `GET /recharges/:id` to follow it (DESIGN §7.3). */
export function rechargeRoutes(deps: Deps): Router {
  const router = new Router();
  router.post('/recharges', rateLimit(deps, 'recharge-user'), async (ctx) => {
    const body = validate(rechargeBody, ctx.request.body, 'body');
    const order = await createRecharge(deps, ctx.state.userId, body);
    ctx.status = 201;
    ctx.body = {
      ...rechargeView(order),
      orderId: order.id,
      tradeNo: order.alipayTradeNo!,
    } satisfies CreateRechargeResponse;
  });
  router.get('/recharges/:id', async (ctx) => {
    const { id } = validate(idParams, ctx.params, 'params');
    ctx.body = rechargeView(await ownRecharge(deps, ctx.state.userId, id));
  });
  return router;
}
