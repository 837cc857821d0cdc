import { and, desc, eq, gte, inArray, lt, sql } from 'drizzle-orm';
import type { Executor } from '../../client.js';
import { withholdingAgreements } from '../../schema.js';

export type AgreementRow = typeof withholdingAgreements.$inferSelect;

export async function insertAgreement(
  db: Executor,
  agreement: typeof withholdingAgreements.$inferInsert,
): Promise<AgreementRow> {
  const [row] = await db.insert(withholdingAgreements).values(agreement).returning();
  return row;
}

export async function findAgreement(db: Executor, id: string): Promise<AgreementRow | undefined> {
  const [row] = await db.select().from(withholdingAgreements).where(eq(withholdingAgreements.id, id));
  return row;
}

export async function findAgreementByExternalNo(
  db: Executor,
  externalAgreementNo: string,
): Promise<AgreementRow | undefined> {
  const [row] = await db
    .select()
    .from(withholdingAgreements)
    .where(eq(withholdingAgreements.externalAgreementNo, externalAgreementNo));
  return row;
}

export async function findAgreementByAgreementNo(
  db: Executor,
  agreementNo: string,
): Promise<AgreementRow | undefined> {
  const [row] = await db
    .select()
    .from(withholdingAgreements)
    .where(eq(withholdingAgreements.agreementNo, agreementNo));
  return row;
}

/** Every agreement of the user, newest first. */
export async function listUserAgreements(db: Executor, userId: string): Promise<AgreementRow[]> {
  return db
    .select()
    .from(withholdingAgreements)
    .where(eq(withholdingAgreements.userId, userId))
    .orderBy(desc(withholdingAgreements.createdAt));
}

export async function findActiveAgreement(
  db: Executor,
  userId: string,
  schoolId: string,
): Promise<AgreementRow | undefined> {
  const [row] = await db
    .select()
    .from(withholdingAgreements)
    .where(
      and(
        eq(withholdingAgreements.userId, userId),
        eq(withholdingAgreements.schoolId, schoolId),
        eq(withholdingAgreements.status, 'ACTIVE'),
      ),
    );
  return row;
}

/** PENDING (or FAILED: a late confirmation still counts) → ACTIVE. Returns the row when this call moved it. */
export async function activateAgreement(
  db: Executor,
  id: string,
  signed: { agreementNo: string; signedAt: Date | null; validUntil: Date | null; now: Date },
): Promise<AgreementRow | undefined> {
  const [row] = await db
    .update(withholdingAgreements)
    .set({
      status: 'ACTIVE',
      agreementNo: signed.agreementNo,
      signedAt: signed.signedAt ?? signed.now,
      validUntil: signed.validUntil,
      updatedAt: signed.now,
    })
    .where(
      and(eq(withholdingAgreements.id, id), inArray(withholdingAgreements.status, ['PENDING', 'FAILED'])),
    )
    .returning();
  return row;
}

/** PENDING or ACTIVE → UNSIGNED. Returns the row when this call moved it. */
export async function markAgreementUnsigned(
  db: Executor,
  id: string,
  now: Date,
): Promise<AgreementRow | undefined> {
  const [row] = await db
    .update(withholdingAgreements)
    .set({ status: 'UNSIGNED', unsignedAt: now, updatedAt: now })
    .where(
      and(eq(withholdingAgreements.id, id), inArray(withholdingAgreements.status, ['PENDING', 'ACTIVE'])),
    )
    .returning();
  return row;
}

export async function markAgreementFailed(db: Executor, id: string, now: Date): Promise<boolean> {
  const rows = await db
    .update(withholdingAgreements)
    .set({ status: 'FAILED', updatedAt: now })
    .where(and(eq(withholdingAgreements.id, id), eq(withholdingAgreements.status, 'PENDING')))
    .returning({ id: withholdingAgreements.id });
  return rows.length === 1;
}

export async function findStalePendingAgreements(db: Executor, createdBefore: Date, limit: number) {
  return (
    db
      .select()
      .from(withholdingAgreements)
      .where(
        and(eq(withholdingAgreements.status, 'PENDING'), lt(withholdingAgreements.createdAt, createdBefore)),
      )
      // Oldest first, so that a backlog larger than one batch is worked through rather than starved.
      .orderBy(withholdingAgreements.createdAt)
      .limit(limit)
  );
}

/** The user's PENDING agreements created since `since`: how many sign pages they have left unfinished. */
export async function pendingAgreementsSince(
  db: Executor,
  userId: string,
  since: Date,
): Promise<{ count: number; oldest: Date | null }> {
  const [row] = await db
    .select({
      count: sql<number>`count(*)::int`,
      oldest: sql<Date | null>`min(${withholdingAgreements.createdAt})`,
    })
    .from(withholdingAgreements)
    .where(
      and(
        eq(withholdingAgreements.userId, userId),
        eq(withholdingAgreements.status, 'PENDING'),
        gte(withholdingAgreements.createdAt, since),
      ),
    );
  return { count: row.count, oldest: row.oldest ? new Date(row.oldest) : null };
}
