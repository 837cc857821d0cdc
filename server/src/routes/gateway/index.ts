import Router from '@koa/router';
import Joi from 'joi';
import type { Deps } from '../../deps.js';
import { DYNAMIC_CODE_PATTERN } from '../../domain/membercard/dynamic-codes.js';
import {
  decideDeduction,
  deductionDetail,
  reverseDeduction,
  swipeDecisionBatches,
} from '../../domain/withholding/deductions.js';
import { gatewayAuth, onlyClients, spendNonce, type GatewayState } from '../../http/gateway-auth.js';
import { validate } from '../../http/validate.js';
import { campusCodeRoutes } from './campus-code.js';
import { terminalOrderRoutes } from './terminal-orders.js';

/** The one route whose body may be large (app.ts gives it its own body limit). */
export const CAMPUS_CODE_UPLOAD_PATH = '/gateway/v1/campus-code/payments';

const txnNo = Joi.string().pattern(/^[A-Za-z0-9_-]{1,64}$/, 'txnNo');
const deductionBody = Joi.object({
  txnNo: txnNo.required(),
  // The card, by its number or by a membership-card dynamic code scanned from the Alipay wallet (§6.4).
  cardNo: Joi.string().pattern(/^[A-Za-z0-9]{4,32}$/, 'card number'),
  dynamicCode: Joi.string().pattern(DYNAMIC_CODE_PATTERN, 'dynamic code (18 digits)'),
  // amount_fen is a PostgreSQL integer: larger values are bad input, not a server error.
  amountFen: Joi.number().integer().strict().min(1).max(2_147_483_647).required(),
  terminalId: Joi.string()
    .pattern(/^[A-Za-z0-9_.:-]{1,64}$/, 'terminal id')
    .required(),
  occurredAt: Joi.date().iso().required(),
}).xor('cardNo', 'dynamicCode');
const txnParams = Joi.object({ txnNo: txnNo.required() });
// The reversal carries no fields; `{}` (what the card system sends) or an empty body.
const reversalBody = Joi.object({});

/**
 * `/gateway/v1` for the card system's POS/IoT gateway (DESIGN §6.2, docs/gateway-api.md). Every route is
 * HMAC-signed; the school is the client's.
 */
export function gatewayRoutes(deps: Deps): Router {
  const router = new Router({ prefix: '/gateway/v1' });
  router.use(gatewayAuth(deps));
  // A vending machine's client (a third party's device) decides no swipes; a POS gateway makes no terminal
  // orders.
  const onlyTerminals = onlyClients('TERMINAL');
  const onlyPos = onlyClients('POS');
  router.use((ctx, next) =>
    (ctx.path.startsWith('/gateway/v1/terminal-orders') ? onlyTerminals : onlyPos)(ctx, next),
  );
  const batches = swipeDecisionBatches(deps);

  router.post('/deductions', async (ctx) => {
    const body = validate(deductionBody, ctx.request.body, 'body');
    ctx.body = await decideDeduction(deps, batches, ctx.state.gateway as GatewayState, body);
  });

  router.get('/deductions/:txnNo', spendNonce(deps), async (ctx) => {
    const { txnNo: id } = validate(txnParams, ctx.params, 'params');
    ctx.body = await deductionDetail(deps, (ctx.state.gateway as GatewayState).schoolId, id);
  });

  router.post('/deductions/:txnNo/reversal', spendNonce(deps), async (ctx) => {
    const { txnNo: id } = validate(txnParams, ctx.params, 'params');
    validate(reversalBody, ctx.request.body, 'body');
    ctx.body = await reverseDeduction(deps, ctx.state.gateway as GatewayState, id);
  });

  campusCodeRoutes(deps, router);
  terminalOrderRoutes(deps, router);

  return router;
}
