import type { CampusCodePaymentDetail } from '../../../../shared/gateway-api.js';
import { findPaymentByTxn, listPaymentAttempts } from '../../db/repos/campus-code/payments.js';
import type { Deps } from '../../deps.js';
import { DomainError } from '../errors.js';

/** A device asks what became of one of its uploads (`GET /gateway/v1/campus-code/payments/:txnNo`). */
export async function campusCodePaymentDetail(
  deps: Pick<Deps, 'db'>,
  schoolId: string,
  txnNo: string,
): Promise<CampusCodePaymentDetail> {
  const row = await findPaymentByTxn(deps.db, schoolId, txnNo);
  if (!row) throw new DomainError('CAMPUS_CODE_PAYMENT_NOT_FOUND');
  const attempts = await listPaymentAttempts(deps.db, row.id);
  const status = row.status;
  return {
    txnNo: row.txnNo,
    paymentNo: row.paymentNo,
    result:
      status === 'EXPIRED' || status === 'REJECTED' || status === 'DUPLICATE_CODE' ? status : 'ACCEPTED',
    ...(row.rejectReason ? { reason: row.rejectReason } : {}),
    status,
    amountFen: row.amountFen,
    terminalId: row.terminalId,
    scannedAt: row.scannedAt.toISOString(),
    uploadedAt: row.createdAt.toISOString(),
    generatedAt: row.generatedAt?.toISOString() ?? null,
    late: row.isLate,
    attempts: attempts.map((a) => ({
      attemptNo: a.attemptNo,
      outcome: a.outcome,
      code: a.alipaySubCode ?? a.alipayCode,
      at: a.createdAt.toISOString(),
    })),
    nextAttemptAt: row.nextAttemptAt?.toISOString() ?? null,
    paidAt: row.paidAt?.toISOString() ?? null,
    failedAt: row.failedAt?.toISOString() ?? null,
  };
}
