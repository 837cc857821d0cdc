import { and, asc, eq, gt, isNull } from 'drizzle-orm';
import type { Executor } from '../../client.js';
import type { ADMIN_ROLES } from '../../schema.js';
import { adminInvitations, schoolAdmins, schools, users } from '../../schema.js';

export type AdminRole = (typeof ADMIN_ROLES)[number];
export type SchoolAdminRow = typeof schoolAdmins.$inferSelect;
export type InvitationRow = typeof adminInvitations.$inferSelect;

export interface AdminMembership {
  schoolId: string;
  schoolCode: string;
  schoolName: string;
  schoolStatus: string;
  role: AdminRole;
}

export interface AdminMember extends SchoolAdminRow {
  alipayUserId: string | null;
  alipayOpenId: string | null;
}

export async function findMembership(
  db: Executor,
  schoolId: string,
  userId: string,
): Promise<SchoolAdminRow | undefined> {
  const [row] = await db
    .select()
    .from(schoolAdmins)
    .where(and(eq(schoolAdmins.schoolId, schoolId), eq(schoolAdmins.userId, userId)));
  return row;
}

/** The schools a user administers, by name. */
export function listMemberships(db: Executor, userId: string): Promise<AdminMembership[]> {
  return db
    .select({
      schoolId: schools.id,
      schoolCode: schools.code,
      schoolName: schools.name,
      schoolStatus: schools.status,
      role: schoolAdmins.role,
    })
    .from(schoolAdmins)
    .innerJoin(schools, eq(schools.id, schoolAdmins.schoolId))
    .where(eq(schoolAdmins.userId, userId))
    .orderBy(asc(schools.name));
}

export function listSchoolAdmins(db: Executor, schoolId: string): Promise<AdminMember[]> {
  return db
    .select({
      schoolId: schoolAdmins.schoolId,
      userId: schoolAdmins.userId,
      role: schoolAdmins.role,
      displayName: schoolAdmins.displayName,
      invitationId: schoolAdmins.invitationId,
      createdAt: schoolAdmins.createdAt,
      updatedAt: schoolAdmins.updatedAt,
      alipayUserId: users.alipayUserId,
      alipayOpenId: users.alipayOpenId,
    })
    .from(schoolAdmins)
    .innerJoin(users, eq(users.id, schoolAdmins.userId))
    .where(eq(schoolAdmins.schoolId, schoolId))
    .orderBy(asc(schoolAdmins.createdAt));
}

/**
 * The school's admin rows, locked: role changes and removals take this first so that two owners demoting
 * each other at the same moment cannot leave the school without an owner.
 */
export function lockSchoolAdmins(tx: Executor, schoolId: string): Promise<SchoolAdminRow[]> {
  return tx.select().from(schoolAdmins).where(eq(schoolAdmins.schoolId, schoolId)).for('update');
}

/** false when the user already administers the school. */
export async function insertMembershipIfNew(
  db: Executor,
  row: typeof schoolAdmins.$inferInsert,
): Promise<SchoolAdminRow | undefined> {
  const [inserted] = await db.insert(schoolAdmins).values(row).onConflictDoNothing().returning();
  return inserted;
}

export async function setMembershipRole(
  db: Executor,
  schoolId: string,
  userId: string,
  role: AdminRole,
  now: Date,
): Promise<SchoolAdminRow | undefined> {
  const [row] = await db
    .update(schoolAdmins)
    .set({ role, updatedAt: now })
    .where(and(eq(schoolAdmins.schoolId, schoolId), eq(schoolAdmins.userId, userId)))
    .returning();
  return row;
}

export async function deleteMembership(
  db: Executor,
  schoolId: string,
  userId: string,
): Promise<SchoolAdminRow | undefined> {
  const [row] = await db
    .delete(schoolAdmins)
    .where(and(eq(schoolAdmins.schoolId, schoolId), eq(schoolAdmins.userId, userId)))
    .returning();
  return row;
}

export async function insertInvitation(
  db: Executor,
  row: typeof adminInvitations.$inferInsert,
): Promise<InvitationRow> {
  const [inserted] = await db.insert(adminInvitations).values(row).returning();
  return inserted;
}

export async function findInvitationByHash(
  db: Executor,
  codeHash: string,
): Promise<InvitationRow | undefined> {
  const [row] = await db.select().from(adminInvitations).where(eq(adminInvitations.codeHash, codeHash));
  return row;
}

/** Spends an unused, unexpired invitation; undefined when it is not (any more) redeemable. */
export async function redeemInvitationIfOpen(
  db: Executor,
  codeHash: string,
  redemption: { userId: string; now: Date },
): Promise<InvitationRow | undefined> {
  const [row] = await db
    .update(adminInvitations)
    .set({ redeemedBy: redemption.userId, redeemedAt: redemption.now })
    .where(
      and(
        eq(adminInvitations.codeHash, codeHash),
        isNull(adminInvitations.redeemedAt),
        gt(adminInvitations.expiresAt, redemption.now),
      ),
    )
    .returning();
  return row;
}
