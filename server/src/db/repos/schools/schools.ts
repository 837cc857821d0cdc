import { and, asc, eq, ilike, inArray, isNotNull, or } from 'drizzle-orm';
import type { Executor } from '../../client.js';
import type { SCHOOL_STATUSES, SUSPENSION_REASONS } from '../../schema.js';
import { schools } from '../../schema.js';

export type SchoolRow = typeof schools.$inferSelect;
export type NewSchool = typeof schools.$inferInsert;
export type SchoolStatus = (typeof SCHOOL_STATUSES)[number];
export type SuspensionReason = (typeof SUSPENSION_REASONS)[number];

/**
 * A school's own settings: what onboarding may set and `updateSchoolSettings` changes (and audits). Which of
 * them an owner may change in the mini-program is the admin route's joi schema (routes/admin/school.ts).
 */
export type SchoolSettings = Pick<
  SchoolRow,
  | 'name'
  | 'servicePhone'
  | 'rechargeMinFen'
  | 'rechargeMaxFen'
  | 'withholdingEnabled'
  | 'txnLimitFen'
  | 'dailyLimitFen'
  | 'retryScheduleSeconds'
  | 'parentApproval'
  | 'swipeMaxAgeMinutes'
  | 'swipeMaxAheadMinutes'
  | 'alipayInstitutionCode'
  | 'campusCodeWindowDays'
  | 'campusCodeLateAfterHours'
  | 'campusCodeMaxFen'
  | 'terminalDispenseWindowMinutes'
  | 'terminalPayRequiresPhone'
>;

export async function findSchool(db: Executor, id: string): Promise<SchoolRow | undefined> {
  const [row] = await db.select().from(schools).where(eq(schools.id, id));
  return row;
}

export async function findSchoolByCode(db: Executor, code: string): Promise<SchoolRow | undefined> {
  const [row] = await db.select().from(schools).where(eq(schools.code, code));
  return row;
}

/** The row, locked for a read-modify-write (status moves, settings) in the caller's transaction. */
export async function lockSchool(tx: Executor, id: string): Promise<SchoolRow | undefined> {
  const [row] = await tx.select().from(schools).where(eq(schools.id, id)).for('update');
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

/** Announced (payload: the school's id) after a school's card system is connected or its credentials change. */
export const CARD_SYSTEM_CONNECTED_CHANNEL = 'card_system_connected';

/** Every school whose card system is connected, whatever its status (a PENDING one is about to open). */
export function listSchoolsWithCardSystem(db: Executor): Promise<SchoolRow[]> {
  return db.select().from(schools).where(isNotNull(schools.cardsysEndpoint)).orderBy(asc(schools.code));
}

export function listSchools(db: Executor): Promise<SchoolRow[]> {
  return db.select().from(schools).orderBy(asc(schools.code));
}

/** undefined when the code is taken. */
export async function insertSchoolIfNew(db: Executor, school: NewSchool): Promise<SchoolRow | undefined> {
  const [row] = await db.insert(schools).values(school).onConflictDoNothing().returning();
  return row;
}

/** Every change bumps updated_at, which is how per-process clients (SchoolConnections) know to rebuild. */
async function updateSchool(
  db: Executor,
  id: string,
  changes: Partial<NewSchool> & { updatedAt: Date },
  onlyFrom?: readonly SchoolStatus[],
): Promise<SchoolRow | undefined> {
  const [row] = await db
    .update(schools)
    .set(changes)
    .where(and(eq(schools.id, id), onlyFrom ? inArray(schools.status, [...onlyFrom]) : undefined))
    .returning();
  return row;
}

export function setSchoolSettings(
  db: Executor,
  id: string,
  settings: Partial<SchoolSettings>,
  now: Date,
): Promise<SchoolRow | undefined> {
  return updateSchool(db, id, { ...settings, updatedAt: now });
}

export function setCardSystemConnection(
  db: Executor,
  id: string,
  connection: { endpoint: string; username: string; passwordEnc: string; verifiedAt: Date },
): Promise<SchoolRow | undefined> {
  return updateSchool(db, id, {
    cardsysEndpoint: connection.endpoint,
    cardsysUsername: connection.username,
    cardsysPasswordEnc: connection.passwordEnc,
    cardsysVerifiedAt: connection.verifiedAt,
    updatedAt: connection.verifiedAt,
  });
}

export function setCardSystemVerified(db: Executor, id: string, at: Date): Promise<SchoolRow | undefined> {
  return updateSchool(db, id, { cardsysVerifiedAt: at, updatedAt: at });
}

/** The app_auth_token in use (copied from the school's ACTIVE isv_authorizations row). */
export function setSchoolAppAuthToken(
  db: Executor,
  id: string,
  token: { tokenEnc: string; authAppId: string; sellerId: string; now: Date },
): Promise<SchoolRow | undefined> {
  return updateSchool(db, id, {
    alipayAppAuthTokenEnc: token.tokenEnc,
    alipayAuthAppId: token.authAppId,
    alipaySellerId: token.sellerId,
    updatedAt: token.now,
  });
}

/** PENDING/SUSPENDED → ACTIVE; undefined when the school is in none of `from`. */
export function markSchoolActive(
  db: Executor,
  id: string,
  from: readonly SchoolStatus[],
  now: Date,
): Promise<SchoolRow | undefined> {
  return updateSchool(
    db,
    id,
    {
      status: 'ACTIVE',
      suspensionReason: null,
      suspensionDetail: null,
      suspendedAt: null,
      activatedAt: now,
      updatedAt: now,
    },
    from,
  );
}

/** ACTIVE (or already SUSPENDED, to record a newer reason) → SUSPENDED. */
export function markSchoolSuspended(
  db: Executor,
  id: string,
  suspension: { reason: SuspensionReason; detail: string | null; now: Date },
): Promise<SchoolRow | undefined> {
  return updateSchool(
    db,
    id,
    {
      status: 'SUSPENDED',
      suspensionReason: suspension.reason,
      suspensionDetail: suspension.detail,
      suspendedAt: suspension.now,
      updatedAt: suspension.now,
    },
    ['ACTIVE', 'SUSPENDED'],
  );
}
