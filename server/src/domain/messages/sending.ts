import { finishMessage, takeSubscription, type UserMessageRow } from '../../db/repos/messages/messages.js';
import { findSchool } from '../../db/repos/schools/schools.js';
import { findUser } from '../../db/repos/users/users.js';
import type { Deps } from '../../deps.js';
import { AlipayError } from '../../integrations/alipay/errors.js';
import { templateData } from './catalog.js';
import { templateOf } from './outbox.js';

/**
 * Delivers one message of the outbox (outbox.ts) with alipay.open.app.mini.templatemessage.send, for the
 * school (its app_auth_token), to the user's open_id (or user_id):
 *
 *   no template configured for the kind            → SKIPPED (NO_TEMPLATE)
 *   the user has no subscription to the template   → SKIPPED (NOT_SUBSCRIBED): never sent unasked
 *   Alipay accepted                                 → SENT
 *   refused for a passing reason (rate limit, a connection refused before sending, the school's token)
 *                                                   → retried on MESSAGE_RETRY_MS, then FAILED
 *   refused for good (template, user)               → FAILED
 *   no answer (timeout, 20000)                      → UNCONFIRMED: it may have arrived, and Alipay has no
 *                                                     idempotency key for messages, so it is not sent again
 *
 * A subscription send is taken once per message (a retry does not take another).
 */
export async function sendMessage(deps: Deps, message: UserMessageRow): Promise<void> {
  const now = deps.clock.now();
  const finish = (outcome: Parameters<typeof finishMessage>[2]) =>
    finishMessage(deps.db, message, outcome, deps.clock.now());
  const template = templateOf(deps, message.kind);
  if (!template)
    return void (await finish({ status: 'SKIPPED', skipReason: 'NO_TEMPLATE', countsAsAttempt: false }));
  const [user, school] = await Promise.all([
    findUser(deps.db, message.userId),
    findSchool(deps.db, message.schoolId),
  ]);
  if (!user || !school || !deps.alipay)
    return void (await finish({ status: 'SKIPPED', skipReason: 'NO_RECIPIENT', countsAsAttempt: false }));
  if (!(await takeSubscription(deps.db, message, template.id, now))) {
    await finish({
      status: 'SKIPPED',
      templateId: template.id,
      skipReason: 'NOT_SUBSCRIBED',
      countsAsAttempt: false,
    });
    return;
  }
  try {
    await deps.alipay.sendTemplateMessage({
      to: { openId: user.alipayOpenId, userId: user.alipayUserId },
      templateId: template.id,
      page: message.page,
      data: templateData(message.values as string[]),
      appAuthToken: deps.schools.appAuthToken(school),
    });
  } catch (error) {
    if (!(error instanceof AlipayError)) throw error;
    const delay = error.kind === 'retryable' ? deps.config.messages.retryMs[message.attempts] : undefined;
    if (error.kind === 'unknown') {
      await finish({
        status: 'UNCONFIRMED',
        templateId: template.id,
        lastError: error.reason,
        countsAsAttempt: true,
      });
    } else if (delay !== undefined) {
      await finish({
        status: 'PENDING',
        templateId: template.id,
        lastError: error.reason,
        nextAttemptAt: new Date(deps.clock.now().getTime() + delay),
        countsAsAttempt: true,
      });
    } else {
      await finish({
        status: 'FAILED',
        templateId: template.id,
        lastError: error.reason,
        countsAsAttempt: true,
      });
    }
    deps.logger.warn('subscription message not delivered', { kind: message.kind, reason: error.reason });
    return;
  }
  await finish({ status: 'SENT', templateId: template.id, countsAsAttempt: true });
}
