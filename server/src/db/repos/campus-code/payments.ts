import { and, asc, between, eq, inArray } from 'drizzle-orm';
import type pg from 'pg';
import { wakeDrainers } from '../../wakeups.js';
import type { Executor } from '../../client.js';
import {
  CAMPUS_CODE_OWNING_STATUSES,
  campusCodeAttempts,
  campusCodePayments,
  type CAMPUS_CODE_STATUSES,
} from '../../schema.js';

export type CampusCodePaymentRow = typeof campusCodePayments.$inferSelect;
export type CampusCodeStatus = (typeof CAMPUS_CODE_STATUSES)[number];

/** Uploads announce accepted payments here; the pay drainers LISTEN (jobs/campus-code/campus-code-pay.ts). */
export const CAMPUS_CODE_DUE_CHANNEL = 'campus_code_due';

export function signalCampusCodesDue(pool: pg.Pool): void {
  wakeDrainers(pool, CAMPUS_CODE_DUE_CHANNEL);
}

export interface NewCampusCodePayment {
  paymentNo: string;
  txnNo: string;
  terminalId: string;
  codeHash: string;
  finalDataEnc: string | null;
  templateId: number | null;
  schoolNo: string | null;
  cardType: string | null;
  studentNo: string | null;
  studentName: string | null;
  amountFen: number;
  generatedAt: Date | null;
  scannedAt: Date;
  isLate: boolean;
  status: 'PENDING' | 'EXPIRED' | 'REJECTED' | 'DUPLICATE_CODE';
  rejectReason: string | null;
}

/** What an upload needs to know of a stored payment to answer a repeat of its txnNo. */
export interface StoredUpload {
  txnNo: string;
  paymentNo: string;
  codeHash: string;
  amountFen: number;
  status: CampusCodeStatus;
  rejectReason: string | null;
  isLate: boolean;
}

const storedUpload = {
  txnNo: campusCodePayments.txnNo,
  paymentNo: campusCodePayments.paymentNo,
  codeHash: campusCodePayments.codeHash,
  amountFen: campusCodePayments.amountFen,
  status: campusCodePayments.status,
  rejectReason: campusCodePayments.rejectReason,
  isLate: campusCodePayments.isLate,
};

/**
 * One statement for a whole batch: the rows as arrays, unnested. A row whose (school, txnNo) exists, or
 * whose code another accepted payment owns (the partial unique index on code_hash), is skipped, under
 * concurrency too: the loser waits for the winner's commit and then skips. Returns the txnNos inserted.
 * Accepted rows are due at once (next_attempt_at = now) under their payment number.
 */
export async function insertUploads(
  pool: pg.Pool,
  batch: { schoolId: string; gatewayClientId: string; now: Date; rows: NewCampusCodePayment[] },
): Promise<Set<string>> {
  const column = <K extends keyof NewCampusCodePayment>(key: K) => batch.rows.map((row) => row[key]);
  const times = (key: 'generatedAt' | 'scannedAt') =>
    batch.rows.map((row) => row[key]?.toISOString() ?? null);
  const { rows } = await pool.query<{ txn_no: string }>({
    name: 'insert_campus_code_uploads',
    text: `
      insert into campus_code_payments (
        school_id, gateway_client_id, payment_no, txn_no, terminal_id, code_hash, final_data_enc,
        template_id, school_no, card_type, student_no, student_name, amount_fen, generated_at, scanned_at,
        is_late, status, reject_reason, out_trade_no, next_attempt_at, created_at, updated_at)
      select $1, $2, u.payment_no, u.txn_no, u.terminal_id, u.code_hash, u.final_data_enc, u.template_id,
        u.school_no, u.card_type, u.student_no, u.student_name, u.amount_fen, u.generated_at, u.scanned_at,
        u.is_late, u.status, u.reject_reason,
        case when u.status = 'PENDING' then u.payment_no end,
        case when u.status = 'PENDING' then $3::timestamptz end,
        $3, $3
      from unnest($4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::int[], $10::text[],
        $11::text[], $12::text[], $13::text[], $14::int[], $15::timestamptz[], $16::timestamptz[],
        $17::bool[], $18::text[], $19::text[])
        with ordinality as u(payment_no, txn_no, terminal_id, code_hash, final_data_enc, template_id,
          school_no, card_type, student_no, student_name, amount_fen, generated_at, scanned_at, is_late,
          status, reject_reason, position)
      order by u.position
      on conflict do nothing
      returning txn_no`,
    values: [
      batch.schoolId,
      batch.gatewayClientId,
      batch.now,
      column('paymentNo'),
      column('txnNo'),
      column('terminalId'),
      column('codeHash'),
      column('finalDataEnc'),
      column('templateId'),
      column('schoolNo'),
      column('cardType'),
      column('studentNo'),
      column('studentName'),
      column('amountFen'),
      times('generatedAt'),
      times('scannedAt'),
      column('isLate'),
      column('status'),
      column('rejectReason'),
    ],
  });
  return new Set(rows.map((row) => row.txn_no));
}

export async function findUploads(db: Executor, schoolId: string, txnNos: string[]): Promise<StoredUpload[]> {
  if (txnNos.length === 0) return [];
  return db
    .select(storedUpload)
    .from(campusCodePayments)
    .where(and(eq(campusCodePayments.schoolId, schoolId), inArray(campusCodePayments.txnNo, txnNos)));
}

export async function findPaymentByTxn(
  db: Executor,
  schoolId: string,
  txnNo: string,
): Promise<CampusCodePaymentRow | undefined> {
  const [row] = await db
    .select()
    .from(campusCodePayments)
    .where(and(eq(campusCodePayments.schoolId, schoolId), eq(campusCodePayments.txnNo, txnNo)));
  return row;
}

export async function listPaymentAttempts(db: Executor, paymentId: string) {
  return db
    .select()
    .from(campusCodeAttempts)
    .where(eq(campusCodeAttempts.paymentId, paymentId))
    .orderBy(asc(campusCodeAttempts.id));
}

/** A student's accepted campus-code payments scanned in [from, to], for the card's statement. */
export async function listStudentPayments(
  db: Executor,
  student: { schoolId: string; studentNo: string },
  from: Date,
  to: Date,
): Promise<CampusCodePaymentRow[]> {
  return db
    .select()
    .from(campusCodePayments)
    .where(
      and(
        eq(campusCodePayments.schoolId, student.schoolId),
        eq(campusCodePayments.studentNo, student.studentNo),
        inArray(campusCodePayments.status, [...CAMPUS_CODE_OWNING_STATUSES]),
        between(campusCodePayments.scannedAt, from, to),
      ),
    );
}

export async function findPayment(db: Executor, id: string): Promise<CampusCodePaymentRow | undefined> {
  const [row] = await db.select().from(campusCodePayments).where(eq(campusCodePayments.id, id));
  return row;
}
