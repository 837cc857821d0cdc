import { and, desc, eq, lt } from 'drizzle-orm';
import type { Executor } from '../../client.js';
import { auditLog } from '../../schema.js';

export type AuditRow = typeof auditLog.$inferSelect;
export type NewAuditRow = typeof auditLog.$inferInsert;

/** The only write audit_log takes (the table refuses UPDATE and DELETE). */
export async function insertAuditRow(db: Executor, row: NewAuditRow): Promise<AuditRow> {
  const [inserted] = await db.insert(auditLog).values(row).returning();
  return inserted;
}

/** A school's entries, newest first; `beforeId` pages back. */
export function listSchoolAudit(
  db: Executor,
  schoolId: string,
  page: { beforeId?: number; limit: number },
): Promise<AuditRow[]> {
  return db
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.schoolId, schoolId), page.beforeId ? lt(auditLog.id, page.beforeId) : undefined))
    .orderBy(desc(auditLog.id))
    .limit(page.limit);
}
