import Koa from 'koa';
import type Router from '@koa/router';
import { HttpMethodEnum, koaBody } from 'koa-body';
import type { Deps } from './deps.js';
import { errorHandler } from './http/errors.js';
import { requestId } from './http/request-id.js';
import { adminRoutes } from './routes/admin/index.js';
import { benchRoutes } from './routes/bench.js';
import { CAMPUS_CODE_UPLOAD_PATH, gatewayRoutes } from './routes/gateway/index.js';
import { healthRoutes } from './routes/health.js';
import { miniappRoutes } from './routes/miniapp/index.js';
import { notifyRoutes } from './routes/notify.js';

export interface AppOptions {
  isShuttingDown?: () => boolean;
}

function accessLog(deps: Pick<Deps, 'logger'>): Koa.Middleware {
  return async (ctx, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      deps.logger.http('request', {
        requestId: ctx.state.requestId,
        method: ctx.method,
        path: ctx.path,
        status: ctx.status,
        ms: Math.round((performance.now() - started) * 10) / 10,
      });
    }
  };
}

function mount(app: Koa, router: Router): void {
  app.use(router.routes());
  // Sets 405 + Allow; the error handler turns the empty 405 into the error model.
  app.use(router.allowedMethods());
}

/** Builds the Koa app; `listen` is main.ts's business so tests can start it on a free port. */
export function buildApp(deps: Deps, options: AppOptions = {}): Koa {
  const app = new Koa({ proxy: true });
  const limit = deps.config.bodyLimitBytes;
  const isShuttingDown = options.isShuttingDown ?? (() => false);
  app.use(async (ctx, next) => {
    await next();
    // During shutdown, answers close their connection so the server can finish without waiting for
    // keep-alive connections to idle out.
    if (isShuttingDown()) ctx.set('Connection', 'close');
  });
  app.use(requestId());
  app.use(errorHandler(deps.logger));
  app.use(accessLog(deps));
  const bodyParser = (bytes: number) =>
    koaBody({
      jsonLimit: bytes,
      formLimit: bytes,
      textLimit: bytes,
      jsonStrict: true,
      multipart: false,
      // The POS gateway signs the exact body bytes; keep them next to the parsed body.
      includeUnparsed: true,
      parsedMethods: [HttpMethodEnum.POST, HttpMethodEnum.PUT, HttpMethodEnum.PATCH, HttpMethodEnum.DELETE],
    });
  const regularBody = bodyParser(limit);
  // A batch of up to 500 campus-code payments (about 0.5 MB) is the one body allowed to be large.
  const uploadBody = bodyParser(Math.max(limit, deps.config.campusCode.bodyLimitBytes));
  app.use((ctx, next) =>
    ctx.path === CAMPUS_CODE_UPLOAD_PATH ? uploadBody(ctx, next) : regularBody(ctx, next),
  );
  mount(app, healthRoutes(deps, isShuttingDown));
  // Before the mini-program routes: /api/v1/admin is its own audience with its own checks.
  mount(app, adminRoutes(deps));
  mount(app, miniappRoutes(deps));
  mount(app, notifyRoutes(deps));
  mount(app, gatewayRoutes(deps));
  if (deps.config.gateway.benchReferenceRoutes) mount(app, benchRoutes(deps));
  return app;
}
