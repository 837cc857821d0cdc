import Router from '@koa/router';
import { koaBody } from 'koa-body';
import type { Deps } from '../deps.js';
import { notificationHandlers } from '../domain/notify/handlers.js';
import { handleAlipayNotification } from '../domain/notify/notifications.js';
import { rejectUnreadableBody } from '../http/errors.js';

export const NOTIFY_PATH = '/notify/alipay';
/**
 * Alipay's notifications are a few kB of form fields (ALIPAY.md §3.1); anyone can post here, so the body
 * is parsed as a form only, and only this much of it.
 */
const NOTIFY_BODY_LIMIT = 16 * 1024;

/**
 * `POST /notify/alipay` (DESIGN §6.3): form-encoded, answered with the plain text `success` or `fail`.
 * The body parser has already decoded the form, hence checkNotifySignV2 downstream.
 */
export function notifyRoutes(deps: Deps): Router {
  const router = new Router();
  const parseForm = koaBody({
    json: false,
    text: false,
    multipart: false,
    formLimit: NOTIFY_BODY_LIMIT,
    onError: rejectUnreadableBody,
  });
  router.post(NOTIFY_PATH, parseForm, async (ctx) => {
    const body = ctx.request.body as Record<string, unknown> | undefined;
    const form: Record<string, string> = {};
    for (const [key, value] of Object.entries(body ?? {})) if (typeof value === 'string') form[key] = value;
    ctx.type = 'text/plain';
    ctx.body = await handleAlipayNotification(deps, form, notificationHandlers);
  });
  return router;
}
