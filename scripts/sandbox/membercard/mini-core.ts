/**
 * Card management's own API for a CRM (mini-core, seed 003 "业务系统调用卡管系统"):
 *   POST /card/update          {templateId, bizCardNo, point, changeReason, sign}        the card's points
 *   POST /card/changeTemplate  {templateId, bizCardNo, targetTemplateId, changeReason, sign}
 * The template names the business system; its RSA public key checks `sign` (signature.ts). Answers are
 * `{"status":"OK"}` or `{"status":"FAIL","errmsg":…}` with HTTP 200, as the seed's client reads them.
 * Every call is kept with its verdict (GET /control/calls).
 */
import Router from '@koa/router';
import { isSignatureValid } from './signature.js';
import type { CardManagementBooks } from './state.js';

type Answer = { status: 'OK' } | { status: 'FAIL'; errmsg: string };

function paramsOf(body: unknown): Record<string, string> {
  const params: Record<string, string> = {};
  if (!body || typeof body !== 'object') return params;
  for (const [name, value] of Object.entries(body as Record<string, unknown>)) {
    if (typeof value === 'string') params[name] = value;
    else if (typeof value === 'number' || typeof value === 'boolean') params[name] = String(value);
  }
  return params;
}

function handle(books: CardManagementBooks, path: string, params: Record<string, string>): Answer {
  const fail = (errmsg: string, signatureValid: boolean): Answer => {
    books.logInbound({ at: new Date().toISOString(), path, params, signatureValid, status: 'FAIL', errmsg });
    return { status: 'FAIL', errmsg };
  };
  const system = params.templateId ? books.systemOfTemplate(params.templateId) : undefined;
  if (!system) return fail(`模板不存在: ${params.templateId ?? ''}`, false);
  if (!isSignatureValid(params, system.publicKey)) return fail('验签失败', false);
  const card = params.bizCardNo ? books.activeCard(system.systemId, params.bizCardNo) : undefined;
  if (!card) return fail(`会员卡不存在: ${params.bizCardNo ?? ''}`, true);

  let change: string;
  if (path === '/card/update') {
    if (!/^\d{1,10}$/.test(params.point ?? '')) return fail('积分格式错误', true);
    if (card.templateId !== params.templateId) return fail('模板与会员卡不一致', true);
    change = `积分 ${card.point} → ${params.point}（${params.changeReason ?? ''}）`;
    card.point = Number(params.point);
  } else {
    const target = params.targetTemplateId ? system.templates.get(params.targetTemplateId) : undefined;
    if (!target) return fail(`目标模板不存在: ${params.targetTemplateId ?? ''}`, true);
    if (card.templateId === target.templateId) {
      // Asked again after an answer was lost: the card already shows the target.
      change = `模板已是 ${target.name}`;
    } else if (card.templateId !== params.templateId) {
      return fail('模板与会员卡不一致', true);
    } else {
      change = `模板 ${card.templateName} → ${target.name}（${params.changeReason ?? ''}）`;
      card.templateId = target.templateId;
      card.templateName = target.name;
    }
  }
  card.updates.push({ at: new Date().toISOString(), path, change });
  books.logInbound({
    at: new Date().toISOString(),
    path,
    params,
    signatureValid: true,
    status: 'OK',
    errmsg: null,
  });
  return { status: 'OK' };
}

export function miniCoreRoutes(books: CardManagementBooks): Router {
  const router = new Router();
  for (const path of ['/card/update', '/card/changeTemplate']) {
    router.post(path, async (ctx) => {
      const fault = books.takeFault(path);
      if (fault?.kind === 'HANG') {
        // Never answer: the caller's timeout decides (the connection closes with the sandbox).
        await new Promise<void>((resolve) => ctx.req.once('close', () => resolve()));
        return;
      }
      if (fault?.kind === 'HTTP_503') {
        ctx.status = 503;
        ctx.type = 'text/html';
        ctx.body = '<html><body>503 Service Temporarily Unavailable</body></html>';
        return;
      }
      if (fault?.kind === 'FAIL') {
        ctx.body = { status: 'FAIL', errmsg: '系统繁忙（注入的故障）' } satisfies Answer;
        return;
      }
      ctx.body = handle(books, path, paramsOf(ctx.request.body));
    });
  }
  return router;
}
