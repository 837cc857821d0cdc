/**
 * The sandbox's control API under /control (docs/sandbox.md): configure a school's business system, stand in
 * for the Alipay user (claim the card, open it, show its dynamic code, delete it), and read what happened.
 * Also the claim link itself (GET /claim?templateId=…), a small form page a person can fill in a browser.
 */
import Router from '@koa/router';
import Joi from 'joi';
import type { ClaimInput, FaultInput, FormField, SystemInput, SystemView } from './control-types.js';
import { SandboxNotFound, type CardManagementBooks, type System } from './state.js';
import { claimCard, removeCard, requestCode, showCard } from './wallet.js';

export class ValidationFailed extends Error {
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
  }
}

const FORM_FIELDS: FormField[] = ['name', 'mobile', 'certNo', 'gender'];
const id = Joi.string().pattern(/^[A-Za-z0-9_-]{1,64}$/);

const schemas = {
  system: Joi.object<SystemInput>({
    crmBaseUrl: Joi.string()
      .uri({ scheme: ['http', 'https'] })
      .required(),
    token: Joi.string().min(1).max(256).required(),
    publicKey: Joi.string()
      .pattern(/-----BEGIN PUBLIC KEY-----/, 'SPKI PEM')
      .required(),
    appId: Joi.string()
      .pattern(/^\d{16}$/)
      .required(),
    timeoutMs: Joi.number().integer().min(100).max(60_000),
    templates: Joi.array()
      .items(
        Joi.object({
          templateId: id.required(),
          name: Joi.string().min(1).max(64).required(),
          formFields: Joi.array()
            .items(Joi.string().valid(...FORM_FIELDS))
            .unique(),
          codeExpireSeconds: Joi.number().integer().min(10).max(3600),
        }),
      )
      .min(1)
      .unique('templateId')
      .required(),
  }),
  claim: Joi.object<ClaimInput>({
    templateId: id.required(),
    alipayUserId: id.required(),
    form: Joi.object(Object.fromEntries(FORM_FIELDS.map((f) => [f, Joi.string().max(64)]))),
    outString: Joi.string().max(256),
  }),
  fault: Joi.object<FaultInput>({
    path: Joi.string().valid('*', '/card/update', '/card/changeTemplate'),
    kind: Joi.string().valid('HTTP_503', 'FAIL', 'HANG').required(),
    times: Joi.number().integer().min(1).max(1_000_000),
  }),
};

function valid<T>(schema: Joi.ObjectSchema<T>, body: unknown): T {
  const { value, error } = schema.validate(body ?? {}, { abortEarly: true, convert: false });
  if (error) throw new ValidationFailed(error.message, error.details[0]?.path.join('.') ?? '');
  return value;
}

export function claimUrl(baseUrl: string, templateId: string): string {
  return `${baseUrl}/claim?templateId=${encodeURIComponent(templateId)}`;
}

export function systemView(baseUrl: string, system: System): SystemView {
  return {
    systemId: system.systemId,
    crmBaseUrl: system.crmBaseUrl,
    tokenHint: `…${system.token.slice(-4)}`,
    publicKey: system.publicKey,
    appId: system.appId,
    timeoutMs: system.timeoutMs,
    templates: [...system.templates.values()].map((t) => ({
      ...t,
      claimUrl: claimUrl(baseUrl, t.templateId),
    })),
  };
}

const escape = (value: string) => value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const FIELD_LABELS: Record<FormField, string> = {
  name: '姓名',
  mobile: '手机号',
  certNo: '身份证号',
  gender: '性别',
};

export function controlRoutes(books: CardManagementBooks, baseUrl: () => string): Router {
  const router = new Router();

  router.get('/control/health', (ctx) => {
    ctx.body = { ok: true, systems: books.systems.size, cards: books.cards.size };
  });
  router.post('/control/reset', (ctx) => {
    books.reset();
    ctx.status = 204;
  });

  router.put('/control/systems/:systemId', (ctx) => {
    const systemId = valid(Joi.object({ systemId: id.required() }), ctx.params).systemId;
    ctx.body = systemView(baseUrl(), books.configure(systemId, valid(schemas.system, ctx.request.body)));
  });
  router.get('/control/systems', (ctx) => {
    ctx.body = { systems: [...books.systems.values()].map((s) => systemView(baseUrl(), s)) };
  });
  router.get('/control/systems/:systemId', (ctx) => {
    ctx.body = systemView(baseUrl(), books.system(ctx.params.systemId));
  });

  router.post('/control/claims', async (ctx) => {
    ctx.body = await claimCard(books, valid(schemas.claim, ctx.request.body));
  });
  router.get('/control/wallets/:alipayUserId', (ctx) => {
    ctx.body = { cards: books.wallet(ctx.params.alipayUserId).map((c) => structuredClone(c)) };
  });
  router.get('/control/wallets/:alipayUserId/cards/:alipayCardNo', async (ctx) => {
    ctx.body = await showCard(books, ctx.params.alipayUserId, ctx.params.alipayCardNo);
  });
  router.post('/control/wallets/:alipayUserId/cards/:alipayCardNo/code', async (ctx) => {
    ctx.body = await requestCode(books, ctx.params.alipayUserId, ctx.params.alipayCardNo);
  });
  router.delete('/control/wallets/:alipayUserId/cards/:alipayCardNo', async (ctx) => {
    ctx.body = await removeCard(books, ctx.params.alipayUserId, ctx.params.alipayCardNo);
  });

  router.get('/control/calls', (ctx) => {
    const systemId = typeof ctx.query.systemId === 'string' ? ctx.query.systemId : undefined;
    ctx.body = {
      crm: books.crmCalls.filter((c) => !systemId || c.systemId === systemId),
      inbound: books.inboundCalls,
    };
  });

  router.post('/control/faults', (ctx) => {
    ctx.status = 201;
    ctx.body = books.addFault(valid(schemas.fault, ctx.request.body));
  });
  router.get('/control/faults', (ctx) => {
    ctx.body = { faults: books.listFaults() };
  });
  router.delete('/control/faults', (ctx) => {
    books.clearFaults();
    ctx.status = 204;
  });

  // The claim link a school hands out (领卡链接): the open-card form of one template.
  router.get('/claim', (ctx) => {
    const templateId = String(ctx.query.templateId ?? '');
    const system = books.systemOfTemplate(templateId);
    if (!system) throw new SandboxNotFound(`no template ${templateId}`);
    const template = system.templates.get(templateId)!;
    const inputs = template.formFields
      .map((f) => `<label>${FIELD_LABELS[f]} <input name="${f}"></label><br>`)
      .join('\n');
    ctx.type = 'html';
    ctx.body = `<!doctype html><meta charset="utf-8"><title>领取${escape(template.name)}</title>
<h1>领取${escape(template.name)}</h1>
<form method="post" action="/claim">
<input type="hidden" name="templateId" value="${escape(templateId)}">
<label>支付宝用户 ID <input name="alipayUserId" value="2088000000000001"></label><br>
${inputs}
<button type="submit">领取会员卡</button>
</form>`;
  });
  router.post('/claim', async (ctx) => {
    const body = (ctx.request.body ?? {}) as Record<string, string>;
    const form = Object.fromEntries(FORM_FIELDS.filter((f) => body[f]).map((f) => [f, body[f]]));
    const claim = await claimCard(
      books,
      valid(schemas.claim, { templateId: body.templateId, alipayUserId: body.alipayUserId, form }),
    );
    ctx.type = 'html';
    ctx.body =
      claim.status === 'CLAIMED'
        ? `<!doctype html><meta charset="utf-8"><h1>已放入卡包</h1><pre>${escape(JSON.stringify(claim.card, null, 2))}</pre>`
        : `<!doctype html><meta charset="utf-8"><h1>领卡失败</h1><p>${escape(claim.reason ?? '')}</p>`;
  });

  return router;
}
