import { eq } from 'drizzle-orm';
import type { Executor } from '../../client.js';
import { membershipPrograms } from '../../schema.js';

export type MembershipProgramRow = typeof membershipPrograms.$inferSelect;
export type MembershipProgramInput = Omit<typeof membershipPrograms.$inferInsert, 'createdAt' | 'updatedAt'>;

/** Creates the school's program or replaces its settings (the operator's configuration). */
export async function saveProgram(
  db: Executor,
  program: MembershipProgramInput,
  now: Date,
): Promise<MembershipProgramRow> {
  const [row] = await db
    .insert(membershipPrograms)
    .values({ ...program, createdAt: now, updatedAt: now })
    .onConflictDoUpdate({
      target: membershipPrograms.schoolId,
      set: { ...program, updatedAt: now },
    })
    .returning();
  return row;
}

export async function findProgram(db: Executor, schoolId: string): Promise<MembershipProgramRow | undefined> {
  const [row] = await db.select().from(membershipPrograms).where(eq(membershipPrograms.schoolId, schoolId));
  return row;
}

/** The program whose CRM token hashes to this value (the token is what tells schools apart). */
export async function findProgramByTokenHash(
  db: Executor,
  tokenHash: string,
): Promise<MembershipProgramRow | undefined> {
  const [row] = await db
    .select()
    .from(membershipPrograms)
    .where(eq(membershipPrograms.crmTokenHash, tokenHash));
  return row;
}
