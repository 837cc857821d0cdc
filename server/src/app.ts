import Koa from 'koa';
import type Router from '@koa/router';
import { HttpMethodEnum, koaBody } from 'koa-body';
import type { Deps } from './deps.js';
import { clientIp } from './http/client-ip.js';
import { errorHandler, rejectUnreadableBody } from './http/errors.js';
import { checkRateLimitSettings } from './http/rate-limit.js';
import { requestId } from './http/request-id.js';
import { adminRoutes } from './routes/admin/index.js';
import { httpRequests } from './lib/metrics.js';
import { ROSTER_UPLOAD_PATH } from './routes/admin/roster.js';
import { benchRoutes } from './routes/bench.js';
import { crmRoutes } from './routes/crm/index.js';
import { CAMPUS_CODE_UPLOAD_PATH, gatewayRoutes } from './routes/gateway/index.js';
import { exportRoutes } from './routes/exports.js';
import { healthRoutes } from './routes/health.js';
import { isvRoutes } from './routes/isv/index.js';
import { metricsRoutes } from './routes/metrics.js';
import { miniappRoutes } from './routes/miniapp/index.js';
import { NOTIFY_PATH, notifyRoutes } from './routes/notify.js';

export interface AppOptions {
  isShuttingDown?: () => boolean;
}

function accessLog(deps: Pick<Deps, 'logger'>): Koa.Middleware {
  return async (ctx, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      // The route pattern, not the path: ids would make a label value per request.
      const route = (ctx as { _matchedRoute?: unknown })._matchedRoute;
      httpRequests.observe(
        {
          method: ctx.method,
          route: typeof route === 'string' ? route : 'unmatched',
          status: `${Math.floor(ctx.status / 100)}xx`,
        },
        (performance.now() - started) / 1000,
      );
      // Built only when written: at the default level the line is dropped, and building it costs per request.
      if (deps.logger.isLevelEnabled('http'))
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
  checkRateLimitSettings(deps.config);
  // X-Forwarded-For is read by http/client-ip.ts, and only from TRUSTED_PROXIES; Koa's own `proxy` would
  // believe the left-most address of anyone.
  const app = new Koa({ proxy: false });
  const limit = deps.config.bodyLimitBytes;
  const isShuttingDown = options.isShuttingDown ?? (() => false);
  app.use(async (ctx, next) => {
    await next();
    // During shutdown, answers close their connection so the server can finish without waiting for
    // keep-alive connections to idle out.
    if (isShuttingDown()) ctx.set('Connection', 'close');
  });
  app.use(requestId());
  app.use(clientIp(deps.config.trustedProxies));
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
      onError: rejectUnreadableBody,
    });
  const regularBody = bodyParser(limit);
  // A batch of up to 500 campus-code payments (about 0.5 MB) is the one body allowed to be large.
  const uploadBody = bodyParser(Math.max(limit, deps.config.campusCode.bodyLimitBytes));
  // Roster files (issue 13) are the one multipart upload: to the temp folder, at most ROSTER_MAX_BYTES.
  const rosterBody = koaBody({
    multipart: true,
    urlencoded: false,
    json: false,
    text: false,
    formLimit: limit,
    formidable: { maxFiles: 1, maxFileSize: deps.config.admin.rosterMaxBytes, maxFields: 10 },
    onError: rejectUnreadableBody,
  });
  app.use((ctx, next) => {
    // The notify route parses its own body: form only, and small (routes/notify.ts).
    if (ctx.path === NOTIFY_PATH) return next();
    if (ctx.path === CAMPUS_CODE_UPLOAD_PATH) return uploadBody(ctx, next);
    if (ctx.method === 'POST' && ROSTER_UPLOAD_PATH.test(ctx.path)) return rosterBody(ctx, next);
    return regularBody(ctx, next);
  });
  // First: every canteen swipe comes this way, the busiest route by far; a router it passed through first
  // would try each of its routes' patterns on every swipe (no other router has /gateway paths).
  mount(app, gatewayRoutes(deps));
  // Second: Alipay's notifications, one per payment (each router before it reads the request's host and
  // tries its patterns on every notification).
  mount(app, notifyRoutes(deps));
  mount(app, healthRoutes(deps, isShuttingDown));
  // Before the mini-program routes: /api/v1/admin is its own audience with its own checks.
  mount(app, adminRoutes(deps));
  mount(app, metricsRoutes(deps));
  mount(app, miniappRoutes(deps));
  mount(app, isvRoutes(deps));
  mount(app, crmRoutes(deps));
  mount(app, exportRoutes(deps));
  if (deps.config.gateway.benchReferenceRoutes) mount(app, benchRoutes(deps));
  return app;
}
