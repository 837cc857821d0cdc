/**
 * The AntBuilder card-management sandbox (issue 16, DESIGN §8): card management's own API for a CRM
 * (mini-core: /card/update, /card/changeTemplate, RSA2-checked), the calls it makes to a school's CRM
 * (openCardInfo, cardChange, mdCodeChange with the token), and a control API that stands in for the Alipay
 * user's wallet. In-process for tests and npm start, or its own process via main.ts.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { koaBody } from 'koa-body';
import { controlRoutes, ValidationFailed } from './control-api.js';
import type { ControlErrorBody } from './control-types.js';
import { miniCoreRoutes } from './mini-core.js';
import { CardManagementBooks, SandboxConflict, SandboxNotFound } from './state.js';

export interface MembercardSandboxOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
}

export interface MembercardSandbox {
  /** e.g. http://127.0.0.1:4030: mini-core under /card, control under /control, claim links under /claim. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

function errorAnswer(error: unknown): [number, ControlErrorBody] {
  if (error instanceof ValidationFailed)
    return [400, { error: { code: 'VALIDATION_FAILED', message: error.message, field: error.field } }];
  if (error instanceof SandboxNotFound)
    return [404, { error: { code: 'NOT_FOUND', message: error.message } }];
  if (error instanceof SandboxConflict) return [409, { error: { code: 'CONFLICT', message: error.message } }];
  const status = (error as { status?: number }).status;
  if (status === 400 || status === 415)
    return [400, { error: { code: 'VALIDATION_FAILED', message: (error as Error).message } }];
  return [500, { error: { code: 'INTERNAL', message: (error as Error).message } }];
}

export async function startMembercardSandbox(
  options: MembercardSandboxOptions = {},
): Promise<MembercardSandbox> {
  const host = options.host ?? '127.0.0.1';
  const books = new CardManagementBooks();
  let url = '';
  const app = new Koa();
  app.use(async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        ctx.status = 404;
        ctx.body = { error: { code: 'NOT_FOUND', message: `no route ${ctx.method} ${ctx.path}` } };
      }
    } catch (error) {
      [ctx.status, ctx.body] = errorAnswer(error);
    }
  });
  app.use(koaBody({ jsonLimit: '100kb', text: false, multipart: false }));
  const control = controlRoutes(books, () => url);
  const miniCore = miniCoreRoutes(books);
  app.use(control.routes()).use(control.allowedMethods());
  app.use(miniCore.routes()).use(miniCore.allowedMethods());

  const server = http.createServer(app.callback());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
  return {
    url,
    port,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
