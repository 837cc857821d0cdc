import Router from '@koa/router';
import { isDatabaseReachable } from '../db/client.js';
import type { Deps } from '../deps.js';

/** `/healthz`: the process answers. `/readyz`: it can also reach its database (DESIGN §9). */
export function healthRoutes(deps: Pick<Deps, 'pool'>, isShuttingDown: () => boolean): Router {
  const router = new Router();
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    const database = await isDatabaseReachable(deps.pool);
    const ready = database && !isShuttingDown();
    ctx.status = ready ? 200 : 503;
    ctx.body = {
      status: ready ? 'ready' : 'not_ready',
      database: database ? 'up' : 'down',
      shuttingDown: isShuttingDown(),
    };
  });
  return router;
}
