import { and, asc, desc, eq, gte, inArray, lte, sql } from 'drizzle-orm';
import type { Executor } from '../../client.js';
import type { InboxPage } from '../inbox/inbox-items.js';
import { reconciliationDays, reconciliationFindings } from '../../schema.js';

export type ReconciliationDayRow = typeof reconciliationDays.$inferSelect;
export type FindingRow = typeof reconciliationFindings.$inferSelect;
export type NewFinding = Omit<
  typeof reconciliationFindings.$inferInsert,
  'id' | 'status' | 'resolution' | 'resolvedBy' | 'resolvedAt' | 'note' | 'createdAt' | 'updatedAt'
>;

export async function findDay(
  db: Executor,
  schoolId: string,
  billDate: string,
): Promise<ReconciliationDayRow | undefined> {
  const [row] = await db
    .select()
    .from(reconciliationDays)
    .where(and(eq(reconciliationDays.schoolId, schoolId), eq(reconciliationDays.billDate, billDate)));
  return row;
}

/** Creates or updates the day's row with `values`. */
export async function saveDay(
  db: Executor,
  schoolId: string,
  billDate: string,
  values: Partial<Omit<ReconciliationDayRow, 'schoolId' | 'billDate' | 'createdAt'>> & {
    status: ReconciliationDayRow['status'];
  },
  now: Date,
): Promise<ReconciliationDayRow> {
  const [row] = await db
    .insert(reconciliationDays)
    .values({ schoolId, billDate, ...values, updatedAt: now })
    .onConflictDoUpdate({
      target: [reconciliationDays.schoolId, reconciliationDays.billDate],
      set: { ...values, updatedAt: now },
    })
    .returning();
  return row;
}

export function listDays(db: Executor, schoolId: string, from: string, to: string) {
  return db
    .select()
    .from(reconciliationDays)
    .where(
      and(
        eq(reconciliationDays.schoolId, schoolId),
        gte(reconciliationDays.billDate, from),
        lte(reconciliationDays.billDate, to),
      ),
    )
    .orderBy(asc(reconciliationDays.billDate));
}

/** Days waiting for their bill, or whose last run failed, that are due again. */
export function dueDays(db: Executor, now: Date, limit: number) {
  return db
    .select({ schoolId: reconciliationDays.schoolId, billDate: reconciliationDays.billDate })
    .from(reconciliationDays)
    .where(
      and(
        inArray(reconciliationDays.status, ['WAITING_FOR_BILL', 'FAILED']),
        lte(reconciliationDays.nextAttemptAt, now),
      ),
    )
    .limit(limit);
}

/**
 * Claims a day for a run: creates it WAITING_FOR_BILL, due again after `retryAt` (so the scheduler does not
 * enqueue it twice), or moves an existing due one's next attempt to `retryAt`. True when this call claimed it.
 */
export async function claimDay(
  db: Executor,
  schoolId: string,
  billDate: string,
  now: Date,
  retryAt: Date,
): Promise<boolean> {
  const result = await db.execute(sql`
    insert into reconciliation_days (school_id, bill_date, status, next_attempt_at, updated_at)
    values (${schoolId}, ${billDate}, 'WAITING_FOR_BILL', ${retryAt}, ${now})
    on conflict (school_id, bill_date) do update set next_attempt_at = ${retryAt}, updated_at = ${now}
     where reconciliation_days.status in ('WAITING_FOR_BILL', 'FAILED')
       and reconciliation_days.next_attempt_at <= ${now}`);
  return (result.rowCount ?? 0) > 0;
}

/** Adds findings not seen before (the key is school, day, kind, ref); returns how many were new. */
export async function insertFindings(db: Executor, findings: readonly NewFinding[]): Promise<number> {
  let inserted = 0;
  for (let i = 0; i < findings.length; i += 1_000) {
    const rows = await db
      .insert(reconciliationFindings)
      .values(findings.slice(i, i + 1_000) as Array<typeof reconciliationFindings.$inferInsert>)
      .onConflictDoNothing()
      .returning({ id: reconciliationFindings.id });
    inserted += rows.length;
  }
  return inserted;
}

/** OPEN findings of the day that this run no longer finds: the difference went away (CLEARED). */
export async function clearVanishedFindings(
  db: Executor,
  schoolId: string,
  billDate: string,
  stillFound: readonly string[],
  now: Date,
): Promise<number> {
  const result = await db.execute(sql`
    update reconciliation_findings
       set status = 'RESOLVED', resolution = 'CLEARED', resolved_by = 'SYSTEM:reconcile', resolved_at = ${now},
           updated_at = ${now}
     where school_id = ${schoolId} and bill_date = ${billDate} and status = 'OPEN'
       and (kind || '|' || ref) not in (select jsonb_array_elements_text(${JSON.stringify(stillFound)}::jsonb))`);
  return result.rowCount ?? 0;
}

export async function countFindings(db: Executor, schoolId: string, billDate: string) {
  const { rows } = await db.execute<{ total: number; open: number }>(sql`
    select count(*) as total, count(*) filter (where status = 'OPEN') as open
      from reconciliation_findings where school_id = ${schoolId} and bill_date = ${billDate}`);
  return { total: Number(rows[0]?.total ?? 0), open: Number(rows[0]?.open ?? 0) };
}

export function listFindings(
  db: Executor,
  schoolId: string,
  filter: { billDate?: string; status?: 'OPEN' | 'RESOLVED'; limit: number },
) {
  const conditions = [eq(reconciliationFindings.schoolId, schoolId)];
  if (filter.billDate) conditions.push(eq(reconciliationFindings.billDate, filter.billDate));
  if (filter.status) conditions.push(eq(reconciliationFindings.status, filter.status));
  return db
    .select()
    .from(reconciliationFindings)
    .where(and(...conditions))
    .orderBy(desc(reconciliationFindings.billDate), asc(reconciliationFindings.createdAt))
    .limit(filter.limit);
}

export async function findFinding(
  db: Executor,
  schoolId: string,
  id: string,
  options: { forUpdate?: boolean } = {},
): Promise<FindingRow | undefined> {
  const query = db
    .select()
    .from(reconciliationFindings)
    .where(and(eq(reconciliationFindings.schoolId, schoolId), eq(reconciliationFindings.id, id)));
  const [row] = options.forUpdate ? await query.for('update') : await query;
  return row;
}

/** OPEN → RESOLVED; undefined when it was no longer open (someone else resolved it first). */
export async function resolveFinding(
  db: Executor,
  id: string,
  resolution: { resolution: string; resolvedBy: string; note: string | null; at: Date },
): Promise<FindingRow | undefined> {
  const [row] = await db
    .update(reconciliationFindings)
    .set({
      status: 'RESOLVED',
      resolution: resolution.resolution,
      resolvedBy: resolution.resolvedBy,
      resolvedAt: resolution.at,
      note: resolution.note,
      updatedAt: resolution.at,
    })
    .where(and(eq(reconciliationFindings.id, id), eq(reconciliationFindings.status, 'OPEN')))
    .returning();
  return row;
}

/** OPEN findings of every day, oldest first, paged by (created_at, id): the exceptions inbox's list. */
export function listOpenFindings(db: Executor, schoolId: string, page: InboxPage) {
  const conditions = [
    eq(reconciliationFindings.schoolId, schoolId),
    eq(reconciliationFindings.status, 'OPEN'),
  ];
  if (page.after)
    conditions.push(
      sql`(${reconciliationFindings.createdAt}, ${reconciliationFindings.id}) > (${page.after.since}, ${page.after.id}::uuid)`,
    );
  return db
    .select()
    .from(reconciliationFindings)
    .where(and(...conditions))
    .orderBy(asc(reconciliationFindings.createdAt), asc(reconciliationFindings.id))
    .limit(page.limit);
}

/** OPEN findings of every day (over the partial index of open findings). */
export async function countOpenFindings(db: Executor, schoolId: string): Promise<number> {
  const { rows } = await db.execute<{ n: number }>(sql`
    select count(*)::int as n from reconciliation_findings where school_id = ${schoolId} and status = 'OPEN'`);
  return Number(rows[0]?.n ?? 0);
}
