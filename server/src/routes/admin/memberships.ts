import type Router from '@koa/router';
import Joi from 'joi';
import type { AdminSchoolsResponse, RedeemInvitationRequest } from '../../../../shared/admin-api.js';
import type { Deps } from '../../deps.js';
import { redeemInvitation, schoolsAdministeredBy } from '../../domain/admin/admins.js';
import { rateLimit } from '../../http/rate-limit.js';
import { validate } from '../../http/validate.js';
import { membershipView } from './views.js';

const redeemBody = Joi.object<RedeemInvitationRequest>({
  code: Joi.string().trim().min(8).max(40).required(),
});

/** What any signed-in user may do here: list the schools they administer, redeem an invitation. */
export function membershipRoutes(router: Router, deps: Deps): void {
  router.get('/schools', async (ctx) => {
    const memberships = await schoolsAdministeredBy(deps, ctx.state.userId);
    ctx.body = { items: memberships.map(membershipView) } satisfies AdminSchoolsResponse;
  });

  router.post('/invitations/redeem', rateLimit(deps, 'invitation-user'), async (ctx) => {
    const { code } = validate(redeemBody, ctx.request.body, 'body');
    const membership = await redeemInvitation(deps, ctx.state.userId, code, ctx.state.requestId);
    ctx.status = 201;
    ctx.body = membershipView(membership);
  });
}
