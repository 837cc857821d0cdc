import Joi from 'joi';
import type { AuditResponse } from '../../../../shared/admin-api.js';
import type { Deps } from '../../deps.js';
import { adminsOfSchool } from '../../domain/admin/admins.js';
import { schoolAuditLog } from '../../domain/audit/audit.js';
import { validate } from '../../http/validate.js';
import type { SchoolAdminRouter } from './school-admin-router.js';
import { auditEntryView } from './views.js';

const auditQuery = Joi.object({
  before: Joi.number().integer().min(1),
  limit: Joi.number().integer().min(1).max(100).default(30),
});

/** The school's audit log, newest first (owners, issue 10). */
export function auditRoutes(school: SchoolAdminRouter, deps: Deps): void {
  school.get('/audit', 'OWNER', async (ctx) => {
    const { before, limit } = validate(auditQuery, ctx.query, 'query');
    const { schoolId } = ctx.state.admin;
    const [rows, admins] = await Promise.all([
      schoolAuditLog(deps.db, schoolId, { beforeId: before, limit }),
      adminsOfSchool(deps, schoolId),
    ]);
    const names = new Map(admins.map((a) => [a.userId, a.displayName]));
    ctx.body = {
      items: rows.map((row) => auditEntryView(row, names)),
      nextBefore: rows.length === limit ? rows[rows.length - 1].id : null,
    } satisfies AuditResponse;
  });
}
