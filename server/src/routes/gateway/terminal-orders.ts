import type Router from '@koa/router';
import Joi from 'joi';
import type { DispenseReport, TerminalOrderRequest } from '../../../../shared/gateway-api.js';
import type { Deps } from '../../deps.js';
import { reportDispense } from '../../domain/terminals/dispense.js';
import { createTerminalOrder, terminalOrderForMachine } from '../../domain/terminals/orders.js';
import { spendNonce, type GatewayState } from '../../http/gateway-auth.js';
import { validate } from '../../http/validate.js';

/** Lines per order: a vending machine sells one or a few things; a window's tray has a dozen at most. */
export const MAX_ORDER_ITEMS = 50;

const outOrderNo = Joi.string().pattern(/^[A-Za-z0-9_-]{1,64}$/, 'outOrderNo');
const orderBody = Joi.object<TerminalOrderRequest>({
  terminalId: Joi.string()
    .pattern(/^[A-Za-z0-9_-]{1,32}$/, 'terminal id')
    .required(),
  outOrderNo: outOrderNo.required(),
  items: Joi.array()
    .items(
      Joi.object({
        name: Joi.string().trim().min(1).max(40).required(),
        quantity: Joi.number().integer().strict().min(1).max(999).required(),
        unitFen: Joi.number().integer().strict().min(1).max(10_000_000).required(),
      }),
    )
    .min(1)
    .max(MAX_ORDER_ITEMS)
    .required(),
  amountFen: Joi.number().integer().strict().min(1).max(2_147_483_647).required(),
});
const orderParams = Joi.object({ outOrderNo: outOrderNo.required() });
const dispenseBody = Joi.object<DispenseReport>({
  result: Joi.string().valid('OK', 'FAILED').required(),
  failedItems: Joi.array()
    .items(
      Joi.object({
        index: Joi.number()
          .integer()
          .strict()
          .min(0)
          .max(MAX_ORDER_ITEMS - 1)
          .required(),
        quantity: Joi.number().integer().strict().min(1).max(999).required(),
      }),
    )
    .max(MAX_ORDER_ITEMS)
    .when('result', { is: 'OK', then: Joi.forbidden() }),
});

/**
 * `/gateway/v1/terminal-orders` (issue #15; docs/gateway-api.md "Terminal orders"): a vending machine's or
 * window's own HMAC client makes orders, polls them and reports what it dispensed. The school and terminal are
 * the client's.
 */
export function terminalOrderRoutes(deps: Deps, router: Router): void {
  router.post('/terminal-orders', async (ctx) => {
    const body = validate(orderBody, ctx.request.body, 'body');
    ctx.body = await createTerminalOrder(deps, ctx.state.gateway as GatewayState, body);
  });

  router.get('/terminal-orders/:outOrderNo', spendNonce(deps), async (ctx) => {
    const { outOrderNo: id } = validate(orderParams, ctx.params, 'params');
    ctx.body = await terminalOrderForMachine(deps, ctx.state.gateway as GatewayState, id);
  });

  router.post('/terminal-orders/:outOrderNo/dispensed', spendNonce(deps), async (ctx) => {
    const { outOrderNo: id } = validate(orderParams, ctx.params, 'params');
    const body = validate(dispenseBody, ctx.request.body, 'body');
    ctx.body = await reportDispense(deps, ctx.state.gateway as GatewayState, id, body);
  });
}
