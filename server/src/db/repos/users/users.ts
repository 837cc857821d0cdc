import { eq, or, sql } from 'drizzle-orm';
import type { Executor } from '../../client.js';
import { users } from '../../schema.js';

export type UserRow = typeof users.$inferSelect;

/**
 * Finds or creates the user Alipay identified. open_id is the key for new apps, user_id for older ones
 * (ALIPAY.md §4.1); whichever id we learn later is filled in.
 */
export async function upsertAlipayUser(
  db: Executor,
  ids: { openId: string | null; userId: string | null },
  now: Date,
): Promise<UserRow> {
  if (ids.openId) {
    const [row] = await db
      .insert(users)
      .values({ alipayOpenId: ids.openId, alipayUserId: ids.userId, lastLoginAt: now })
      .onConflictDoUpdate({
        target: users.alipayOpenId,
        set: {
          lastLoginAt: now,
          alipayUserId: sql`coalesce(excluded.alipay_user_id, ${users.alipayUserId})`,
        },
      })
      .returning();
    return row;
  }
  if (!ids.userId) throw new Error('Alipay returned neither open_id nor user_id');
  const [row] = await db
    .insert(users)
    .values({ alipayUserId: ids.userId, lastLoginAt: now })
    .onConflictDoUpdate({ target: users.alipayUserId, set: { lastLoginAt: now } })
    .returning();
  return row;
}

export async function findUser(db: Executor, id: string): Promise<UserRow | undefined> {
  const [row] = await db.select().from(users).where(eq(users.id, id));
  return row;
}

/** The user Alipay knows by this open_id or user_id, if they ever signed in. */
export async function findUserByAlipayIds(
  db: Executor,
  ids: { openId?: string | null; userId?: string | null },
): Promise<UserRow | undefined> {
  const matches = [
    ids.openId ? eq(users.alipayOpenId, ids.openId) : undefined,
    ids.userId ? eq(users.alipayUserId, ids.userId) : undefined,
  ].filter((m) => m !== undefined);
  if (matches.length === 0) return undefined;
  const [row] = await db
    .select()
    .from(users)
    .where(or(...matches))
    .limit(1);
  return row;
}

/** The mobile the user shared (seed 002 §1), as its keyed hash and ciphertext; the latest share wins. */
export async function setUserPhone(
  db: Executor,
  id: string,
  phone: { hash: string; enc: string },
  now: Date,
): Promise<void> {
  await db
    .update(users)
    .set({ phoneHash: phone.hash, phoneEnc: phone.enc, phoneSharedAt: now })
    .where(eq(users.id, id));
}
