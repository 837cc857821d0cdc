import { and, asc, desc, eq, getTableColumns, ne, or, sql } from 'drizzle-orm';
import type { Executor } from '../../client.js';
import { bindings, schools, users } from '../../schema.js';

export type BindingRow = typeof bindings.$inferSelect;
export type BindingWithSchool = BindingRow & { schoolName: string };

const withSchool = { ...getTableColumns(bindings), schoolName: schools.name };

/** Inserts a binding; returns undefined when this user already has this card (unique live binding). */
export async function insertBindingIfNew(
  db: Executor,
  binding: typeof bindings.$inferInsert,
): Promise<BindingRow | undefined> {
  const [row] = await db.insert(bindings).values(binding).onConflictDoNothing().returning();
  return row;
}

export async function listLiveBindings(db: Executor, userId: string): Promise<BindingWithSchool[]> {
  return db
    .select(withSchool)
    .from(bindings)
    .innerJoin(schools, eq(schools.id, bindings.schoolId))
    .where(and(eq(bindings.userId, userId), ne(bindings.status, 'UNBOUND')))
    .orderBy(asc(bindings.createdAt));
}

/** Every binding the user ever made, newest first (old debts may name a card unbound since). */
export async function listBindingsOfUser(db: Executor, userId: string): Promise<BindingRow[]> {
  return db.select().from(bindings).where(eq(bindings.userId, userId)).orderBy(desc(bindings.createdAt));
}

/** The user's own binding (any status but UNBOUND); undefined for someone else's or an unbound one. */
export async function findOwnBinding(
  db: Executor,
  userId: string,
  bindingId: string,
): Promise<BindingWithSchool | undefined> {
  const [row] = await db
    .select(withSchool)
    .from(bindings)
    .innerJoin(schools, eq(schools.id, bindings.schoolId))
    .where(and(eq(bindings.id, bindingId), eq(bindings.userId, userId), ne(bindings.status, 'UNBOUND')));
  return row;
}

/** The user's live binding of a card, if any. */
export async function findLiveBindingOfUser(
  db: Executor,
  userId: string,
  schoolId: string,
  cardNo: string,
): Promise<BindingRow | undefined> {
  const [row] = await db
    .select()
    .from(bindings)
    .where(
      and(
        eq(bindings.userId, userId),
        eq(bindings.schoolId, schoolId),
        eq(bindings.cardNo, cardNo),
        ne(bindings.status, 'UNBOUND'),
      ),
    );
  return row;
}

/** Every live binding of a card, oldest first. */
export async function listLiveBindingsOfCard(
  db: Executor,
  schoolId: string,
  cardNo: string,
): Promise<BindingRow[]> {
  return db
    .select()
    .from(bindings)
    .where(and(eq(bindings.schoolId, schoolId), eq(bindings.cardNo, cardNo), ne(bindings.status, 'UNBOUND')))
    .orderBy(asc(bindings.createdAt));
}

/** PENDING → APPROVED; returns whether this call approved it. */
export async function approveBinding(db: Executor, bindingId: string, now: Date): Promise<boolean> {
  const rows = await db
    .update(bindings)
    .set({ approval: 'APPROVED', approvedAt: now, updatedAt: now })
    .where(and(eq(bindings.id, bindingId), eq(bindings.approval, 'PENDING'), ne(bindings.status, 'UNBOUND')))
    .returning({ id: bindings.id });
  return rows.length === 1;
}

/** The card is usable again (解挂): every lost binding of it is active again. */
export async function markCardFound(
  db: Executor,
  schoolId: string,
  cardNo: string,
  now: Date,
): Promise<number> {
  const rows = await db
    .update(bindings)
    .set({ status: 'ACTIVE', updatedAt: now })
    .where(and(eq(bindings.schoolId, schoolId), eq(bindings.cardNo, cardNo), eq(bindings.status, 'LOST')))
    .returning({ id: bindings.id });
  return rows.length;
}

/** A lost card is lost for everyone who bound it. */
export async function markCardLost(
  db: Executor,
  schoolId: string,
  cardNo: string,
  now: Date,
): Promise<number> {
  const rows = await db
    .update(bindings)
    .set({ status: 'LOST', updatedAt: now })
    .where(and(eq(bindings.schoolId, schoolId), eq(bindings.cardNo, cardNo), eq(bindings.status, 'ACTIVE')))
    .returning({ id: bindings.id });
  return rows.length;
}

export async function markUnbound(db: Executor, bindingId: string, now: Date): Promise<boolean> {
  const rows = await db
    .update(bindings)
    .set({
      status: 'UNBOUND',
      isWithholdingPayer: false,
      vendorBindPasswordEnc: null,
      unboundAt: now,
      updatedAt: now,
    })
    .where(and(eq(bindings.id, bindingId), ne(bindings.status, 'UNBOUND')))
    .returning({ id: bindings.id });
  return rows.length === 1;
}

/** The card's withholding payer, if any (live binding). */
export async function findWithholdingPayer(
  db: Executor,
  schoolId: string,
  cardNo: string,
): Promise<BindingRow | undefined> {
  const [row] = await db
    .select()
    .from(bindings)
    .where(
      and(
        eq(bindings.schoolId, schoolId),
        eq(bindings.cardNo, cardNo),
        eq(bindings.isWithholdingPayer, true),
        ne(bindings.status, 'UNBOUND'),
      ),
    );
  return row;
}

export async function setWithholdingPayer(
  db: Executor,
  bindingId: string,
  vendorBindPasswordEnc: string | null,
  now: Date,
): Promise<boolean> {
  const rows = await db
    .update(bindings)
    .set({ isWithholdingPayer: vendorBindPasswordEnc !== null, vendorBindPasswordEnc, updatedAt: now })
    .where(and(eq(bindings.id, bindingId), ne(bindings.status, 'UNBOUND')))
    .returning({ id: bindings.id });
  return rows.length === 1;
}

export async function countLiveBindingsOfCard(
  db: Executor,
  schoolId: string,
  cardNo: string,
): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(bindings)
    .where(and(eq(bindings.schoolId, schoolId), eq(bindings.cardNo, cardNo), ne(bindings.status, 'UNBOUND')));
  return row.n;
}

export async function findBinding(db: Executor, id: string): Promise<BindingRow | undefined> {
  const [row] = await db.select().from(bindings).where(eq(bindings.id, id));
  return row;
}

/**
 * Keeps the ZFB_BindDoc password before the card system is asked, so that an answer lost on the way back
 * can be retried with the same password (and the bind doc later removed with it).
 */
export async function keepVendorBindPassword(
  db: Executor,
  bindingId: string,
  vendorBindPasswordEnc: string,
  now: Date,
): Promise<void> {
  await db
    .update(bindings)
    .set({ vendorBindPasswordEnc, updatedAt: now })
    .where(and(eq(bindings.id, bindingId), ne(bindings.status, 'UNBOUND')));
}

/** A school's live bindings with their user's Alipay ids (the dev launcher restores bind docs from them). */
export async function listLiveBindingsOfSchool(
  db: Executor,
  schoolId: string,
): Promise<Array<BindingRow & { payerAlipayUserId: string | null; payerOpenId: string | null }>> {
  return db
    .select({
      ...getTableColumns(bindings),
      payerAlipayUserId: users.alipayUserId,
      payerOpenId: users.alipayOpenId,
    })
    .from(bindings)
    .innerJoin(users, eq(users.id, bindings.userId))
    .where(and(eq(bindings.schoolId, schoolId), ne(bindings.status, 'UNBOUND')));
}

/** The user's low-balance threshold for a card (null: no message). A new threshold starts a new watch. */
export async function setLowBalanceAlert(
  db: Executor,
  bindingId: string,
  lowBalanceFen: number | null,
  now: Date,
): Promise<void> {
  await db
    .update(bindings)
    .set({ lowBalanceFen, balanceLowSince: null, updatedAt: now })
    .where(eq(bindings.id, bindingId));
}

/** Usable bindings with a threshold, by id after `after`: the balance watch's batches. */
export async function listBalanceWatches(
  db: Executor,
  after: string | null,
  limit: number,
): Promise<BindingRow[]> {
  return db
    .select()
    .from(bindings)
    .where(
      and(
        sql`${bindings.lowBalanceFen} is not null`,
        eq(bindings.status, 'ACTIVE'),
        ne(bindings.approval, 'PENDING'),
        after ? sql`${bindings.id} > ${after}` : undefined,
      ),
    )
    .orderBy(asc(bindings.id))
    .limit(limit);
}

export async function setBalanceLowSince(db: Executor, bindingId: string, since: Date | null): Promise<void> {
  await db.update(bindings).set({ balanceLowSince: since }).where(eq(bindings.id, bindingId));
}

/**
 * The ACTIVE bindings at a school, not waiting for the holder's approval, of the Alipay user named by an id
 * that may be their user_id or, for apps in open_id mode, their open_id (card management names users by the
 * id its own app sees).
 */
export async function findActiveBindingsOfAlipayUser(
  db: Executor,
  schoolId: string,
  alipayId: string,
): Promise<BindingRow[]> {
  return db
    .select(getTableColumns(bindings))
    .from(bindings)
    .innerJoin(users, eq(users.id, bindings.userId))
    .where(
      and(
        eq(bindings.schoolId, schoolId),
        eq(bindings.status, 'ACTIVE'),
        ne(bindings.approval, 'PENDING'),
        or(eq(users.alipayUserId, alipayId), eq(users.alipayOpenId, alipayId)),
      ),
    )
    .orderBy(asc(bindings.createdAt));
}
