import { and, eq, inArray, min, sql } from 'drizzle-orm';
import type pg from 'pg';
import type { Executor } from '../../client.js';
import { messageSubscriptions, userMessages } from '../../schema.js';
import { wakeDrainers } from '../../wakeups.js';

export type UserMessageRow = typeof userMessages.$inferSelect;
export type MessageSubscriptionRow = typeof messageSubscriptions.$inferSelect;

export interface NewUserMessage {
  userId: string;
  schoolId: string;
  kind: string;
  /** One message per event: a second one with the same key is dropped (never twice). */
  dedupKey: string;
  page: string;
  /** keyword1 … keywordN, in the template's order. */
  values: string[];
}

/** Puts a message in the outbox unless its event already has one; returns whether it was new. */
export async function insertMessage(db: Executor, message: NewUserMessage, now: Date): Promise<boolean> {
  const rows = await db
    .insert(userMessages)
    .values({ ...message, status: 'PENDING', nextAttemptAt: now, createdAt: now, updatedAt: now })
    .onConflictDoNothing({ target: userMessages.dedupKey })
    .returning({ id: userMessages.id });
  return rows.length === 1;
}

/** Writers announce new messages on this channel after their commit (db/wakeups.ts). */
export const MESSAGES_DUE_CHANNEL = 'messages_due';

export function signalMessagesDue(pool: pg.Pool): void {
  wakeDrainers(pool, MESSAGES_DUE_CHANNEL);
}

/** Leases due messages to one sender (FOR UPDATE SKIP LOCKED, like the other drainers). */
export async function claimDueMessages(
  db: Executor,
  opts: { now: Date; leaseUntil: Date; limit: number },
): Promise<UserMessageRow[]> {
  const { rows } = await db.execute<{ id: string }>(sql`
    update user_messages m set lease_until = ${opts.leaseUntil}
    from (
      select id from user_messages
      where status = 'PENDING' and next_attempt_at <= ${opts.now}
        and (lease_until is null or lease_until < ${opts.now})
      order by next_attempt_at
      limit ${opts.limit}
      for update skip locked
    ) due
    where m.id = due.id
    returning m.id`);
  if (rows.length === 0) return [];
  return db
    .select()
    .from(userMessages)
    .where(
      inArray(
        userMessages.id,
        rows.map((r) => String(r.id)),
      ),
    );
}

export async function nextMessageDueAt(db: Executor): Promise<Date | null> {
  const [row] = await db
    .select({ at: min(userMessages.nextAttemptAt) })
    .from(userMessages)
    .where(eq(userMessages.status, 'PENDING'));
  return row?.at ? new Date(row.at) : null;
}

/** Ends the sender's hold with the outcome, only while the lease is still its own. */
export async function finishMessage(
  db: Executor,
  message: Pick<UserMessageRow, 'id' | 'leaseUntil'>,
  outcome: {
    status: 'PENDING' | 'SENT' | 'SKIPPED' | 'FAILED' | 'UNCONFIRMED';
    templateId?: string | null;
    skipReason?: string | null;
    lastError?: string | null;
    nextAttemptAt?: Date | null;
    countsAsAttempt: boolean;
  },
  now: Date,
): Promise<boolean> {
  const rows = await db
    .update(userMessages)
    .set({
      status: outcome.status,
      templateId: sql`coalesce(${outcome.templateId ?? null}, ${userMessages.templateId})`,
      skipReason: outcome.skipReason ?? null,
      lastError: outcome.lastError ?? null,
      nextAttemptAt: outcome.nextAttemptAt ?? null,
      attempts: sql`${userMessages.attempts} + ${outcome.countsAsAttempt ? 1 : 0}`,
      sentAt: outcome.status === 'SENT' ? now : null,
      leaseUntil: null,
      updatedAt: now,
    })
    .where(and(eq(userMessages.id, message.id), eq(userMessages.leaseUntil, message.leaseUntil!)))
    .returning({ id: userMessages.id });
  return rows.length === 1;
}

/**
 * Takes one send of the user's subscription to the template for this message, once: a message that already
 * took one (a retry) does not take another. False when the user has none (never subscribed, or used up).
 */
export async function takeSubscription(
  db: Executor,
  message: Pick<UserMessageRow, 'id' | 'userId' | 'quotaTaken'>,
  templateId: string,
  now: Date,
): Promise<boolean> {
  if (message.quotaTaken) return true;
  return db.transaction(async (tx) => {
    const taken = await tx
      .update(messageSubscriptions)
      .set({
        remaining: sql`case when ${messageSubscriptions.isLongTerm} then ${messageSubscriptions.remaining} else ${messageSubscriptions.remaining} - 1 end`,
        updatedAt: now,
      })
      .where(
        and(
          eq(messageSubscriptions.userId, message.userId),
          eq(messageSubscriptions.templateId, templateId),
          sql`(${messageSubscriptions.isLongTerm} or ${messageSubscriptions.remaining} > 0)`,
        ),
      )
      .returning({ userId: messageSubscriptions.userId });
    if (taken.length === 0) return false;
    await tx
      .update(userMessages)
      .set({ quotaTaken: true, updatedAt: now })
      .where(eq(userMessages.id, message.id));
    return true;
  });
}

/** The user accepted templates in my.requestSubscribeMessage: one more send each (long-term: accepted). */
export async function addSubscriptions(
  db: Executor,
  userId: string,
  templates: Array<{ templateId: string; isLongTerm: boolean }>,
  now: Date,
): Promise<void> {
  if (templates.length === 0) return;
  await db
    .insert(messageSubscriptions)
    .values(
      templates.map((t) => ({
        userId,
        templateId: t.templateId,
        isLongTerm: t.isLongTerm,
        remaining: 1,
        updatedAt: now,
      })),
    )
    .onConflictDoUpdate({
      target: [messageSubscriptions.userId, messageSubscriptions.templateId],
      set: {
        remaining: sql`${messageSubscriptions.remaining} + 1`,
        isLongTerm: sql`excluded.is_long_term`,
        updatedAt: now,
      },
    });
}

export async function listSubscriptions(db: Executor, userId: string): Promise<MessageSubscriptionRow[]> {
  return db.select().from(messageSubscriptions).where(eq(messageSubscriptions.userId, userId));
}

/** The user's messages (newest first), for the mini-program and tests. */
export async function listMessagesOfUser(
  db: Executor,
  userId: string,
  limit = 50,
): Promise<UserMessageRow[]> {
  return db
    .select()
    .from(userMessages)
    .where(eq(userMessages.userId, userId))
    .orderBy(sql`${userMessages.createdAt} desc`)
    .limit(limit);
}

/** On shutdown: messages claimed but not started go back, each only if the lease is still ours. */
export async function releaseMessageLeases(db: Executor, rows: UserMessageRow[]): Promise<void> {
  for (const row of rows) {
    if (!row.leaseUntil) continue;
    await db
      .update(userMessages)
      .set({ leaseUntil: null })
      .where(and(eq(userMessages.id, row.id), eq(userMessages.leaseUntil, row.leaseUntil)));
  }
}
