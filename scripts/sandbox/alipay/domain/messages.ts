import type { SandboxContext } from '../context.js';
import type { MessageSubscription, User } from '../state/types.js';

/**
 * Subscription messages (ALIPAY-M2.md §3): what my.requestSubscribeMessage records when a user answers the
 * consent sheet, and the quota alipay.open.app.mini.templatemessage.send spends. One-time templates
 * accumulate one send per subscription; long-term ones stay accepted.
 */

function key(userId: string, templateId: string): string {
  return `${userId}\n${templateId}`;
}

export function subscriptionOf(ctx: SandboxContext, userId: string, templateId: string): MessageSubscription {
  const k = key(userId, templateId);
  let subscription = ctx.state.messageSubscriptions.get(k);
  if (!subscription) {
    subscription = { userId, templateId, remaining: 0, accepted: false };
    ctx.state.messageSubscriptions.set(k, subscription);
  }
  return subscription;
}

/**
 * The user's answer to my.requestSubscribeMessage({ entityIds }), shaped like the JSAPI's success result:
 * `behavior: 'subscribe'`, the ids accepted and refused, and `[templateId]: 'accept' | 'reject'`.
 */
export function subscribe(
  ctx: SandboxContext,
  user: User,
  templateIds: string[],
  answer: 'accept' | 'reject',
): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const templateId of templateIds) {
    result[templateId] = answer;
    if (answer !== 'accept') continue;
    const subscription = subscriptionOf(ctx, user.userId, templateId);
    if (ctx.state.messageTemplates.get(templateId)?.longTerm) subscription.accepted = true;
    else subscription.remaining += 1;
  }
  const accepted = answer === 'accept' ? templateIds : [];
  return {
    behavior: 'subscribe',
    show: true,
    keep: false,
    refuse: answer === 'reject',
    result: {
      subscribeEntityIds: accepted,
      subscribedEntityIds: accepted,
      unsubscribedEntityIds: answer === 'accept' ? [] : templateIds,
      currentSubscribedEntityIds: accepted,
    },
    ...result,
  };
}

/** Spends one send of the user's subscription to the template; false when there is none left. */
export function spendSubscription(
  ctx: SandboxContext,
  userId: string,
  templateId: string,
  longTerm: boolean,
) {
  const subscription = ctx.state.messageSubscriptions.get(key(userId, templateId));
  if (!subscription) return false;
  if (longTerm) return subscription.accepted;
  if (subscription.remaining <= 0) return false;
  subscription.remaining -= 1;
  return true;
}
