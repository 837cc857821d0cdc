import Joi from 'joi';
import type { InboxActionRequest } from '../../../../shared/admin-api.js';
import type { Deps } from '../../deps.js';
import { runInboxAction, schoolInbox } from '../../domain/inbox/inbox.js';
import { maskingFor } from '../../domain/orders/masking.js';
import { validate } from '../../http/validate.js';
import { uuid } from '../miniapp/schemas.js';
import type { SchoolAdminRouter } from './school-admin-router.js';

const kind = Joi.string().pattern(/^[a-z][a-z0-9.-]{1,60}$/, 'inbox kind');
const inboxQuery = Joi.object({
  kind,
  cursor: Joi.string().max(200),
  limit: Joi.number().integer().min(1).max(50).default(20),
});
const actionParams = Joi.object({
  schoolId: Joi.string(),
  kind: kind.required(),
  id: uuid.required(),
  action: Joi.string()
    .pattern(/^[a-z][a-z-]{1,40}$/, 'action')
    .required(),
});
const actionBody = Joi.object<InboxActionRequest>({ reason: Joi.string().trim().min(2).max(200) });

/**
 * The exceptions inbox: what needs a person, and the actions on it (issue 13). Every action is one of an
 * inbox kind's (domain/inbox/kinds/), checked against that action's own role, idempotent and audited.
 */
export function inboxRoutes(school: SchoolAdminRouter, deps: Deps): void {
  school.get('/inbox', 'VIEWER', async (ctx) => {
    const query = validate(inboxQuery, ctx.query, 'query');
    const { schoolId, role } = ctx.state.admin;
    ctx.body = await schoolInbox(deps, schoolId, query, maskingFor(role).card);
  });

  school.post('/inbox/:kind/:id/:action', 'STAFF', async (ctx) => {
    const params = validate(actionParams, ctx.params, 'params');
    const { reason } = validate(actionBody, ctx.request.body, 'body');
    ctx.body = await runInboxAction(deps, ctx.state.admin, { ...params, reason });
  });
}
