import { and, desc, eq, getTableColumns } from 'drizzle-orm';
import type { Executor } from '../../client.js';
import { rosterImports } from '../../schema.js';

/**
 * An import as its report shows it: every column but the uploaded file, which a queued import keeps until
 * its job reads it (megabytes of base64 for 50,000 lines; the page polls the report every second or so).
 */
export type RosterImportRow = Omit<typeof rosterImports.$inferSelect, 'content'>;
const { content: _file, ...reportColumns } = getTableColumns(rosterImports);

export async function insertRosterImport(
  db: Executor,
  row: typeof rosterImports.$inferInsert,
): Promise<RosterImportRow> {
  const [created] = await db.insert(rosterImports).values(row).returning(reportColumns);
  return created;
}

export async function findRosterImport(
  db: Executor,
  schoolId: string,
  id: string,
): Promise<RosterImportRow | undefined> {
  const [row] = await db
    .select(reportColumns)
    .from(rosterImports)
    .where(and(eq(rosterImports.id, id), eq(rosterImports.schoolId, schoolId)));
  return row;
}

/** The file of a queued import (base64), or null once its job has taken it or when there is none. */
export async function findRosterImportFile(
  db: Executor,
  schoolId: string,
  id: string,
): Promise<string | null> {
  const [row] = await db
    .select({ content: rosterImports.content })
    .from(rosterImports)
    .where(and(eq(rosterImports.id, id), eq(rosterImports.schoolId, schoolId)));
  return row?.content ?? null;
}

export async function listRosterImports(
  db: Executor,
  schoolId: string,
  limit: number,
): Promise<RosterImportRow[]> {
  return db
    .select(reportColumns)
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
    .returning(reportColumns);
  return row;
}

/** The counts the page polls, mid-import. */
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
  const [row] = await db
    .update(rosterImports)
    .set(patch)
    .where(eq(rosterImports.id, id))
    .returning(reportColumns);
  return row;
}
