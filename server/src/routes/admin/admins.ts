import Joi from 'joi';
import type {
  ChangeAdminRoleRequest,
  CreateInvitationRequest,
  InvitationView,
  SchoolAdminsResponse,
} from '../../../../shared/admin-api.js';
import type { Deps } from '../../deps.js';
import { adminsOfSchool, changeAdminRole, createInvitation, removeAdmin } from '../../domain/admin/admins.js';
import { ADMIN_ROLE_NAMES } from '../../domain/admin/roles.js';
import { validate } from '../../http/validate.js';
import { uuid } from '../miniapp/schemas.js';
import type { SchoolAdminRouter } from './school-admin-router.js';
import { adminView } from './views.js';

const role = Joi.string().valid(...ADMIN_ROLE_NAMES);
const adminParams = Joi.object({ schoolId: Joi.string(), userId: uuid.required() });
const roleBody = Joi.object<ChangeAdminRoleRequest>({ role: role.required() });
const invitationBody = Joi.object<CreateInvitationRequest>({
  role: role.required(),
  displayName: Joi.string().trim().min(1).max(20),
});

/** The admins page (owners): list, change a role, remove, invite (issue 10). */
export function adminsRoutes(school: SchoolAdminRouter, deps: Deps): void {
  school.get('/admins', 'OWNER', async (ctx) => {
    const { schoolId, userId } = ctx.state.admin;
    const admins = await adminsOfSchool(deps, schoolId);
    ctx.body = { items: admins.map((a) => adminView(a, userId)) } satisfies SchoolAdminsResponse;
  });

  school.put('/admins/:userId', 'OWNER', async (ctx) => {
    const { userId } = validate(adminParams, ctx.params, 'params');
    const body = validate(roleBody, ctx.request.body, 'body');
    const { schoolId, actor } = ctx.state.admin;
    await changeAdminRole(deps, actor, { schoolId, userId, role: body.role });
    const admins = await adminsOfSchool(deps, schoolId);
    ctx.body = adminView(
      admins.find((a) => a.userId === userId)!,
      ctx.state.admin.userId,
    );
  });

  school.delete('/admins/:userId', 'OWNER', async (ctx) => {
    const { userId } = validate(adminParams, ctx.params, 'params');
    const { schoolId, actor } = ctx.state.admin;
    await removeAdmin(deps, actor, { schoolId, userId });
    ctx.status = 204;
  });

  school.post('/invitations', 'OWNER', async (ctx) => {
    const body = validate(invitationBody, ctx.request.body, 'body');
    const { schoolId, actor } = ctx.state.admin;
    const issued = await createInvitation(deps, actor, { schoolId, ...body });
    ctx.status = 201;
    ctx.body = {
      code: issued.code,
      role: issued.role,
      expiresAt: issued.expiresAt.toISOString(),
    } satisfies InvitationView;
  });
}
