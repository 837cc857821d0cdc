import Joi from 'joi';
import type { UpdateSchoolSettingsRequest } from '../../../../shared/admin-api.js';
import type { Deps } from '../../deps.js';
import { activeAuthorizationOf } from '../../domain/schools/isv-authorization.js';
import { schoolById, updateSchoolSettings } from '../../domain/schools/schools.js';
import { validate } from '../../http/validate.js';
import { amountFen } from '../miniapp/schemas.js';
import type { SchoolAdminRouter } from './school-admin-router.js';
import { schoolDetailView, settingsView } from './views.js';

const DAY_SECONDS = 86_400;

const settingsBody = Joi.object<UpdateSchoolSettingsRequest>({
  name: Joi.string().trim().min(1).max(40),
  servicePhone: Joi.string()
    .trim()
    .pattern(/^[0-9+\-() ]{5,20}$/, 'phone number')
    .allow(null, ''),
  rechargeMinFen: amountFen,
  rechargeMaxFen: amountFen,
  withholdingEnabled: Joi.boolean().strict(),
  txnLimitFen: amountFen,
  dailyLimitFen: amountFen,
  retryScheduleSeconds: Joi.array()
    .items(
      Joi.number()
        .integer()
        .strict()
        .min(10)
        .max(7 * DAY_SECONDS),
    )
    .min(1)
    .max(30),
  alipayInstitutionCode: Joi.string()
    .pattern(/^2088\d{12}$/, 'Alipay campus id (2088 + 12 digits)')
    .allow(null),
  campusCodeWindowDays: Joi.number().integer().strict().min(1).max(10),
  campusCodeLateAfterHours: Joi.number().integer().strict().min(1).max(240),
  campusCodeMaxFen: amountFen,
  terminalDispenseWindowMinutes: Joi.number().integer().strict().min(1).max(1440),
  terminalPayRequiresPhone: Joi.boolean().strict(),
}).min(1);

/** The school itself: what every admin sees, and the settings only owners change (issue 10). */
export function schoolRoutes(school: SchoolAdminRouter, deps: Deps): void {
  school.get('/', 'VIEWER', async (ctx) => {
    const { schoolId, role } = ctx.state.admin;
    const [school, authorization] = await Promise.all([
      schoolById(deps, schoolId),
      activeAuthorizationOf(deps, schoolId),
    ]);
    // The school row keeps its last token after a cancellation: only an ACTIVE authorization counts.
    ctx.body = schoolDetailView(school, role, { isAlipayAuthorized: !!authorization });
  });

  school.get('/settings', 'VIEWER', async (ctx) => {
    ctx.body = settingsView(await schoolById(deps, ctx.state.admin.schoolId));
  });

  school.put('/settings', 'OWNER', async (ctx) => {
    const { servicePhone, ...rest } = validate(settingsBody, ctx.request.body, 'body');
    const { schoolId, actor } = ctx.state.admin;
    const changes = servicePhone === undefined ? rest : { ...rest, servicePhone: servicePhone || null };
    ctx.body = settingsView(await updateSchoolSettings(deps, actor, schoolId, changes));
  });
}
