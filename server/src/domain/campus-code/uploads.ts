import { parseCampusCode } from '../../../../shared/campus-code.js';
import type {
  CampusCodeUpload,
  CampusCodeUploadAnswer,
  CampusCodeUploadItemAnswer,
  CampusCodeUploadResult,
} from '../../../../shared/gateway-api.js';
import {
  findUploads,
  insertUploads,
  signalCampusCodesDue,
  type NewCampusCodePayment,
  type StoredUpload,
} from '../../db/repos/campus-code/payments.js';
import { findSchool, type SchoolRow } from '../../db/repos/schools/schools.js';
import type { Deps } from '../../deps.js';
import { newOrderNo } from '../../lib/ids.js';
import { DomainError } from '../errors.js';

/**
 * Offline campus-code payments uploaded by campus devices (seed 001 §4–5, DESIGN §6.2, §7.5). Every payment
 * of a batch is answered on its own, in this order of rules:
 *   the school is not active                                     REJECTED SCHOOL_SUSPENDED
 *   the user data cannot be read (shared/campus-code.ts)          REJECTED <the parser's reason>
 *   school_no is another school's                                REJECTED OTHER_SCHOOL
 *   the amount is above the school's campus-code maximum         REJECTED AMOUNT_OUT_OF_LIMITS
 *   scannedAt lies in the future (beyond the clock tolerance)    REJECTED BAD_SCANNED_AT
 *   made or scanned longer ago than the school's window (10 d)   EXPIRED
 *   the code was accepted before, from any device                DUPLICATE_CODE (seed 001 §4)
 *   otherwise                                                    ACCEPTED: charged afterwards (payment-charging.ts)
 * A repeated txnNo gets DUPLICATE with its first answer; the same txnNo with another code or amount is
 * REJECTED TXN_CONFLICT (and not stored). Every answered payment is stored, in one statement per batch,
 * so the answers hold under concurrent uploads of the same batch or the same code.
 */

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
/** How far a device clock may run ahead before its scannedAt is refused. */
const CLOCK_TOLERANCE_MS = 5 * 60_000;

export interface Uploader {
  clientId: string;
  schoolId: string;
}

interface Judged {
  row: NewCampusCodePayment;
  result: Exclude<CampusCodeUploadResult, 'DUPLICATE'>;
}

function judge(
  deps: Pick<Deps, 'protector' | 'clock'>,
  school: SchoolRow,
  upload: CampusCodeUpload,
  now: Date,
): Judged {
  const finalData = Buffer.from(upload.finalData, 'base64');
  const scannedAt = new Date(upload.scannedAt);
  const row: NewCampusCodePayment = {
    paymentNo: newOrderNo('campusCode', deps.clock),
    txnNo: upload.txnNo,
    terminalId: upload.terminalId,
    codeHash: deps.protector.hashBytes(finalData),
    finalDataEnc: null,
    templateId: upload.templateId,
    schoolNo: null,
    cardType: null,
    studentNo: null,
    studentName: null,
    amountFen: upload.amountFen,
    generatedAt: null,
    scannedAt,
    isLate: false,
    status: 'REJECTED',
    rejectReason: null,
  };
  const reject = (reason: string): Judged => ({ row: { ...row, rejectReason: reason }, result: 'REJECTED' });
  if (school.status !== 'ACTIVE') return reject('SCHOOL_SUSPENDED');
  const parsed = parseCampusCode({
    templateId: upload.templateId,
    userData: Buffer.from(upload.userData, 'base64'),
    encodeType: upload.encodeType,
    inUseTime: upload.inUseTime,
  });
  if (!parsed.ok) return reject(parsed.reason);
  const { user } = parsed;
  Object.assign(row, {
    schoolNo: user.schoolNo,
    cardType: user.cardType,
    studentNo: user.studentNo,
    studentName: user.studentName,
    generatedAt: user.generatedAt,
    isLate: now.getTime() - user.generatedAt.getTime() > school.campusCodeLateAfterHours * HOUR_MS,
  });
  if (user.schoolNo !== school.code) return reject('OTHER_SCHOOL');
  if (upload.amountFen > school.campusCodeMaxFen) return reject('AMOUNT_OUT_OF_LIMITS');
  if (scannedAt.getTime() > now.getTime() + CLOCK_TOLERANCE_MS) return reject('BAD_SCANNED_AT');
  const oldest = Math.min(user.generatedAt.getTime(), scannedAt.getTime());
  if (now.getTime() - oldest > school.campusCodeWindowDays * DAY_MS)
    return { row: { ...row, status: 'EXPIRED' }, result: 'EXPIRED' };
  return {
    row: { ...row, status: 'PENDING', finalDataEnc: deps.protector.encrypt(upload.finalData) },
    result: 'ACCEPTED',
  };
}

function firstResultOf(stored: StoredUpload): Exclude<CampusCodeUploadResult, 'DUPLICATE'> {
  if (stored.status === 'EXPIRED' || stored.status === 'REJECTED' || stored.status === 'DUPLICATE_CODE')
    return stored.status;
  return 'ACCEPTED';
}

function answerOf(stored: StoredUpload, result: CampusCodeUploadResult): CampusCodeUploadItemAnswer {
  return {
    txnNo: stored.txnNo,
    result,
    ...(stored.rejectReason ? { reason: stored.rejectReason } : {}),
    ...(result === 'DUPLICATE' ? { firstResult: firstResultOf(stored) } : {}),
    paymentNo: stored.paymentNo,
    status: stored.status,
    late: stored.isLate,
  };
}

function storedOf(row: NewCampusCodePayment): StoredUpload {
  return { ...row, status: row.status };
}

function isSameSale(stored: StoredUpload, row: NewCampusCodePayment): boolean {
  return stored.codeHash === row.codeHash && stored.amountFen === row.amountFen;
}

const CONFLICT = (txnNo: string): CampusCodeUploadItemAnswer => ({
  txnNo,
  result: 'REJECTED',
  reason: 'TXN_CONFLICT',
});

export async function uploadCampusCodePayments(
  deps: Pick<Deps, 'db' | 'pool' | 'protector' | 'clock'>,
  uploader: Uploader,
  uploads: CampusCodeUpload[],
): Promise<CampusCodeUploadAnswer> {
  const school = await findSchool(deps.db, uploader.schoolId);
  if (!school) throw new DomainError('SCHOOL_NOT_FOUND');
  const now = deps.clock.now();
  const judged = uploads.map((upload) => judge(deps, school, upload, now));
  const batch = { schoolId: school.id, gatewayClientId: uploader.clientId, now };

  const inserted = await insertUploads(deps.pool, { ...batch, rows: judged.map((j) => j.row) });
  // Whatever was not inserted: its txnNo exists (a repeat, here or in an earlier upload), or its code is
  // owned by another accepted payment (DUPLICATE_CODE, stored now so that a repeat gets that answer).
  // Stryker disable next-line MethodExpression: without the filter the rows just inserted are read back too; they are answered from `inserted` and their in-batch repeats from the same values, so only the query is wider
  const others = judged.filter((j) => !inserted.has(j.row.txnNo));
  const existing = new Map(
    (
      await findUploads(
        deps.db,
        school.id,
        others.map((j) => j.row.txnNo),
      )
    ).map((s) => [s.txnNo, s]),
  );
  // Stryker disable next-line LogicalOperator,ConditionalExpression: an existing txnNo tried again conflicts and is re-read unchanged; a not-accepted row here is only a later in-batch repeat of an accepted one, inserted after it (order by position) so never stored, and answered from the first
  const codeTaken = others.filter((j) => !existing.has(j.row.txnNo) && j.result === 'ACCEPTED');
  // Stryker disable next-line ConditionalExpression,EqualityOperator: with no row the block inserts nothing and reads nothing; only two empty queries are saved
  if (codeTaken.length > 0) {
    const duplicates = codeTaken.map((j) => ({
      ...j.row,
      finalDataEnc: null,
      status: 'DUPLICATE_CODE' as const,
    }));
    const stored = await insertUploads(deps.pool, { ...batch, rows: duplicates });
    // Stryker disable next-line MethodExpression: re-reading the rows stored just now as well gives the same values (DUPLICATE_CODE, no code) that answer them and their in-batch repeats; only the query is wider
    const lostRace = duplicates.filter((row) => !stored.has(row.txnNo)).map((row) => row.txnNo);
    for (const row of await findUploads(deps.db, school.id, lostRace)) existing.set(row.txnNo, row);
    for (const row of duplicates) if (stored.has(row.txnNo)) inserted.add(row.txnNo);
    // Stryker disable next-line ConditionalExpression: a row not stored here was re-read into `existing` (lostRace) and is answered from it; its own result is read only for rows in `inserted`
    for (const j of codeTaken) if (stored.has(j.row.txnNo)) j.result = 'DUPLICATE_CODE';
  }
  // Stryker disable next-line ConditionalExpression,LogicalOperator: waking the drainers with nothing new due only makes them look once more (throttled) and find nothing; they also poll
  if (judged.some((j) => j.result === 'ACCEPTED' && inserted.has(j.row.txnNo)))
    signalCampusCodesDue(deps.pool);

  // Answers in the order sent; the first occurrence of a txnNo in the batch is the one stored.
  const answered = new Set<string>();
  const results = judged.map(({ row, result }): CampusCodeUploadItemAnswer => {
    const isFirst = !answered.has(row.txnNo);
    answered.add(row.txnNo);
    if (isFirst && inserted.has(row.txnNo)) {
      const status = result === 'DUPLICATE_CODE' ? 'DUPLICATE_CODE' : row.status;
      return answerOf({ ...storedOf(row), status }, result);
    }
    const stored = existing.get(row.txnNo) ?? firstInBatch(judged, row.txnNo);
    if (!stored) return CONFLICT(row.txnNo);
    return isSameSale(stored, row) ? answerOf(stored, 'DUPLICATE') : CONFLICT(row.txnNo);
  });
  const counts: CampusCodeUploadAnswer['counts'] = {
    ACCEPTED: 0,
    DUPLICATE: 0,
    DUPLICATE_CODE: 0,
    EXPIRED: 0,
    REJECTED: 0,
  };
  for (const answer of results) counts[answer.result] += 1;
  return { results, counts };
}

/** A txnNo repeated inside one batch is answered from its first occurrence, which was the one stored. */
function firstInBatch(judged: Judged[], txnNo: string): StoredUpload | undefined {
  const first = judged.find((j) => j.row.txnNo === txnNo);
  if (!first) return undefined;
  const status = first.result === 'DUPLICATE_CODE' ? 'DUPLICATE_CODE' : first.row.status;
  return { ...storedOf(first.row), status };
}
