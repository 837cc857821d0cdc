import { and, desc, eq } from 'drizzle-orm';
import type { Executor } from '../../client.js';
import { rosterImports } from '../../schema.js';

export type RosterImportRow = typeof rosterImports.$inferSelect;

export async function insertRosterImport(
  db: Executor,
  row: typeof rosterImports.$inferInsert,
): Promise<RosterImportRow> {
  const [created] = await db.insert(rosterImports).values(row).returning();
  return created;
}

export async function findRosterImport(
  db: Executor,
  schoolId: string,
  id: string,
): Promise<RosterImportRow | undefined> {
  const [row] = await db
    .select()
    .from(rosterImports)
    .where(and(eq(rosterImports.id, id), eq(rosterImports.schoolId, schoolId)));
  return row;
}

export async function listRosterImports(db: Executor, schoolId: string, limit: number) {
  return db
    .select()
    .from(rosterImports)
    .where(eq(rosterImports.schoolId, schoolId))
    .orderBy(desc(rosterImports.createdAt))
    .limit(limit);
}

/** QUEUED → RUNNING for exactly one job (a repeated or duplicated job finds it taken). */
export async function startRosterImport(
  db: Executor,
  id: string,
  now: Date,
): Promise<RosterImportRow | undefined> {
  const [row] = await db
    .update(rosterImports)
    .set({ status: 'RUNNING', startedAt: now, updatedAt: now })
    .where(and(eq(rosterImports.id, id), eq(rosterImports.status, 'QUEUED')))
    .returning();
  return row;
}

/**
 * The counts the page polls, mid-import. Returns nothing: the row still holds the file (megabytes of
 * base64 for 50,000 lines), which a `returning` would read back on every batch.
 */
export async function recordRosterImportProgress(
  db: Executor,
  id: string,
  progress: { totalRows?: number; processedRows?: number },
  now: Date,
): Promise<void> {
  await db
    .update(rosterImports)
    .set({ ...progress, updatedAt: now })
    .where(eq(rosterImports.id, id));
}

export async function updateRosterImport(
  db: Executor,
  id: string,
  patch: Partial<typeof rosterImports.$inferInsert>,
): Promise<RosterImportRow | undefined> {
  const [row] = await db.update(rosterImports).set(patch).where(eq(rosterImports.id, id)).returning();
  return row;
}
