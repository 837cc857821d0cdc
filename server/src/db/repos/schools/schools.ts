import { and, asc, eq, ilike, or } from 'drizzle-orm';
import type { Executor } from '../../client.js';
import { schools } from '../../schema.js';

export type SchoolRow = typeof schools.$inferSelect;
export type NewSchool = typeof schools.$inferInsert;

export async function findSchool(db: Executor, id: string): Promise<SchoolRow | undefined> {
  const [row] = await db.select().from(schools).where(eq(schools.id, id));
  return row;
}

export async function findSchoolByCode(db: Executor, code: string): Promise<SchoolRow | undefined> {
  const [row] = await db.select().from(schools).where(eq(schools.code, code));
  return row;
}

/** Active schools whose name contains the text or whose code starts with it. */
export async function searchActiveSchools(
  db: Executor,
  text: string | undefined,
  limit: number,
): Promise<SchoolRow[]> {
  const escaped = text?.replace(/[\\%_]/g, (c) => `\\${c}`);
  const matches = escaped
    ? or(ilike(schools.name, `%${escaped}%`), ilike(schools.code, `${escaped}%`))
    : undefined;
  return db
    .select()
    .from(schools)
    .where(and(eq(schools.status, 'ACTIVE'), matches))
    .orderBy(asc(schools.name))
    .limit(limit);
}

export async function insertSchool(db: Executor, school: NewSchool): Promise<SchoolRow> {
  const [row] = await db.insert(schools).values(school).returning();
  return row;
}
