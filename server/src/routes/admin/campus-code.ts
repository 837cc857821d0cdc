import Joi from 'joi';
import type {
  CampusCodeExceptionsResponse,
  CampusCodeSummaryResponse,
} from '../../../../shared/admin-api.js';
import type { Deps } from '../../deps.js';
import { campusCodeExceptionCounts, listCampusCodeExceptions } from '../../domain/campus-code/exceptions.js';
import { validate } from '../../http/validate.js';
import type { SchoolAdminRouter } from './school-admin-router.js';

const exceptionsQuery = Joi.object({
  kind: Joi.string().valid('LATE', 'EXPIRED', 'FAILED').required(),
  before: Joi.string().guid(),
  limit: Joi.number().integer().min(1).max(100).default(30),
});

/**
 * Campus codes for the school's admins (issue #14): late uploads with the device, expired uploads, payments
 * Alipay refused with the student. Every admin may read them. (The exceptions inbox of issue #13 is to list
 * these kinds too once it exists; until then this is their list.)
 */
export function campusCodeAdminRoutes(school: SchoolAdminRouter, deps: Deps): void {
  school.get('/campus-code/exceptions', 'VIEWER', async (ctx) => {
    const { kind, before, limit } = validate(exceptionsQuery, ctx.query, 'query');
    ctx.body = (await listCampusCodeExceptions(deps, ctx.state.admin.schoolId, kind, {
      before,
      limit,
    })) satisfies CampusCodeExceptionsResponse;
  });

  school.get('/campus-code/summary', 'VIEWER', async (ctx) => {
    ctx.body = (await campusCodeExceptionCounts(
      deps,
      ctx.state.admin.schoolId,
    )) satisfies CampusCodeSummaryResponse;
  });
}
