import Router from '@koa/router';
import Joi from 'joi';
import type {
  DebtsResponse,
  RepayResponse,
  WithholdingCardsRequest,
  WithholdingResponse,
  WithholdingSignRequest,
  WithholdingSignResponse,
} from '../../../../shared/api.js';
import type { Deps } from '../../deps.js';
import { listDebts, ownRepayment, repayDebts } from '../../domain/withholding/debts.js';
import {
  changeCoveredCards,
  endWithholding,
  startSigning,
  withholdingViews,
} from '../../domain/withholding/agreements.js';
import { rateLimit } from '../../http/rate-limit.js';
import { validate } from '../../http/validate.js';
import { amountFen, idParams, uuid } from './schemas.js';

const coveredCard = Joi.object({
  bindingId: uuid.required(),
  txnLimitFen: amountFen,
  dailyLimitFen: amountFen,
});
const coveredCards = Joi.array().items(coveredCard).min(1).max(20).unique('bindingId');
const signBody = Joi.object<WithholdingSignRequest>({ bindingId: uuid, cards: coveredCards }).xor(
  'bindingId',
  'cards',
);
const cardsBody = Joi.object<WithholdingCardsRequest>({
  schoolId: uuid.required(),
  cards: coveredCards.required(),
});
const unsignQuery = Joi.object({ schoolId: uuid });
const repayBody = Joi.object({ schoolId: uuid });

/** Withholding agreements and arrears (DESIGN §6.1, §7.4). */
export function withholdingRoutes(deps: Deps): Router {
  const router = new Router();

  router.post('/withholding/sign', rateLimit(deps, 'withholding-user'), async (ctx) => {
    const body = validate(signBody, ctx.request.body, 'body');
    const cards = body.cards ?? [{ bindingId: body.bindingId! }];
    ctx.status = 201;
    ctx.body = (await startSigning(deps, ctx.state.userId, cards)) satisfies WithholdingSignResponse;
  });

  router.put('/withholding/cards', rateLimit(deps, 'withholding-user'), async (ctx) => {
    const { schoolId, cards } = validate(cardsBody, ctx.request.body, 'body');
    ctx.body = await changeCoveredCards(deps, ctx.state.userId, schoolId, cards);
  });

  router.get('/withholding', async (ctx) => {
    ctx.body = { items: await withholdingViews(deps, ctx.state.userId) } satisfies WithholdingResponse;
  });

  router.delete('/withholding', rateLimit(deps, 'withholding-user'), async (ctx) => {
    const { schoolId } = validate(unsignQuery, ctx.query, 'query');
    ctx.body = await endWithholding(deps, ctx.state.userId, schoolId);
  });

  router.get('/debts', async (ctx) => {
    ctx.body = (await listDebts(deps, ctx.state.userId)) satisfies DebtsResponse;
  });

  router.post('/debts/repay', rateLimit(deps, 'withholding-user'), async (ctx) => {
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
