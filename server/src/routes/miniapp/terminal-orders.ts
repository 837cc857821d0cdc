import Router from '@koa/router';
import Joi from 'joi';
import type {
  TerminalOrderPageView,
  TerminalPaymentsResponse,
  TerminalPayResponse,
} from '../../../../shared/api.js';
import type { Deps } from '../../deps.js';
import {
  myTerminalPayments,
  payTerminalOrderInApp,
  terminalOrderPage,
} from '../../domain/terminals/payments.js';
import { rateLimit } from '../../http/rate-limit.js';
import { validate } from '../../http/validate.js';

const orderParams = Joi.object({
  orderNo: Joi.string()
    .pattern(/^T\d{30}$/, 'order number')
    .required(),
});

/**
 * The payment page a vending machine's mini-program QR opens (issue #15, seed 002 §1): the order, a trade
 * for my.tradePay, and the person's own terminal payments.
 */
export function terminalOrderRoutes(deps: Deps): Router {
  const router = new Router();
  router.get('/terminal-orders/:orderNo', async (ctx) => {
    const { orderNo } = validate(orderParams, ctx.params, 'params');
    ctx.body = (await terminalOrderPage(deps, ctx.state.userId, orderNo)) satisfies TerminalOrderPageView;
  });
  router.post('/terminal-orders/:orderNo/pay', rateLimit(deps, 'recharge-user'), async (ctx) => {
    const { orderNo } = validate(orderParams, ctx.params, 'params');
    ctx.body = (await payTerminalOrderInApp(deps, ctx.state.userId, orderNo)) satisfies TerminalPayResponse;
  });
  router.get('/terminal-payments', async (ctx) => {
    ctx.body = { items: await myTerminalPayments(deps, ctx.state.userId) } satisfies TerminalPaymentsResponse;
  });
  return router;
}
