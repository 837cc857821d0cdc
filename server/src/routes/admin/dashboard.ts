import type { Deps } from '../../deps.js';
import { schoolDashboard } from '../../domain/dashboard/dashboard.js';
import type { SchoolAdminRouter } from './school-admin-router.js';

/** The school's dashboard: today and the last 7 days, and what stands open now (issue 13). */
export function dashboardRoutes(school: SchoolAdminRouter, deps: Deps): void {
  school.get('/dashboard', 'VIEWER', async (ctx) => {
    ctx.body = await schoolDashboard(deps, ctx.state.admin.schoolId);
  });
}
