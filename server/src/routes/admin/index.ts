import Router from '@koa/router';
import type { Deps } from '../../deps.js';
import { rateLimit } from '../../http/rate-limit.js';
import { requireSession } from '../../http/session-auth.js';
import { adminsRoutes } from './admins.js';
import { auditRoutes } from './audit.js';
import { campusCodeAdminRoutes } from './campus-code.js';
import { dashboardRoutes } from './dashboard.js';
import { inboxRoutes } from './inbox.js';
import { membershipRoutes } from './memberships.js';
import { ordersRoutes } from './orders.js';
import { rosterRoutes } from './roster.js';
import { reconciliationRoutes } from './reconciliation.js';
import { schoolRoutes } from './school.js';
import { SchoolAdminRouter } from './school-admin-router.js';
import { terminalAdminRoutes } from './terminals.js';

/**
 * The school admins' API, `/api/v1/admin` (DESIGN §6.1, §7.0; shapes in shared/admin-api.ts). Every route
 * needs a mini-program session; routes about one school are declared through SchoolAdminRouter, which
 * checks membership and role on every call. A new capability adds its module to the list below.
 */
export function adminRoutes(deps: Deps): Router {
  const router = new Router({ prefix: '/api/v1/admin' });
  router.use(rateLimit(deps, 'api-ip'));
  router.use(requireSession(deps.sessions));
  router.use(rateLimit(deps, 'api-user'));
  membershipRoutes(router, deps);
  const school = new SchoolAdminRouter(router, deps);
  for (const add of [
    schoolRoutes,
    adminsRoutes,
    auditRoutes,
    campusCodeAdminRoutes,
    dashboardRoutes,
    ordersRoutes,
    inboxRoutes,
    rosterRoutes,
    reconciliationRoutes,
    terminalAdminRoutes,
  ])
    add(school, deps);
  return router;
}
