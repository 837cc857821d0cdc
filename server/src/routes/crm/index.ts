import Router from '@koa/router';
import Joi from 'joi';
import type { Middleware } from 'koa';
import type { MembershipProgramRow } from '../../db/repos/membercard/programs.js';
import type { Deps } from '../../deps.js';
import { cardChange, dynamicCodeFor, openCardInfo } from '../../domain/membercard/crm.js';
import { DomainError } from '../../domain/errors.js';
import { crmAuth } from '../../http/crm-auth.js';
import { rateLimit } from '../../http/rate-limit.js';
import { sendError } from '../../http/errors.js';
import { validate } from '../../http/validate.js';

const alipayUserId = Joi.string().pattern(/^[A-Za-z0-9_-]{1,64}$/, 'Alipay user id');
const templateId = Joi.string().pattern(/^[A-Za-z0-9_-]{1,64}$/, 'template id');
const cardNo = Joi.string().pattern(/^[A-Za-z0-9]{4,32}$/, 'card number');
// Open-card form fields arrive only when the school's form asks for them; empty means not asked.
const formField = (max: number) => Joi.string().max(max).empty(['', null]);

const openCardBody = Joi.object({
  alipayUserId: alipayUserId.required(),
  bizCardNo: cardNo.empty(['', null]),
  templateId: templateId.empty(['', null]),
  name: formField(64),
  mobile: formField(32),
  certNo: formField(32),
  gender: formField(16),
  outString: formField(256),
  // Other fields of a school's open-card form (email, birthday, …) are not ours to keep.
}).unknown(true);

const cardChangeBody = Joi.object({
  type: Joi.string().valid('ADD', 'DEL').required(),
  templateId: templateId.required(),
  alipayUserId: alipayUserId.required(),
  bizCardNo: cardNo.required(),
  alipayCardNo: Joi.string()
    .pattern(/^[A-Za-z0-9_-]{1,64}$/, 'Alipay card number')
    .required(),
});

const codeBody = Joi.object({
  appId: Joi.string()
    .pattern(/^\d{16}$/, '16-digit app id')
    .required(),
  templateId: templateId.required(),
  alipayUserId: alipayUserId.required(),
  // Seconds as configured in card management; it may send the number as a string.
  expireTime: Joi.number().integer().min(10).max(3600).empty(['', null]),
});

/**
 * Errors in the shape card management reads (its own answers are `{status, errmsg}`), next to our error
 * model: `{"status":"FAIL","errmsg":…,"error":{code,message,field?},"requestId"}` with the HTTP status.
 */
function crmErrors(): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      sendError(ctx, error);
      ctx.body = { status: 'FAIL', errmsg: error.message, ...(ctx.body as object) };
    }
  };
}

/**
 * `/crm/card/*`: the CRM routes AntBuilder card management calls (seed 003, DESIGN §6.4,
 * docs/membercard.md). JSON bodies, header `token`.
 */
export function crmRoutes(deps: Deps): Router {
  const router = new Router({ prefix: '/crm/card' });
  router.use(crmErrors());
  router.use(rateLimit(deps, 'crm-ip'));
  router.use(crmAuth(deps));
  const program = (state: Record<string, unknown>) => state.membershipProgram as MembershipProgramRow;

  router.post('/openCardInfo', async (ctx) => {
    const body = validate(openCardBody, ctx.request.body, 'body');
    ctx.body = await openCardInfo(deps, program(ctx.state), body);
  });

  router.post('/cardChange', async (ctx) => {
    const body = validate(cardChangeBody, ctx.request.body, 'body');
    await cardChange(deps, program(ctx.state), body);
    // The seed's cardChange returns boolean true.
    ctx.body = true;
  });

  router.post('/mdCodeChange', async (ctx) => {
    const body = validate(codeBody, ctx.request.body, 'body');
    ctx.body = await dynamicCodeFor(deps, program(ctx.state), body);
  });

  return router;
}
