import Joi from 'joi';
import type {
  ReconciliationCalendarResponse,
  ReconciliationDayResponse,
  ReconciliationExportLinkResponse,
  ReconciliationFindingsResponse,
} from '../../../../shared/admin-api.js';
import type { Deps } from '../../deps.js';
import { recordAudit } from '../../domain/audit/audit.js';
import { DomainError } from '../../domain/errors.js';
import { maskingFor } from '../../domain/orders/masking.js';
import { prepareDayWorkbook } from '../../domain/reconciliation/day-workbook.js';
import { exportLink } from '../../domain/reconciliation/export-links.js';
import { beijingDate, RECONCILE_DAY_JOB } from '../../domain/reconciliation/reconcile-day.js';
import { calendar, dayDetail, findingsList } from '../../domain/reconciliation/reconciliation-views.js';
import { validate } from '../../http/validate.js';
import { sendXlsx } from '../../http/xlsx-download.js';
import type { SchoolAdminRouter } from './school-admin-router.js';

const billDate = Joi.string().pattern(/^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/, 'yyyy-MM-dd');
const calendarQuery = Joi.object({ from: billDate, to: billDate });
const dayParams = Joi.object({ schoolId: Joi.string(), billDate: billDate.required() });
const findingsQuery = Joi.object({
  billDate,
  status: Joi.string().valid('OPEN', 'RESOLVED'),
  limit: Joi.number().integer().min(1).max(500).default(100),
});

const DAY_MS = 86_400_000;

/**
 * Reconciliation for the school's admins (issue 17): the calendar of days (balanced, open findings), a day's
 * totals and findings, the findings list and a rerun of a day. The repairs of open findings are actions of
 * the exceptions inbox (kind `reconciliation.finding`, domain/inbox/kinds/reconciliation.ts).
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
    const { schoolId, role } = ctx.state.admin;
    ctx.body = (await dayDetail(deps, schoolId, date, {
      maskCard: maskingFor(role).card,
    })) satisfies ReconciliationDayResponse;
  });

  // The day as an XLSX workbook for the finance office (totals, findings, the bill's rows), streamed.
  school.get('/reconciliation/days/:billDate/export', 'VIEWER', async (ctx) => {
    const { billDate: date } = validate(dayParams, ctx.params, 'params');
    const { schoolId, role } = ctx.state.admin;
    const workbook = await prepareDayWorkbook(deps, schoolId, date, { maskCard: maskingFor(role).card });
    sendXlsx(ctx, deps.logger, workbook);
  });

  // The same workbook behind a link that opens in a computer's browser for a few minutes (copied in the
  // mini-program, which cannot hand an XLSX over). Only for a reconciled day; audited.
  school.post('/reconciliation/days/:billDate/export-link', 'VIEWER', async (ctx) => {
    const { billDate: date } = validate(dayParams, ctx.params, 'params');
    const { schoolId, role, actor } = ctx.state.admin;
    const link = await exportLink(deps, { schoolId, billDate: date, role });
    await recordAudit(deps.db, { actor, schoolId, action: 'reconciliation.export-link', target: date });
    ctx.body = link satisfies ReconciliationExportLinkResponse;
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
    const { schoolId, role } = ctx.state.admin;
    ctx.body = (await findingsList(
      deps,
      schoolId,
      query,
      maskingFor(role).card,
    )) satisfies ReconciliationFindingsResponse;
  });
}
