import type {
  CampusCodeExceptionKind,
  CampusCodeExceptionView,
  CampusCodeExceptionsResponse,
} from '../../../../shared/admin-api.js';
import {
  countExceptions,
  listExceptionRows,
  type CampusCodeExceptionRow,
} from '../../db/repos/campus-code/exceptions.js';
import type { Deps } from '../../deps.js';

const HOUR_MS = 3_600_000;

/**
 * What the school's admins act on (shared/admin-api.ts): late uploads with the device, expired uploads,
 * payments Alipay refused with the student.
 */
function view(kind: CampusCodeExceptionKind, row: CampusCodeExceptionRow): CampusCodeExceptionView {
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
): Promise<CampusCodeExceptionsResponse> {
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
