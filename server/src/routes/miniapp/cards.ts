import Router from '@koa/router';
import Joi from 'joi';
import type {
  BalanceAlertRequest,
  BindingDetail,
  BindingsResponse,
  CreateBindingRequest,
  OtherBindingsResponse,
  RosterLookupResponse,
  SchoolsResponse,
} from '../../../../shared/api.js';
import { schoolsWithRoster } from '../../db/repos/roster/roster-entries.js';
import { searchActiveSchools } from '../../db/repos/schools/schools.js';
import type { Deps } from '../../deps.js';
import {
  bindCard,
  bindingWithBalance,
  listBindings,
  setBalanceAlert,
  unbindCard,
} from '../../domain/cards/bindings.js';
import { approveOtherBinding, listOtherBindings, removeOtherBinding } from '../../domain/cards/holder.js';
import { cancelCardLoss, reportCardLost } from '../../domain/cards/loss.js';
import { lookUpByIdNumber, lookUpWithAlipay } from '../../domain/cards/roster-matches.js';
import { cardReceipt, cardStatement } from '../../domain/cards/statement/statement.js';
import { campusCodeEntry } from '../../domain/campus-code/campus-code-entry.js';
import { walletCardOf } from '../../domain/membercard/wallet-card.js';
import { rateLimit, spendRateLimitFor } from '../../http/rate-limit.js';
import { validate } from '../../http/validate.js';
import { amountFen, cardNo, fullIdNumber, idNumberOrTail, idParams, mobile, uuid } from './schemas.js';
import { bindingView, schoolView } from './views.js';

const schoolsQuery = Joi.object({ q: Joi.string().trim().max(50).allow('') });
const relation = Joi.string().valid('SELF', 'PARENT');
const holderName = Joi.string().trim().min(1).max(32);
const typedOnly = (schema: Joi.Schema) =>
  schema.when('matchToken', { is: Joi.exist(), then: Joi.forbidden(), otherwise: Joi.required() });
const bindingBody = Joi.object<CreateBindingRequest>({
  schoolId: uuid.required(),
  matchToken: Joi.string().max(2048),
  cardNo: typedOnly(cardNo),
  name: typedOnly(holderName),
  relation: typedOnly(relation),
  idNumber: idNumberOrTail,
  phone: mobile,
  studentNo: Joi.string()
    .trim()
    .pattern(/^[A-Za-z0-9-]{1,32}$/, 'student number'),
}).when(Joi.object({ matchToken: Joi.exist() }).unknown(), {
  then: Joi.object({ idNumber: Joi.forbidden(), phone: Joi.forbidden(), studentNo: Joi.forbidden() }),
  otherwise: Joi.object().or('idNumber', 'phone', 'studentNo'),
});
const lookupBody = Joi.alternatives().conditional(Joi.object({ authCode: Joi.exist() }).unknown(), {
  then: Joi.object({ schoolId: uuid.required(), authCode: Joi.string().trim().min(4).max(128).required() }),
  otherwise: Joi.object({
    schoolId: uuid.required(),
    name: holderName.required(),
    idNumber: fullIdNumber.required(),
    relation,
  }),
});
const balanceAlertBody = Joi.object<BalanceAlertRequest>({
  thresholdFen: amountFen.allow(null).required(),
});
const otherParams = Joi.object({ id: uuid.required(), otherId: uuid.required() });
const entryParams = Joi.object({
  id: uuid.required(),
  entryId: Joi.string()
    .pattern(/^[a-z-]{1,32}:[A-Za-z0-9_@-]{1,128}$/, 'statement entry id')
    .required(),
});
const statementQuery = Joi.object({
  from: Joi.date().iso(),
  to: Joi.date().iso(),
  page: Joi.number().integer().min(1).max(500).default(1),
});

/** Schools, bindings, roster lookups, the holder's view of other bindings, balance, loss and statements. */
export function cardRoutes(deps: Deps): Router {
  const router = new Router();

  router.get('/schools', async (ctx) => {
    const { q } = validate(schoolsQuery, ctx.query, 'query');
    const schools = await searchActiveSchools(deps.db, q || undefined, 50);
    const withRoster = await schoolsWithRoster(
      deps.db,
      schools.map((s) => s.id),
    );
    ctx.body = { items: schools.map((s) => schoolView(s, withRoster.has(s.id))) } satisfies SchoolsResponse;
  });

  router.post('/bindings/lookup', rateLimit(deps, 'binding-user'), async (ctx) => {
    const body = validate(lookupBody, ctx.request.body, 'body');
    await spendRateLimitFor(ctx, deps, 'binding-school', body.schoolId);
    const userId: string = ctx.state.userId;
    ctx.body = (
      'authCode' in body
        ? await lookUpWithAlipay(deps, userId, body)
        : await lookUpByIdNumber(deps, userId, body)
    ) satisfies RosterLookupResponse;
  });

  router.post('/bindings', rateLimit(deps, 'binding-user'), async (ctx) => {
    const body = validate(bindingBody, ctx.request.body, 'body');
    await spendRateLimitFor(ctx, deps, 'binding-school', body.schoolId);
    const binding = await bindCard(deps, ctx.state.userId, body);
    ctx.status = 201;
    ctx.body = bindingView(binding);
  });

  router.get('/bindings', async (ctx) => {
    const bindings = await listBindings(deps, ctx.state.userId);
    ctx.body = { items: bindings.map(bindingView) } satisfies BindingsResponse;
  });

  router.get('/bindings/:id', rateLimit(deps, 'balance-user'), async (ctx) => {
    const { id } = validate(idParams, ctx.params, 'params');
    const { binding, ...live } = await bindingWithBalance(deps, ctx.state.userId, id);
    const walletCard = await walletCardOf(deps, ctx.state.userId, binding);
    ctx.body = { ...bindingView(binding), ...live, walletCard } satisfies BindingDetail;
  });

  router.get('/bindings/:id/others', async (ctx) => {
    const { id } = validate(idParams, ctx.params, 'params');
    ctx.body = { items: await listOtherBindings(deps, ctx.state.userId, id) } satisfies OtherBindingsResponse;
  });

  router.post('/bindings/:id/others/:otherId/approve', async (ctx) => {
    const { id, otherId } = validate(otherParams, ctx.params, 'params');
    ctx.body = await approveOtherBinding(deps, ctx.state.userId, id, otherId);
  });

  router.delete('/bindings/:id/others/:otherId', async (ctx) => {
    const { id, otherId } = validate(otherParams, ctx.params, 'params');
    await removeOtherBinding(deps, ctx.state.userId, id, otherId);
    ctx.status = 204;
  });

  router.get('/bindings/:id/campus-code', async (ctx) => {
    const { id } = validate(idParams, ctx.params, 'params');
    ctx.body = await campusCodeEntry(deps, ctx.state.userId, id);
  });

  router.put('/bindings/:id/balance-alert', async (ctx) => {
    const { id } = validate(idParams, ctx.params, 'params');
    const { thresholdFen } = validate(balanceAlertBody, ctx.request.body, 'body');
    ctx.body = bindingView(await setBalanceAlert(deps, ctx.state.userId, id, thresholdFen));
  });

  router.post('/bindings/:id/loss', rateLimit(deps, 'card-change-user'), async (ctx) => {
    const { id } = validate(idParams, ctx.params, 'params');
    ctx.body = bindingView(await reportCardLost(deps, ctx.state.userId, id));
  });

  router.delete('/bindings/:id/loss', rateLimit(deps, 'card-change-user'), async (ctx) => {
    const { id } = validate(idParams, ctx.params, 'params');
    ctx.body = bindingView(await cancelCardLoss(deps, ctx.state.userId, id));
  });

  router.delete('/bindings/:id', rateLimit(deps, 'card-change-user'), async (ctx) => {
    const { id } = validate(idParams, ctx.params, 'params');
    await unbindCard(deps, ctx.state.userId, id);
    ctx.status = 204;
  });

  router.get('/bindings/:id/statement', rateLimit(deps, 'statement-user'), async (ctx) => {
    const { id } = validate(idParams, ctx.params, 'params');
    const query = validate(statementQuery, ctx.query, 'query');
    ctx.body = await cardStatement(deps, ctx.state.userId, id, query);
  });

  router.get('/bindings/:id/statement/:entryId', async (ctx) => {
    const { id, entryId } = validate(entryParams, ctx.params, 'params');
    ctx.body = await cardReceipt(deps, ctx.state.userId, id, entryId);
  });

  return router;
}
