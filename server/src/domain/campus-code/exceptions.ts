import {
  countExceptions,
  listExceptionRows,
  type CampusCodeExceptionKind,
  type CampusCodeExceptionRow,
} from '../../db/repos/campus-code/exceptions.js';
import type { Deps } from '../../deps.js';

export type { CampusCodeExceptionKind };

/** One campus-code payment an admin should act on, with who to chase: the device, or the student. */
export interface CampusCodeException {
  kind: CampusCodeExceptionKind;
  paymentNo: string;
  txnNo: string;
  /** PENDING … SETTLED for accepted payments; EXPIRED for those refused as too old. */
  status: string;
  amountFen: number;
  /** The uploading gateway client (its name as the operator registered it) and the till. */
  device: { clientId: string; name: string | null; terminalId: string };
  scannedAt: string;
  uploadedAt: string;
  /** When the student's phone made the code (in_use_time). */
  generatedAt: string | null;
  /** Hours from the code being made to its upload (late beyond the school's threshold, default 24). */
  uploadDelayHours: number | null;
  /** From the code: the student, to recover a FAILED payment (a debt of theirs when they have bound the card). */
  student: { studentNo: string | null; studentName: string | null };
  /** Why Alipay refused a FAILED payment (e.g. ACQ.PAYMENT_AUTH_CODE_INVALID, CODE_EXPIRED). */
  reason: string | null;
  failedAt: string | null;
}

export interface CampusCodeExceptionPage {
  items: CampusCodeException[];
  /** Pass as `before` for the next (older) page; null at the end. */
  nextBefore: string | null;
}

const HOUR_MS = 3_600_000;

function view(kind: CampusCodeExceptionKind, row: CampusCodeExceptionRow): CampusCodeException {
  return {
    kind,
    paymentNo: row.paymentNo,
    txnNo: row.txnNo,
    status: row.status,
    amountFen: row.amountFen,
    device: { clientId: row.gatewayClientId, name: row.deviceName, terminalId: row.terminalId },
    scannedAt: row.scannedAt.toISOString(),
    uploadedAt: row.createdAt.toISOString(),
    generatedAt: row.generatedAt?.toISOString() ?? null,
    uploadDelayHours: row.generatedAt
      ? Math.round(((row.createdAt.getTime() - row.generatedAt.getTime()) / HOUR_MS) * 10) / 10
      : null,
    student: { studentNo: row.studentNo, studentName: row.studentName },
    reason: row.status === 'FAILED' ? row.lastErrorCode : row.rejectReason,
    failedAt: row.failedAt?.toISOString() ?? null,
  };
}

export async function listCampusCodeExceptions(
  deps: Pick<Deps, 'db'>,
  schoolId: string,
  kind: CampusCodeExceptionKind,
  page: { before?: string; limit: number },
): Promise<CampusCodeExceptionPage> {
  const rows = await listExceptionRows(deps.db, schoolId, kind, { beforeId: page.before, limit: page.limit });
  return {
    items: rows.map((row) => view(kind, row)),
    nextBefore: rows.length === page.limit ? rows[rows.length - 1].id : null,
  };
}

/** How many of each kind the school has, for the admin's overview. */
export function campusCodeExceptionCounts(
  deps: Pick<Deps, 'db'>,
  schoolId: string,
): Promise<Record<CampusCodeExceptionKind, number>> {
  return countExceptions(deps.db, schoolId);
}
