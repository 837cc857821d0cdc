import type { IncomingMessage } from 'node:http';
import type { Context, Middleware } from 'koa';
import type { SandboxContext } from '../context.js';
import { authorizeMerchant } from '../domain/apps.js';
import { parseForm } from '../protocol/form.js';

/**
 * `/oauth2/appToAppAuth.htm`: the page a school's Alipay account opens from an ISV's authorization link
 * (ALIPAY-M2.md §4 "Authorization links"). GET shows who asks and a 确认授权 button; POST is the merchant
 * agreeing: a fresh app_auth_code and a 302 to `redirect_uri?app_id=…&app_auth_code=…&state=…&source=alipay_app_auth`.
 * The merchant is named in the form (name and, to authorize again as the same school, its app id).
 */

export const AUTH_PAGE_PATH = '/oauth2/appToAppAuth.htm';
const CODE_TTL_MS = 24 * 3_600_000;

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

async function readForm(req: IncomingMessage): Promise<Record<string, string>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 64 * 1024) throw new Error('form too large');
    chunks.push(chunk as Buffer);
  }
  return parseForm(Buffer.concat(chunks).toString('utf8'), 'utf-8');
}

function problem(koa: Context, status: number, message: string): void {
  koa.status = status;
  koa.type = 'text/html;charset=utf-8';
  koa.body = `<!doctype html><meta charset="utf-8"><title>授权失败</title><p>${escape(message)}</p>`;
}

export function appToAppAuthPage(sandbox: SandboxContext): Middleware {
  return async (koa) => {
    const params = koa.method === 'POST' ? { ...koa.query, ...(await readForm(koa.req)) } : koa.query;
    const text = (name: string) => (typeof params[name] === 'string' ? (params[name] as string) : '');
    const app = sandbox.state.apps.get(text('app_id'));
    if (!app) return problem(koa, 400, `应用不存在: app_id ${text('app_id')}`);
    const redirectUri = text('redirect_uri');
    let target: URL;
    try {
      target = new URL(redirectUri);
    } catch {
      return problem(koa, 400, 'redirect_uri 不是合法的地址');
    }
    if (app.authRedirectUri && app.authRedirectUri !== redirectUri)
      return problem(koa, 400, `redirect_uri 与应用配置的授权回调地址不一致: ${app.authRedirectUri}`);

    if (koa.method === 'GET') {
      const hidden = ['app_id', 'redirect_uri', 'state', 'application_type']
        .map((name) => `<input type="hidden" name="${name}" value="${escape(text(name))}">`)
        .join('');
      koa.type = 'text/html;charset=utf-8';
      koa.body = `<!doctype html><meta charset="utf-8"><title>第三方应用授权</title>
<h1>授权 ${escape(app.name)} 代为调用支付宝接口</h1>
<p>沙箱：以商户（学校）身份确认授权后，会跳转回 ${escape(target.origin + target.pathname)}。</p>
<form method="post">${hidden}
<p><label>商户名称 <input name="merchant_name" placeholder="示例大学"></label></p>
<p><label>商户应用 app_id（再次授权时填写，可空） <input name="merchant_app_id"></label></p>
<p><button type="submit">确认授权</button></p></form>`;
      return;
    }

    const merchantAppId = text('merchant_app_id');
    if (merchantAppId && !/^\d{16}$/.test(merchantAppId))
      return problem(koa, 400, 'merchant_app_id 应为 16 位数字');
    const authorization = authorizeMerchant(sandbox, {
      isvAppId: app.appId,
      merchantAppId: merchantAppId || undefined,
      merchantName: text('merchant_name') || undefined,
      ttlMs: CODE_TTL_MS,
    });
    target.searchParams.set('app_id', app.appId);
    target.searchParams.set('app_auth_code', authorization.appAuthCode);
    if (text('state')) target.searchParams.set('state', text('state'));
    target.searchParams.set('source', 'alipay_app_auth');
    koa.status = 302;
    koa.redirect(target.toString());
  };
}
