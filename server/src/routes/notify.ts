import Router from '@koa/router';
import type { Deps } from '../deps.js';
import { notificationHandlers } from '../domain/notify/handlers.js';
import { handleAlipayNotification } from '../domain/notify/notifications.js';

/**
 * `POST /notify/alipay` (DESIGN §6.3): form-encoded, answered with the plain text `success` or `fail`.
 * The body parser has already decoded the form, hence checkNotifySignV2 downstream.
 */
export function notifyRoutes(deps: Deps): Router {
  const router = new Router();
  router.post('/notify/alipay', async (ctx) => {
    const body = ctx.request.body as Record<string, unknown> | undefined;
    const form: Record<string, string> = {};
    for (const [key, value] of Object.entries(body ?? {})) if (typeof value === 'string') form[key] = value;
    ctx.type = 'text/plain';
    ctx.body = await handleAlipayNotification(deps, form, notificationHandlers);
  });
  return router;
}
