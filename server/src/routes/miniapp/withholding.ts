import Router from '@koa/router';
import Joi from 'joi';
import type {
  DebtsResponse,
  RepayResponse,
  WithholdingResponse,
  WithholdingSignRequest,
  WithholdingSignResponse,
} from '../../../../shared/api.js';
import type { Deps } from '../../deps.js';
import { listDebts, ownRepayment, repayDebts } from '../../domain/withholding/debts.js';
import { endWithholding, startSigning, withholdingViews } from '../../domain/withholding/agreements.js';
import { validate } from '../../http/validate.js';
import { idParams, uuid } from './schemas.js';

const signBody = Joi.object<WithholdingSignRequest>({ bindingId: uuid.required() });
const unsignQuery = Joi.object({ schoolId: uuid });
const repayBody = Joi.object({ schoolId: uuid });

/** Withholding agreements and arrears (DESIGN §6.1, §7.4). */
export function withholdingRoutes(deps: Deps): Router {
  const router = new Router();

  router.post('/withholding/sign', async (ctx) => {
    const { bindingId } = validate(signBody, ctx.request.body, 'body');
    ctx.status = 201;
    ctx.body = (await startSigning(deps, ctx.state.userId, bindingId)) satisfies WithholdingSignResponse;
  });

  router.get('/withholding', async (ctx) => {
    ctx.body = { items: await withholdingViews(deps, ctx.state.userId) } satisfies WithholdingResponse;
  });

  router.delete('/withholding', async (ctx) => {
    const { schoolId } = validate(unsignQuery, ctx.query, 'query');
    ctx.body = await endWithholding(deps, ctx.state.userId, schoolId);
  });

  router.get('/debts', async (ctx) => {
    ctx.body = (await listDebts(deps, ctx.state.userId)) satisfies DebtsResponse;
  });

  router.post('/debts/repay', async (ctx) => {
    const { schoolId } = validate(repayBody, ctx.request.body, 'body');
    ctx.status = 201;
    ctx.body = (await repayDebts(deps, ctx.state.userId, schoolId)) satisfies RepayResponse;
  });

  router.get('/debts/repayments/:id', async (ctx) => {
    const { id } = validate(idParams, ctx.params, 'params');
    ctx.body = await ownRepayment(deps, ctx.state.userId, id);
  });

  return router;
}
