import { and, desc, eq, inArray, isNotNull, ne, sql } from 'drizzle-orm';
import type { Executor } from '../../client.js';
import { membershipCards, membershipPrograms, type MEMBER_LEVELS } from '../../schema.js';

export type MembershipCardRow = typeof membershipCards.$inferSelect;
export type MemberLevel = (typeof MEMBER_LEVELS)[number];

const live = ne(membershipCards.status, 'REMOVED');

/** The wallet card of a campus card, whoever holds it (at most one: unique index). */
export async function findLiveCardByCardNo(
  db: Executor,
  schoolId: string,
  cardNo: string,
): Promise<MembershipCardRow | undefined> {
  const [row] = await db
    .select()
    .from(membershipCards)
    .where(and(eq(membershipCards.schoolId, schoolId), eq(membershipCards.cardNo, cardNo), live));
  return row;
}

/** The wallet card an Alipay user holds at a school (at most one: unique index). */
export async function findLiveCardOfUser(
  db: Executor,
  schoolId: string,
  alipayUserId: string,
): Promise<MembershipCardRow | undefined> {
  const [row] = await db
    .select()
    .from(membershipCards)
    .where(and(eq(membershipCards.schoolId, schoolId), eq(membershipCards.alipayUserId, alipayUserId), live));
  return row;
}

/** The last card this user removed from the wallet, so that claiming it again keeps its points. */
export async function findRemovedCard(
  db: Executor,
  schoolId: string,
  cardNo: string,
  alipayUserId: string,
): Promise<MembershipCardRow | undefined> {
  const [row] = await db
    .select()
    .from(membershipCards)
    .where(
      and(
        eq(membershipCards.schoolId, schoolId),
        eq(membershipCards.cardNo, cardNo),
        eq(membershipCards.alipayUserId, alipayUserId),
        eq(membershipCards.status, 'REMOVED'),
      ),
    )
    .orderBy(desc(membershipCards.removedAt))
    .limit(1);
  return row;
}

/** A card card management asked for; undefined when the campus card or the user already has a live one. */
export async function insertOpenedCard(
  db: Executor,
  card: {
    schoolId: string;
    cardNo: string;
    alipayUserId: string;
    level: MemberLevel;
    templateId: string;
    points: number;
    now: Date;
  },
): Promise<MembershipCardRow | undefined> {
  const [row] = await db
    .insert(membershipCards)
    .values({
      schoolId: card.schoolId,
      cardNo: card.cardNo,
      alipayUserId: card.alipayUserId,
      level: card.level,
      templateId: card.templateId,
      wantedTemplateId: card.templateId,
      points: card.points,
      // Card management creates the card with the points we answer: nothing to tell it afterwards.
      syncedPoints: card.points,
      createdAt: card.now,
      updatedAt: card.now,
    })
    .onConflictDoNothing()
    .returning();
  return row;
}

/**
 * cardChange ADD: the card is in the wallet, showing `templateId`. Returns undefined when this user has no
 * such card with us (we never answered openCardInfo for it). An update is due if the card should look
 * different from what card management created (e.g. it was reported lost in between).
 */
export async function markInWallet(
  db: Executor,
  input: {
    schoolId: string;
    cardNo: string;
    alipayUserId: string;
    alipayCardNo: string;
    templateId: string;
    now: Date;
  },
): Promise<MembershipCardRow | undefined> {
  const [row] = await db
    .update(membershipCards)
    .set({
      status: 'IN_WALLET',
      alipayCardNo: input.alipayCardNo,
      templateId: input.templateId,
      addedAt: sql`coalesce(${membershipCards.addedAt}, ${input.now}::timestamptz)`,
      nextSyncAt: sql`case when ${membershipCards.wantedTemplateId} <> ${input.templateId}
        or ${membershipCards.points} <> ${membershipCards.syncedPoints} then ${input.now}::timestamptz end`,
      updatedAt: input.now,
    })
    .where(
      and(
        eq(membershipCards.schoolId, input.schoolId),
        eq(membershipCards.cardNo, input.cardNo),
        eq(membershipCards.alipayUserId, input.alipayUserId),
        live,
      ),
    )
    .returning();
  return row;
}

/** cardChange DEL: the card left the wallet. Returns the cards removed (none when it was not there). */
export async function markRemoved(
  db: Executor,
  input: { schoolId: string; cardNo: string; alipayUserId: string; now: Date },
): Promise<MembershipCardRow[]> {
  return db
    .update(membershipCards)
    .set({ status: 'REMOVED', removedAt: input.now, nextSyncAt: null, updatedAt: input.now })
    .where(
      and(
        eq(membershipCards.schoolId, input.schoolId),
        eq(membershipCards.cardNo, input.cardNo),
        eq(membershipCards.alipayUserId, input.alipayUserId),
        live,
      ),
    )
    .returning();
}

/**
 * The card should show another template (lost, found again, student ↔ staff). Chosen from the school's
 * program in the same statement; a card in the wallet becomes due for an update (also one that had failed
 * for good: a new change is a new try). Returns the ids of the cards that changed.
 */
export async function setWantedTemplate(
  db: Executor,
  input: {
    schoolId: string;
    cardNo: string;
    isLost: boolean;
    /** The card's identity when known anew (from the card system); else its stored level stays. */
    level?: MemberLevel;
    reason: string;
    now: Date;
  },
): Promise<string[]> {
  const level = input.level ? sql`${input.level}` : sql`${membershipCards.level}`;
  const wanted = input.isLost
    ? sql`${membershipPrograms.lostTemplateId}`
    : sql`case when ${level} = 'STAFF' then ${membershipPrograms.staffTemplateId} else ${membershipPrograms.studentTemplateId} end`;
  const { rows } = await db.execute<{ id: string }>(sql`
    update ${membershipCards} set
      level = ${level},
      wanted_template_id = ${wanted},
      template_change_reason = ${input.reason},
      next_sync_at = case when ${membershipCards.status} = 'IN_WALLET' then ${input.now}::timestamptz end,
      sync_failed_at = null,
      sync_attempts = 0,
      updated_at = ${input.now}
    from ${membershipPrograms}
    where ${membershipPrograms.schoolId} = ${membershipCards.schoolId}
      and ${membershipCards.schoolId} = ${input.schoolId} and ${membershipCards.cardNo} = ${input.cardNo}
      and ${membershipCards.status} <> 'REMOVED'
      and (${membershipCards.wantedTemplateId} is distinct from ${wanted}
           or ${membershipCards.level} is distinct from ${level})
    returning ${membershipCards.id}`);
  return rows.map((r) => String(r.id));
}

/** Points earned (e.g. by a recharge): added, and a card in the wallet becomes due for an update. */
export async function addPoints(
  db: Executor,
  input: { schoolId: string; cardNo: string; points: number; reason: string; now: Date },
): Promise<string[]> {
  const rows = await db
    .update(membershipCards)
    .set({
      points: sql`${membershipCards.points} + ${input.points}`,
      pointsChangeReason: input.reason,
      nextSyncAt: sql`case when ${membershipCards.status} = 'IN_WALLET' then ${input.now}::timestamptz end`,
      syncFailedAt: null,
      syncAttempts: 0,
      updatedAt: input.now,
    })
    .where(and(eq(membershipCards.schoolId, input.schoolId), eq(membershipCards.cardNo, input.cardNo), live))
    .returning({ id: membershipCards.id });
  return rows.map((r) => r.id);
}

/**
 * Leases cards whose update is due to this worker (one card, or the `limit` most overdue). SKIP LOCKED and
 * the lease let several workers sync side by side without two updates of one card in flight.
 */
export async function claimCardsForSync(
  db: Executor,
  input: { cardId?: string; now: Date; leaseUntil: Date; limit: number },
): Promise<MembershipCardRow[]> {
  const { rows } = await db.execute<{ id: string }>(sql`
    update ${membershipCards} m set sync_lease_until = ${input.leaseUntil}
    from (
      select id from ${membershipCards}
      where status = 'IN_WALLET' and sync_failed_at is null and next_sync_at <= ${input.now}
        and (sync_lease_until is null or sync_lease_until < ${input.now})
        ${input.cardId ? sql`and id = ${input.cardId}` : sql``}
      order by next_sync_at
      limit ${input.limit}
      for update skip locked
    ) due
    where m.id = due.id
    returning m.id`);
  if (rows.length === 0) return [];
  return db
    .select()
    .from(membershipCards)
    .where(
      inArray(
        membershipCards.id,
        rows.map((r) => String(r.id)),
      ),
    );
}

/**
 * Records what card management now shows, while this worker still holds the lease. The card stays due when
 * it changed again meanwhile (the comparison reads the row under its lock).
 */
export async function finishSync(
  db: Executor,
  card: MembershipCardRow,
  shown: { templateId: string; points: number },
  now: Date,
): Promise<void> {
  await db.execute(sql`
    update ${membershipCards} set
      template_id = ${shown.templateId},
      synced_points = ${shown.points},
      next_sync_at = case when wanted_template_id <> ${shown.templateId} or points <> ${shown.points}
                          then ${now}::timestamptz end,
      sync_lease_until = null,
      sync_attempts = 0,
      last_sync_error = null,
      updated_at = ${now}
    where id = ${card.id} and sync_lease_until = ${card.syncLeaseUntil}`);
}

/**
 * A failed update: tried again at `nextSyncAt`, or never (final: card management refused it, or the
 * retries ran out) until the card changes again. `shown` keeps what did get through (e.g. the template
 * changed but the points update failed).
 */
export async function recordSyncFailure(
  db: Executor,
  card: MembershipCardRow,
  failure: {
    shown: { templateId: string; points: number };
    error: string;
    nextSyncAt: Date | null;
    now: Date;
  },
): Promise<void> {
  await db
    .update(membershipCards)
    .set({
      templateId: failure.shown.templateId,
      syncedPoints: failure.shown.points,
      syncAttempts: sql`${membershipCards.syncAttempts} + 1`,
      lastSyncError: failure.error.slice(0, 500),
      nextSyncAt: failure.nextSyncAt,
      syncFailedAt: failure.nextSyncAt ? null : failure.now,
      syncLeaseUntil: null,
      updatedAt: failure.now,
    })
    .where(and(eq(membershipCards.id, card.id), eq(membershipCards.syncLeaseUntil, card.syncLeaseUntil!)));
}

/**
 * The school's template ids changed (the operator reconfigured its program, already saved): every live card
 * wants the same kind of template under the new ids (a lost card the new LOST one), and a card in the wallet
 * becomes due. Returns the ids of the cards that changed.
 */
export async function retemplateCards(
  db: Executor,
  input: { schoolId: string; previousLostTemplateId: string; now: Date },
): Promise<string[]> {
  const wanted = sql`case when m.wanted_template_id = ${input.previousLostTemplateId} then p.lost_template_id
                          when m.level = 'STAFF' then p.staff_template_id else p.student_template_id end`;
  const { rows } = await db.execute<{ id: string }>(sql`
    update ${membershipCards} m set
      wanted_template_id = ${wanted},
      template_change_reason = '会员卡模板变更',
      next_sync_at = case when m.status = 'IN_WALLET' then ${input.now}::timestamptz end,
      sync_failed_at = null,
      sync_attempts = 0,
      updated_at = ${input.now}
    from ${membershipPrograms} p
    where p.school_id = m.school_id and m.school_id = ${input.schoolId} and m.status <> 'REMOVED'
      and m.wanted_template_id is distinct from ${wanted}
    returning m.id`);
  return rows.map((r) => String(r.id));
}

export interface WalletCardSummary {
  /** Live and removed cards by status (OPENED: asked for but not in a wallet yet). */
  byStatus: Record<string, number>;
  /** Cards in the wallet whose update waits to be sent (or retried). */
  due: number;
  /** Cards whose update card management refused, or whose retries ran out: nothing is sent until retried. */
  failed: number;
}

/** How a school's wallet cards stand (the operator's view). */
export async function walletCardSummary(db: Executor, schoolId: string): Promise<WalletCardSummary> {
  const { rows } = await db.execute<{ status: string; cards: number; due: number; failed: number }>(sql`
    select status, count(*)::int as cards,
           count(*) filter (where status = 'IN_WALLET' and sync_failed_at is null
                              and next_sync_at is not null)::int as due,
           count(*) filter (where status = 'IN_WALLET' and sync_failed_at is not null)::int as failed
    from ${membershipCards} where school_id = ${schoolId}
    group by status`);
  return {
    byStatus: Object.fromEntries(rows.map((r) => [r.status, Number(r.cards)])),
    due: rows.reduce((sum, r) => sum + Number(r.due), 0),
    failed: rows.reduce((sum, r) => sum + Number(r.failed), 0),
  };
}

/** Cards in the wallet whose update failed for good, most recent first. */
export function failedSyncCards(db: Executor, schoolId: string, limit: number): Promise<MembershipCardRow[]> {
  return db
    .select()
    .from(membershipCards)
    .where(
      and(
        eq(membershipCards.schoolId, schoolId),
        eq(membershipCards.status, 'IN_WALLET'),
        isNotNull(membershipCards.syncFailedAt),
      ),
    )
    .orderBy(desc(membershipCards.syncFailedAt))
    .limit(limit);
}

/**
 * An operator's retry of failed updates (after fixing what card management refused: its public key, a
 * template): the school's failed cards, or the one named, become due again with fresh retries.
 */
export async function retryFailedSyncs(
  db: Executor,
  input: { schoolId: string; cardNo?: string; now: Date },
): Promise<string[]> {
  const rows = await db
    .update(membershipCards)
    .set({ syncFailedAt: null, syncAttempts: 0, nextSyncAt: input.now, updatedAt: input.now })
    .where(
      and(
        eq(membershipCards.schoolId, input.schoolId),
        eq(membershipCards.status, 'IN_WALLET'),
        isNotNull(membershipCards.syncFailedAt),
        input.cardNo === undefined ? undefined : eq(membershipCards.cardNo, input.cardNo),
      ),
    )
    .returning({ id: membershipCards.id });
  return rows.map((r) => r.id);
}
