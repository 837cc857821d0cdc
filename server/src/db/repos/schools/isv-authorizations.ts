import { and, asc, eq, isNotNull, isNull, lt } from 'drizzle-orm';
import type { Executor } from '../../client.js';
import type { ISV_AUTHORIZATION_STATUSES } from '../../schema.js';
import { isvAuthorizationLinks, isvAuthorizations } from '../../schema.js';

export type IsvAuthorizationRow = typeof isvAuthorizations.$inferSelect;
export type IsvAuthorizationStatus = (typeof ISV_AUTHORIZATION_STATUSES)[number];
export type AuthorizationLinkRow = typeof isvAuthorizationLinks.$inferSelect;

export async function insertAuthorizationLink(
  db: Executor,
  row: typeof isvAuthorizationLinks.$inferInsert,
): Promise<AuthorizationLinkRow> {
  const [inserted] = await db.insert(isvAuthorizationLinks).values(row).returning();
  return inserted;
}

export async function findAuthorizationLink(
  db: Executor,
  stateHash: string,
): Promise<AuthorizationLinkRow | undefined> {
  const [row] = await db
    .select()
    .from(isvAuthorizationLinks)
    .where(eq(isvAuthorizationLinks.stateHash, stateHash));
  return row;
}

/** Spends an unused link; false when another callback spent it first. */
export async function spendAuthorizationLink(db: Executor, id: string, now: Date): Promise<boolean> {
  const rows = await db
    .update(isvAuthorizationLinks)
    .set({ usedAt: now })
    .where(and(eq(isvAuthorizationLinks.id, id), isNull(isvAuthorizationLinks.usedAt)))
    .returning({ id: isvAuthorizationLinks.id });
  return rows.length === 1;
}

/** Gives a link back after its code could not be exchanged, so the school can try again with it. */
export async function releaseAuthorizationLink(db: Executor, id: string): Promise<void> {
  await db.update(isvAuthorizationLinks).set({ usedAt: null }).where(eq(isvAuthorizationLinks.id, id));
}

export async function findActiveAuthorization(
  db: Executor,
  schoolId: string,
): Promise<IsvAuthorizationRow | undefined> {
  const [row] = await db
    .select()
    .from(isvAuthorizations)
    .where(and(eq(isvAuthorizations.schoolId, schoolId), eq(isvAuthorizations.status, 'ACTIVE')));
  return row;
}

export function findActiveAuthorizationsByAuthAppId(
  db: Executor,
  authAppId: string,
): Promise<IsvAuthorizationRow[]> {
  return db
    .select()
    .from(isvAuthorizations)
    .where(and(eq(isvAuthorizations.authAppId, authAppId), eq(isvAuthorizations.status, 'ACTIVE')));
}

export async function findActiveAuthorizationByTokenHash(
  db: Executor,
  tokenHash: string,
): Promise<IsvAuthorizationRow | undefined> {
  const [row] = await db
    .select()
    .from(isvAuthorizations)
    .where(and(eq(isvAuthorizations.appAuthTokenHash, tokenHash), eq(isvAuthorizations.status, 'ACTIVE')));
  return row;
}

export async function insertAuthorization(
  db: Executor,
  row: typeof isvAuthorizations.$inferInsert,
): Promise<IsvAuthorizationRow> {
  const [inserted] = await db.insert(isvAuthorizations).values(row).returning();
  return inserted;
}

/** ACTIVE → REPLACED | CANCELLED | INVALID; undefined when it was no longer ACTIVE. */
export async function endAuthorization(
  db: Executor,
  id: string,
  end: { status: Exclude<IsvAuthorizationStatus, 'ACTIVE'>; reason: string; now: Date },
): Promise<IsvAuthorizationRow | undefined> {
  const [row] = await db
    .update(isvAuthorizations)
    .set({ status: end.status, endedReason: end.reason, endedAt: end.now })
    .where(and(eq(isvAuthorizations.id, id), eq(isvAuthorizations.status, 'ACTIVE')))
    .returning();
  return row;
}

export async function setAuthorizationAuthTime(db: Executor, id: string, authTime: Date): Promise<void> {
  await db.update(isvAuthorizations).set({ authTime }).where(eq(isvAuthorizations.id, id));
}

/** ACTIVE authorizations that can be refreshed and expire before `before`, soonest first. */
export function findAuthorizationsExpiringBefore(
  db: Executor,
  before: Date,
  limit: number,
): Promise<IsvAuthorizationRow[]> {
  return db
    .select()
    .from(isvAuthorizations)
    .where(
      and(
        eq(isvAuthorizations.status, 'ACTIVE'),
        isNotNull(isvAuthorizations.appRefreshTokenEnc),
        lt(isvAuthorizations.expiresAt, before),
      ),
    )
    .orderBy(asc(isvAuthorizations.expiresAt))
    .limit(limit);
}
