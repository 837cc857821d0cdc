import type { MessageSubscriptionsView } from '../../../../shared/api.js';
import { addSubscriptions, listSubscriptions } from '../../db/repos/messages/messages.js';
import type { Deps } from '../../deps.js';
import { DomainError } from '../errors.js';
import { MESSAGE_KINDS, MESSAGE_KIND_NAMES } from './catalog.js';

/**
 * What the mini-program needs to ask for subscriptions (my.requestSubscribeMessage takes template ids, at most
 * three at a time) and what the user has allowed so far. The client reports the answer; the sender spends one
 * send per one-time subscription, as Alipay does.
 */
export async function messageSubscriptions(
  deps: Pick<Deps, 'db' | 'config'>,
  userId: string,
): Promise<MessageSubscriptionsView> {
  const rows = await listSubscriptions(deps.db, userId);
  return {
    kinds: MESSAGE_KIND_NAMES.flatMap((kind) => {
      const template = deps.config.messages.templates[kind];
      if (!template) return [];
      const row = rows.find((r) => r.templateId === template.id);
      return [
        {
          kind,
          title: MESSAGE_KINDS[kind].title,
          templateId: template.id,
          isLongTerm: template.longTerm,
          remaining: row ? (row.isLongTerm ? null : row.remaining) : 0,
        },
      ];
    }),
  };
}

/** The user accepted these templates in my.requestSubscribeMessage. */
export async function recordSubscriptions(
  deps: Pick<Deps, 'db' | 'config' | 'clock'>,
  userId: string,
  acceptedTemplateIds: string[],
): Promise<MessageSubscriptionsView> {
  const known = Object.values(deps.config.messages.templates).filter((t) => t !== undefined);
  const accepted = [];
  for (const [index, templateId] of acceptedTemplateIds.entries()) {
    const template = known.find((t) => t.id === templateId);
    if (!template)
      throw new DomainError('VALIDATION_FAILED', `body.accepted.${index}: not one of our templates`, {
        field: `body.accepted.${index}`,
      });
    accepted.push({ templateId, isLongTerm: template.longTerm });
  }
  await addSubscriptions(deps.db, userId, accepted, deps.clock.now());
  return messageSubscriptions(deps, userId);
}
