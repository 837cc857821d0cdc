import Router from '@koa/router';
import Joi from 'joi';
import type { Deps } from '../deps.js';
import { DomainError } from '../domain/errors.js';
import { maskingFor } from '../domain/orders/masking.js';
import { prepareDayWorkbook } from '../domain/reconciliation/day-workbook.js';
import { openExportLink } from '../domain/reconciliation/export-links.js';
import { rateLimit } from '../http/rate-limit.js';
import { validate } from '../http/validate.js';
import { sendXlsx } from '../http/xlsx-download.js';

const tokenParams = Joi.object({ token: Joi.string().max(1_000).required() });

/**
 * Downloads opened in a computer's browser from a link copied in the mini-program (no session there):
 * `/exports/reconciliation/:token`, a day's workbook (domain/reconciliation/export-links.ts).
 */
export function exportRoutes(deps: Deps): Router {
  const router = new Router({ prefix: '/exports' });
  router.use(rateLimit(deps, 'api-ip'));
  router.get('/reconciliation/:token', async (ctx) => {
    const { token } = validate(tokenParams, ctx.params, 'params');
    const grant = openExportLink(deps, token);
    if (!grant) throw new DomainError('RECONCILIATION_EXPORT_LINK_EXPIRED');
    const workbook = await prepareDayWorkbook(deps, grant.schoolId, grant.billDate, {
      maskCard: maskingFor(grant.role).card,
    });
    sendXlsx(ctx, deps.logger, workbook);
  });
  return router;
}
