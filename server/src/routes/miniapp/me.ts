import Router from '@koa/router';
import type { MeResponse } from '../../../../shared/api.js';
import type { Deps } from '../../deps.js';
import { listBindings } from '../../domain/cards/bindings.js';
import { withholdingViews } from '../../domain/withholding/agreements.js';
import { debtSummary } from '../../domain/withholding/debts.js';
import { bindingView } from './views.js';

/** `GET /me`: what the entry page needs to route the user (bindings, withholding, debts). */
export function meRoutes(deps: Deps): Router {
  const router = new Router();
  router.get('/me', async (ctx) => {
    const userId: string = ctx.state.userId;
    const [bindings, debts, withholding] = await Promise.all([
      listBindings(deps, userId),
      debtSummary(deps, userId),
      withholdingViews(deps, userId),
    ]);
    ctx.body = {
      user: { id: userId },
      bindings: bindings.map(bindingView),
      withholding,
      debts,
    } satisfies MeResponse;
  });
  return router;
}
