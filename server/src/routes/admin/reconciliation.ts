import Joi from 'joi';
import type {
  ReconciliationCalendarResponse,
  ReconciliationDayResponse,
  ReconciliationFindingsResponse,
  ReconciliationRepairResponse,
} from '../../../../shared/admin-api.js';
import type { Deps } from '../../deps.js';
import { recordAudit } from '../../domain/audit/audit.js';
import { DomainError } from '../../domain/errors.js';
import { beijingDate, RECONCILE_DAY_JOB } from '../../domain/reconciliation/reconcile-day.js';
import { repairFinding } from '../../domain/reconciliation/repairs.js';
import {
  calendar,
  dayDetail,
  findingView,
  findingsList,
} from '../../domain/reconciliation/reconciliation-views.js';
import { validate } from '../../http/validate.js';
import { uuid } from '../miniapp/schemas.js';
import type { SchoolAdminRouter } from './school-admin-router.js';

const billDate = Joi.string().pattern(/^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/, 'yyyy-MM-dd');
const calendarQuery = Joi.object({ from: billDate, to: billDate });
const dayParams = Joi.object({ schoolId: Joi.string(), billDate: billDate.required() });
const findingsQuery = Joi.object({
  billDate,
  status: Joi.string().valid('OPEN', 'RESOLVED'),
  limit: Joi.number().integer().min(1).max(500).default(100),
});
const repairParams = Joi.object({
  schoolId: Joi.string(),
  id: uuid.required(),
  repair: Joi.string().valid('apply-payment', 're-credit', 'mark-handled').required(),
});
const repairBody = Joi.object({ reason: Joi.string().trim().min(2).max(200) });

const DAY_MS = 86_400_000;

/**
 * Reconciliation for the school's admins (issue 17): the calendar of days (balanced, open findings), a day's
 * totals and findings, the findings list, the repairs (STAFF; audited) and a rerun of a day.
 */
export function reconciliationRoutes(school: SchoolAdminRouter, deps: Deps): void {
  school.get('/reconciliation/days', 'VIEWER', async (ctx) => {
    const query = validate(calendarQuery, ctx.query, 'query');
    const now = deps.clock.now();
    const to = query.to ?? beijingDate(new Date(now.getTime() - DAY_MS));
    const from = query.from ?? beijingDate(new Date(now.getTime() - 31 * DAY_MS));
    ctx.body = (await calendar(
      deps,
      ctx.state.admin.schoolId,
      from,
      to,
    )) satisfies ReconciliationCalendarResponse;
  });

  school.get('/reconciliation/days/:billDate', 'VIEWER', async (ctx) => {
    const { billDate: date } = validate(dayParams, ctx.params, 'params');
    ctx.body = (await dayDetail(deps, ctx.state.admin.schoolId, date)) satisfies ReconciliationDayResponse;
  });

  school.post('/reconciliation/days/:billDate/rerun', 'STAFF', async (ctx) => {
    const { billDate: date } = validate(dayParams, ctx.params, 'params');
    const { schoolId, actor } = ctx.state.admin;
    if (date >= beijingDate(deps.clock.now())) {
      throw new DomainError('VALIDATION_FAILED', 'params.billDate: only days that are over', {
        field: 'params.billDate',
      });
    }
    await recordAudit(deps.db, { actor, schoolId, action: 'reconciliation.rerun', target: date });
    await deps.jobs.now(RECONCILE_DAY_JOB, { schoolId, billDate: date });
    ctx.status = 202;
    ctx.body = { queued: true, billDate: date };
  });

  school.get('/reconciliation/findings', 'VIEWER', async (ctx) => {
    const query = validate(findingsQuery, ctx.query, 'query');
    ctx.body = (await findingsList(
      deps,
      ctx.state.admin.schoolId,
      query,
    )) satisfies ReconciliationFindingsResponse;
  });

  school.post('/reconciliation/findings/:id/:repair', 'STAFF', async (ctx) => {
    const params = validate(repairParams, ctx.params, 'params');
    const { reason } = validate(repairBody, ctx.request.body ?? {}, 'body');
    const { schoolId, actor } = ctx.state.admin;
    const result = await repairFinding(deps, actor, schoolId, {
      id: params.id,
      repair: params.repair,
      reason,
    });
    ctx.body = {
      changed: result.changed,
      finding: findingView(result.finding),
    } satisfies ReconciliationRepairResponse;
  });
}
