import type { Middleware } from 'koa';
import { findMembership, type AdminRole } from '../db/repos/admin/admins.js';
import type { Deps } from '../deps.js';
import { hasRole } from '../domain/admin/roles.js';
import type { Actor } from '../domain/audit/audit.js';
import { DomainError } from '../domain/errors.js';

/**
 * Admin RBAC (DESIGN §6.1, §7.0): a route about one school (`/api/v1/admin/schools/:schoolId/…`) runs only
 * for that school's admins whose role is at least `minimum` (OWNER > STAFF > VIEWER). Whoever else asks —
 * an admin of another school, a plain user, any made-up id — gets the same 403, which does not even say
 * whether the school exists. The membership is read on every call, so a removed admin loses access at once.
 *
 * Routes do not use this directly: routes/admin/school-admin-router.ts puts it in front of every handler.
 */

export interface AdminState {
  schoolId: string;
  userId: string;
  role: AdminRole;
  /** Who to write in audit_log for what this request changes (domain/audit/audit.ts). */
  actor: Actor;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function requireSchoolAdmin(deps: Pick<Deps, 'db'>, minimum: AdminRole): Middleware {
  return async (ctx, next) => {
    const schoolId = ctx.params?.schoolId as string | undefined;
    const userId = ctx.state.userId as string | undefined;
    if (!userId) throw new DomainError('UNAUTHENTICATED');
    const membership =
      schoolId && UUID.test(schoolId) ? await findMembership(deps.db, schoolId, userId) : undefined;
    if (!membership) throw new DomainError('FORBIDDEN', 'You are not an admin of this school');
    if (!hasRole(membership.role, minimum))
      throw new DomainError('FORBIDDEN', `This needs the ${minimum} role; you are ${membership.role}`);
    ctx.state.admin = {
      schoolId: membership.schoolId,
      userId,
      role: membership.role,
      actor: { kind: 'ADMIN', userId, requestId: ctx.state.requestId },
    } satisfies AdminState;
    await next();
  };
}
