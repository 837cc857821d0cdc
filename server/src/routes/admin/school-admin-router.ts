import type Router from '@koa/router';
import type { ParameterizedContext } from 'koa';
import type { AdminRole } from '../../db/repos/admin/admins.js';
import type { Deps } from '../../deps.js';
import { requireSchoolAdmin, type AdminState } from '../../http/admin-auth.js';

export type AdminContext = ParameterizedContext<{ admin: AdminState; userId: string; requestId: string }> & {
  params: Record<string, string>;
};
export type AdminHandler = (ctx: AdminContext) => Promise<void> | void;

/**
 * How every route about one school is declared: the path below `/schools/:schoolId`, the least role it
 * needs, the handler. The role is not optional, so no route can forget the check; inside the handler
 * `ctx.state.admin` holds the school, the user, their role and the audit actor. No PATCH: the mini-program's
 * my.request cannot send it, so partial updates are PUTs of the fields that change. See README "Adding an
 * admin route".
 *
 *   export function refundRoutes(school: SchoolAdminRouter, deps: Deps): void {
 *     school.post('/recharges/:id/refund', 'STAFF', async (ctx) => {
 *       const { schoolId, actor } = ctx.state.admin;
 *       ctx.body = await refundRecharge(deps, actor, schoolId, ctx.params.id);
 *     });
 *   }
 */
export class SchoolAdminRouter {
  constructor(
    private readonly router: Router,
    private readonly deps: Pick<Deps, 'db'>,
  ) {}

  get(path: string, role: AdminRole, handler: AdminHandler): this {
    return this.add('get', path, role, handler);
  }

  post(path: string, role: AdminRole, handler: AdminHandler): this {
    return this.add('post', path, role, handler);
  }

  put(path: string, role: AdminRole, handler: AdminHandler): this {
    return this.add('put', path, role, handler);
  }

  delete(path: string, role: AdminRole, handler: AdminHandler): this {
    return this.add('delete', path, role, handler);
  }

  private add(
    method: 'get' | 'post' | 'put' | 'delete',
    path: string,
    role: AdminRole,
    handler: AdminHandler,
  ): this {
    const fullPath = `/schools/:schoolId${path === '/' ? '' : path}`;
    this.router[method](fullPath, requireSchoolAdmin(this.deps, role), (ctx) =>
      handler(ctx as unknown as AdminContext),
    );
    return this;
  }
}
