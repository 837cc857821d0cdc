import { and, eq, isNull, or, sql } from 'drizzle-orm';
import type { Executor } from '../../client.js';
import { rosterEntries } from '../../schema.js';

export type RosterEntryRow = typeof rosterEntries.$inferSelect;

/**
 * One roster row ready for the table: personal data already as keyed hash + ciphertext
 * (domain/roster/roster-entries.ts `prepareRosterEntry` makes these from plain values).
 */
export interface PreparedRosterEntry {
  cardNo: string;
  name: string;
  studentNo: string | null;
  idNumberHash: string | null;
  idNumberEnc: string | null;
  idTailHash: string | null;
  phoneHash: string | null;
  phoneEnc: string | null;
  guardianPhoneHash: string | null;
  guardianPhoneEnc: string | null;
  isStudent: boolean;
}

export interface RosterUpsertResult {
  inserted: number;
  updated: number;
  unchanged: number;
}

/**
 * Inserts or updates a batch of one school's roster rows by card number, in one statement (the school
 * import of issue #13 sends batches of a few thousand; measured with bench:admin). A row whose name,
 * student number, hashes and student flag are what the table already holds is left alone (ciphertexts
 * differ on every encryption, so they are not compared), so importing the same file twice changes nothing.
 * A row marked as left comes back when it is imported again. Card numbers must be unique in one batch.
 */
export async function upsertRosterEntries(
  db: Executor,
  schoolId: string,
  rows: PreparedRosterEntry[],
  now: Date,
): Promise<RosterUpsertResult> {
  if (rows.length === 0) return { inserted: 0, updated: 0, unchanged: 0 };
  const column = <K extends keyof PreparedRosterEntry>(key: K) => sql.param(rows.map((row) => row[key]));
  const result = await db.execute<{ inserted: boolean }>(sql`
    insert into roster_entries as r (
      school_id, card_no, name, student_no, id_number_hash, id_number_enc, id_tail_hash, phone_hash, phone_enc,
      guardian_phone_hash, guardian_phone_enc, is_student, left_at, created_at, updated_at
    )
    select ${schoolId}::uuid, u.*, null::timestamptz, ${now}::timestamptz, ${now}::timestamptz
    from unnest(
      ${column('cardNo')}::text[], ${column('name')}::text[], ${column('studentNo')}::text[],
      ${column('idNumberHash')}::text[], ${column('idNumberEnc')}::text[], ${column('idTailHash')}::text[],
      ${column('phoneHash')}::text[], ${column('phoneEnc')}::text[], ${column('guardianPhoneHash')}::text[],
      ${column('guardianPhoneEnc')}::text[], ${column('isStudent')}::boolean[]
    ) as u
    on conflict (school_id, card_no) do update set
      name = excluded.name, student_no = excluded.student_no,
      id_number_hash = excluded.id_number_hash, id_number_enc = excluded.id_number_enc,
      id_tail_hash = excluded.id_tail_hash, phone_hash = excluded.phone_hash, phone_enc = excluded.phone_enc,
      guardian_phone_hash = excluded.guardian_phone_hash, guardian_phone_enc = excluded.guardian_phone_enc,
      is_student = excluded.is_student, left_at = null, updated_at = excluded.updated_at
    where (r.name, r.student_no, r.id_number_hash, r.phone_hash, r.guardian_phone_hash, r.is_student,
           r.left_at is null)
      is distinct from
          (excluded.name, excluded.student_no, excluded.id_number_hash, excluded.phone_hash,
           excluded.guardian_phone_hash, excluded.is_student, true)
    returning (xmax = 0) as inserted`);
  const inserted = result.rows.filter((row) => row.inserted).length;
  const updated = result.rows.length - inserted;
  return { inserted, updated, unchanged: rows.length - result.rows.length };
}

/** Marks the school's rows whose card numbers are not in `keepCardNos` as left (an import's option). */
export async function markRosterEntriesLeft(
  db: Executor,
  schoolId: string,
  keepCardNos: string[],
  now: Date,
): Promise<number> {
  const result = await db.execute(sql`
    update roster_entries set left_at = ${now}, updated_at = ${now}
    where school_id = ${schoolId} and left_at is null and card_no <> all(${sql.param(keepCardNos)}::text[])`);
  return result.rowCount ?? 0;
}

/** The roster row of a card, unless the student has left. */
export async function findRosterEntry(
  db: Executor,
  schoolId: string,
  cardNo: string,
): Promise<RosterEntryRow | undefined> {
  const [row] = await db
    .select()
    .from(rosterEntries)
    .where(
      and(
        eq(rosterEntries.schoolId, schoolId),
        eq(rosterEntries.cardNo, cardNo),
        isNull(rosterEntries.leftAt),
      ),
    );
  return row;
}

/** Rows of people with this ID number (keyed hash), e.g. a student whose card was replaced has two. */
export async function findRosterEntriesByIdNumber(
  db: Executor,
  schoolId: string,
  idNumberHash: string,
): Promise<RosterEntryRow[]> {
  return db
    .select()
    .from(rosterEntries)
    .where(
      and(
        eq(rosterEntries.schoolId, schoolId),
        eq(rosterEntries.idNumberHash, idNumberHash),
        isNull(rosterEntries.leftAt),
      ),
    );
}

/** Rows whose own phone or whose guardian's phone is this one (keyed hash); `asGuardian` says which. */
export async function findRosterEntriesByPhone(
  db: Executor,
  schoolId: string,
  phoneHash: string,
): Promise<Array<RosterEntryRow & { asGuardian: boolean }>> {
  const rows = await db
    .select()
    .from(rosterEntries)
    .where(
      and(
        eq(rosterEntries.schoolId, schoolId),
        or(eq(rosterEntries.phoneHash, phoneHash), eq(rosterEntries.guardianPhoneHash, phoneHash)),
        isNull(rosterEntries.leftAt),
      ),
    );
  return rows.map((row) => ({ ...row, asGuardian: row.phoneHash !== phoneHash }));
}

/** Which of these schools have a roster (any row of a student who has not left). */
export async function schoolsWithRoster(db: Executor, schoolIds: string[]): Promise<Set<string>> {
  if (schoolIds.length === 0) return new Set();
  const { rows } = await db.execute<{ id: string }>(sql`
    select s.id from unnest(${sql.param(schoolIds)}::uuid[]) as s(id)
    where exists (select 1 from roster_entries r where r.school_id = s.id and r.left_at is null)`);
  return new Set(rows.map((row) => String(row.id)));
}
