import Router from '@koa/router';
import Joi from 'joi';
import type {
  BindingDetail,
  BindingsResponse,
  CreateBindingRequest,
  SchoolsResponse,
} from '../../../../shared/api.js';
import { searchActiveSchools } from '../../db/repos/schools/schools.js';
import type { Deps } from '../../deps.js';
import {
  bindCard,
  bindingWithBalance,
  listBindings,
  reportCardLost,
  unbindCard,
} from '../../domain/cards/bindings.js';
import { cardStatement } from '../../domain/cards/statement.js';
import { validate } from '../../http/validate.js';
import { cardNo, idParams, uuid } from './schemas.js';
import { bindingView, schoolView } from './views.js';

const schoolsQuery = Joi.object({ q: Joi.string().trim().max(50).allow('') });
const bindingBody = Joi.object<CreateBindingRequest>({
  schoolId: uuid.required(),
  cardNo: cardNo.required(),
  name: Joi.string().trim().min(1).max(32).required(),
  relation: Joi.string().valid('SELF', 'PARENT').required(),
});
const statementQuery = Joi.object({
  from: Joi.date().iso(),
  to: Joi.date().iso(),
  page: Joi.number().integer().min(1).max(500).default(1),
});

/** Schools, bindings, balance, loss, unbind and statements (DESIGN §6.1, §7.2). */
export function cardRoutes(deps: Deps): Router {
  const router = new Router();

  router.get('/schools', async (ctx) => {
    const { q } = validate(schoolsQuery, ctx.query, 'query');
    const schools = await searchActiveSchools(deps.db, q || undefined, 50);
    ctx.body = { items: schools.map(schoolView) } satisfies SchoolsResponse;
  });

  router.post('/bindings', async (ctx) => {
    const body = validate(bindingBody, ctx.request.body, 'body');
    const binding = await bindCard(deps, ctx.state.userId, body);
    ctx.status = 201;
    ctx.body = bindingView(binding);
  });

  router.get('/bindings', async (ctx) => {
    const bindings = await listBindings(deps, ctx.state.userId);
    ctx.body = { items: bindings.map(bindingView) } satisfies BindingsResponse;
  });

  router.get('/bindings/:id', async (ctx) => {
    const { id } = validate(idParams, ctx.params, 'params');
    const { binding, ...live } = await bindingWithBalance(deps, ctx.state.userId, id);
    ctx.body = { ...bindingView(binding), ...live } satisfies BindingDetail;
  });

  router.post('/bindings/:id/loss', async (ctx) => {
    const { id } = validate(idParams, ctx.params, 'params');
    ctx.body = bindingView(await reportCardLost(deps, ctx.state.userId, id));
  });

  router.delete('/bindings/:id', async (ctx) => {
    const { id } = validate(idParams, ctx.params, 'params');
    await unbindCard(deps, ctx.state.userId, id);
    ctx.status = 204;
  });

  router.get('/bindings/:id/statement', async (ctx) => {
    const { id } = validate(idParams, ctx.params, 'params');
    const query = validate(statementQuery, ctx.query, 'query');
    ctx.body = await cardStatement(deps, ctx.state.userId, id, query);
  });

  return router;
}
