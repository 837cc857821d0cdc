import Router from '@koa/router';
import type { Deps } from '../../deps.js';
import { rateLimit } from '../../http/rate-limit.js';
import { requireSession } from '../../http/session-auth.js';
import { cardRoutes } from './cards.js';
import { meRoutes } from './me.js';
import { messageRoutes } from './messages.js';
import { rechargeRoutes } from './recharges.js';
import { sessionRoutes } from './session.js';
import { terminalOrderRoutes } from './terminal-orders.js';
import { withholdingRoutes } from './withholding.js';

/** The mini-program API, `/api/v1` (DESIGN §6.1). Everything but `POST /session` needs a session. */
export function miniappRoutes(deps: Deps): Router {
  const router = new Router({ prefix: '/api/v1' });
  router.use(rateLimit(deps, 'api-ip'));
  const open = sessionRoutes(deps);
  router.use(open.routes(), open.allowedMethods());
  const authed = new Router();
  authed.use(requireSession(deps.sessions));
  authed.use(rateLimit(deps, 'api-user'));
  for (const routes of [
    meRoutes(deps),
    cardRoutes(deps),
    rechargeRoutes(deps),
    withholdingRoutes(deps),
    messageRoutes(deps),
    terminalOrderRoutes(deps),
  ])
    authed.use(routes.routes(), routes.allowedMethods());
  router.use(authed.routes(), authed.allowedMethods());
  return router;
}
