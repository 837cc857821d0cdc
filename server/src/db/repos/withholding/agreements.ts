import { and, desc, eq, inArray, lt, sql } from 'drizzle-orm';
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

export async function findActiveAgreementForBinding(
  db: Executor,
  bindingId: string,
): Promise<AgreementRow | undefined> {
  const [row] = await db
    .select()
    .from(withholdingAgreements)
    .where(and(eq(withholdingAgreements.bindingId, bindingId), eq(withholdingAgreements.status, 'ACTIVE')));
  return row;
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
  return db
    .select()
    .from(withholdingAgreements)
    .where(
      and(eq(withholdingAgreements.status, 'PENDING'), lt(withholdingAgreements.createdAt, createdBefore)),
    )
    .limit(limit);
}

/**
 * Agreements whose card is not yet in the state they call for, last changed before `changedBefore`:
 * ACTIVE but the card is not bound for withholding (the bind job was lost or gave up), or ended while the
 * card is still bound (the unbind job was lost or gave up). The withholding sweep enqueues the job again.
 */
export async function findAgreementsOutOfStepWithCards(db: Executor, changedBefore: Date, limit: number) {
  const { rows } = await db.execute<{ id: string; status: string }>(sql`
    select a.id, a.status
    from withholding_agreements a
    join bindings b on b.id = a.binding_id
    where a.updated_at < ${changedBefore} and b.status <> 'UNBOUND'
      and (
        (a.status = 'ACTIVE' and not b.is_withholding_payer)
        or (a.status in ('UNSIGNED', 'FAILED') and b.is_withholding_payer
            and not exists (select 1 from withholding_agreements x
                            where x.binding_id = b.id and x.status = 'ACTIVE'))
      )
    limit ${limit}`);
  return rows;
}
