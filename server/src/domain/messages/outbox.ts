import { insertMessage, signalMessagesDue, type NewUserMessage } from '../../db/repos/messages/messages.js';
import type { Executor } from '../../db/client.js';
import type { MessageTemplate } from '../../config.js';
import type { Deps } from '../../deps.js';
import { isMessageKind, MESSAGE_KINDS, type MessageKind } from './catalog.js';

/**
 * "Send a message to a user" for any part of the platform: put it in the outbox (user_messages), in the
 * caller's transaction when there is one, then wake the sender after the commit. The job
 * `messages.send` (sending.ts) delivers it through Alipay for the school: only to users who subscribed to its
 * template, never twice (one message per `dedupKey`, and an answer that may have been delivered is not sent
 * again), retried while Alipay refuses for a passing reason.
 *
 *   await queueMessage(tx, deps, { kind: 'ARREARS', userId, schoolId, dedupKey: `arrears:${id}`, values });
 *   …commit…
 *   wakeMessageSender(deps);
 */
export interface QueuedMessage {
  kind: MessageKind;
  userId: string;
  schoolId: string;
  /** The event, so that a repeated event (a retried job, a duplicate notification) sends nothing more. */
  dedupKey: string;
  /** The keywords' values, in the catalog's order. */
  values: string[];
  /** Default: the kind's page. */
  page?: string;
}

export async function queueMessage(
  db: Executor,
  deps: Pick<Deps, 'clock'>,
  message: QueuedMessage,
): Promise<boolean> {
  return insertMessage(db, outboxRow(message), deps.clock.now());
}

/** The outbox row of a message (checked against its kind), for writers that insert it in their own statement. */
export function outboxRow(message: QueuedMessage): NewUserMessage {
  const kind = MESSAGE_KINDS[message.kind];
  if (message.values.length !== kind.keywords.length)
    throw new Error(`${message.kind} takes ${kind.keywords.length} values, got ${message.values.length}`);
  return {
    userId: message.userId,
    schoolId: message.schoolId,
    kind: message.kind,
    dedupKey: message.dedupKey,
    page: message.page ?? kind.page,
    values: message.values,
  };
}

/**
 * The template a kind is sent with; none configured: the sender skips every message of the kind (NO_TEMPLATE),
 * so a hot path may leave such a message out of the outbox altogether (the recharge credit does).
 */
export function templateOf(deps: Pick<Deps, 'config'>, kind: string): MessageTemplate | undefined {
  return isMessageKind(kind) ? deps.config.messages.templates[kind] : undefined;
}

/** After the commit that queued messages: the sender starts within milliseconds. */
export function wakeMessageSender(deps: Pick<Deps, 'pool'>): void {
  signalMessagesDue(deps.pool);
}

/** Queues and wakes at once, for callers without a transaction of their own. */
export async function sendToUser(
  deps: Pick<Deps, 'db' | 'pool' | 'clock'>,
  message: QueuedMessage,
): Promise<void> {
  if (await queueMessage(deps.db, deps, message)) wakeMessageSender(deps);
}
