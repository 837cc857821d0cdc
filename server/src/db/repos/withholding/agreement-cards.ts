import { and, asc, eq, inArray, isNull, ne, sql } from 'drizzle-orm';
import type { Executor } from '../../client.js';
import { agreementCards, bindings, withholdingAgreements } from '../../schema.js';

export type AgreementCardRow = typeof agreementCards.$inferSelect;

export interface CoveredCard {
  bindingId: string;
  cardNo: string;
  txnLimitFen: number | null;
  dailyLimitFen: number | null;
}

/** A live coverage row with its binding's state, for views and the card-system sync. */
export type CoverageRow = AgreementCardRow & {
  holderName: string;
  bindingStatus: string;
  isWithholdingPayer: boolean;
};

const coverageColumns = {
  id: agreementCards.id,
  agreementId: agreementCards.agreementId,
  bindingId: agreementCards.bindingId,
  schoolId: agreementCards.schoolId,
  cardNo: agreementCards.cardNo,
  txnLimitFen: agreementCards.txnLimitFen,
  dailyLimitFen: agreementCards.dailyLimitFen,
  createdAt: agreementCards.createdAt,
  updatedAt: agreementCards.updatedAt,
  removedAt: agreementCards.removedAt,
  holderName: bindings.holderName,
  bindingStatus: bindings.status,
  isWithholdingPayer: bindings.isWithholdingPayer,
};

export async function insertAgreementCards(
  db: Executor,
  agreementId: string,
  schoolId: string,
  cards: CoveredCard[],
  now: Date,
): Promise<void> {
  if (cards.length === 0) return;
  await db
    .insert(agreementCards)
    .values(cards.map((card) => ({ ...card, agreementId, schoolId, createdAt: now, updatedAt: now })));
}

/** The cards these agreements cover now, with their bindings, in the order they were added. */
export async function listCoverage(db: Executor, agreementIds: string[]): Promise<CoverageRow[]> {
  if (agreementIds.length === 0) return [];
  return db
    .select(coverageColumns)
    .from(agreementCards)
    .innerJoin(bindings, eq(bindings.id, agreementCards.bindingId))
    .where(and(inArray(agreementCards.agreementId, agreementIds), isNull(agreementCards.removedAt)))
    .orderBy(asc(agreementCards.createdAt), asc(agreementCards.cardNo));
}

/**
 * Makes the agreement cover exactly `cards` (new ones added, missing ones removed, limits updated). Returns
 * the bindings whose coverage started or ended, whose card-system bind doc must follow.
 */
export async function replaceCoverage(
  db: Executor,
  agreementId: string,
  schoolId: string,
  cards: CoveredCard[],
  now: Date,
): Promise<string[]> {
  const current = await listCoverage(db, [agreementId]);
  const wanted = new Map(cards.map((card) => [card.bindingId, card]));
  const changed: string[] = [];
  for (const row of current) {
    const card = wanted.get(row.bindingId);
    if (!card) {
      await db
        .update(agreementCards)
        .set({ removedAt: now, updatedAt: now })
        .where(and(eq(agreementCards.id, row.id), isNull(agreementCards.removedAt)));
      changed.push(row.bindingId);
    } else if (card.txnLimitFen !== row.txnLimitFen || card.dailyLimitFen !== row.dailyLimitFen) {
      await db
        .update(agreementCards)
        .set({ txnLimitFen: card.txnLimitFen, dailyLimitFen: card.dailyLimitFen, updatedAt: now })
        .where(eq(agreementCards.id, row.id));
    }
    wanted.delete(row.bindingId);
  }
  await insertAgreementCards(db, agreementId, schoolId, [...wanted.values()], now);
  return [...changed, ...wanted.keys()];
}

/** A binding that is gone covers nothing any more. */
export async function removeBindingFromCoverage(db: Executor, bindingId: string, now: Date): Promise<void> {
  await db
    .update(agreementCards)
    .set({ removedAt: now, updatedAt: now })
    .where(and(eq(agreementCards.bindingId, bindingId), isNull(agreementCards.removedAt)));
}

/** Live coverage of a card by other users' ACTIVE agreements: someone else already pays its swipes. */
export async function findOtherPayersOfCard(
  db: Executor,
  schoolId: string,
  cardNo: string,
  userId: string,
): Promise<Array<{ agreementId: string; userId: string }>> {
  return db
    .select({ agreementId: withholdingAgreements.id, userId: withholdingAgreements.userId })
    .from(agreementCards)
    .innerJoin(withholdingAgreements, eq(withholdingAgreements.id, agreementCards.agreementId))
    .where(
      and(
        eq(agreementCards.schoolId, schoolId),
        eq(agreementCards.cardNo, cardNo),
        isNull(agreementCards.removedAt),
        eq(withholdingAgreements.status, 'ACTIVE'),
        ne(withholdingAgreements.userId, userId),
      ),
    );
}

/** Whether the binding's own user has an ACTIVE agreement that covers it: then its card must be bound. */
export async function isCoveredByActiveAgreement(db: Executor, bindingId: string): Promise<boolean> {
  const rows = await db
    .select({ one: sql<number>`1` })
    .from(agreementCards)
    .innerJoin(withholdingAgreements, eq(withholdingAgreements.id, agreementCards.agreementId))
    .innerJoin(bindings, eq(bindings.id, agreementCards.bindingId))
    .where(
      and(
        eq(agreementCards.bindingId, bindingId),
        isNull(agreementCards.removedAt),
        eq(withholdingAgreements.status, 'ACTIVE'),
        eq(withholdingAgreements.userId, bindings.userId),
      ),
    )
    .limit(1);
  return rows.length > 0;
}

/**
 * Bindings whose card-system bind doc is not what their coverage calls for, last changed before
 * `changedBefore` (a lost or exhausted job): covered by an ACTIVE agreement but not bound, or bound with no
 * ACTIVE coverage left. The withholding sweep starts their sync again.
 */
export async function findBindingsOutOfStep(db: Executor, changedBefore: Date, limit: number) {
  const { rows } = await db.execute<{ id: string }>(sql`
    (select b.id from agreement_cards c
       join withholding_agreements a on a.id = c.agreement_id
       join bindings b on b.id = c.binding_id
     where c.removed_at is null and a.status = 'ACTIVE' and a.user_id = b.user_id
       and b.status <> 'UNBOUND' and not b.is_withholding_payer
       and greatest(c.updated_at, a.updated_at, b.updated_at) < ${changedBefore}
     limit ${limit})
    union
    (select b.id from bindings b
     where b.is_withholding_payer and b.status <> 'UNBOUND' and b.updated_at < ${changedBefore}
       and not exists (select 1 from agreement_cards c join withholding_agreements a on a.id = c.agreement_id
                       where c.binding_id = b.id and c.removed_at is null and a.status = 'ACTIVE')
       and not exists (select 1 from agreement_cards c join withholding_agreements a on a.id = c.agreement_id
                       where c.binding_id = b.id and greatest(c.updated_at, a.updated_at) >= ${changedBefore})
     limit ${limit})`);
  return rows.map((row) => String(row.id));
}
