import {
  findPayment,
  listPaymentAttempts,
  listStudentPayments,
  type CampusCodePaymentRow,
} from '../../db/repos/campus-code/payments.js';
import type { Deps } from '../../deps.js';
import { placeNames } from '../cards/statement/places.js';
import { isUuid, step, type SourcedEntry, type StatementSource } from '../cards/statement/sources.js';

/**
 * Campus-code payments of the card's student (DESIGN §7.5: the device said "paid" offline, Alipay is charged
 * afterwards), matched by the student number the card system reports, with their state.
 */

const SHOWN = new Set(['PENDING', 'RETRYING', 'PAID', 'FAILED', 'SETTLED']);

async function entries(deps: Deps, rows: CampusCodePaymentRow[]): Promise<SourcedEntry[]> {
  const place = await placeNames(deps.db, rows);
  return rows.map((row) => ({
    id: `campus-code:${row.id}`,
    occurredAt: row.scannedAt.toISOString(),
    kind: 'CAMPUS_CODE',
    amountFen: -row.amountFen,
    balanceAfterFen: null,
    place: place(row),
    status: row.status,
    orderNo: row.paymentNo,
  }));
}

export const campusCodeStatementSource: StatementSource = {
  name: 'campus-code',

  async entries(deps, card, window) {
    if (!card.studentNo) return [];
    const rows = await listStudentPayments(
      deps.db,
      { schoolId: card.schoolId, studentNo: card.studentNo },
      window.from,
      window.to,
    );
    return entries(deps, rows);
  },

  async receipt(deps, card, key) {
    const row = isUuid(key) ? await findPayment(deps.db, key) : undefined;
    if (!row || !card.studentNo || row.schoolId !== card.schoolId || row.studentNo !== card.studentNo)
      return null;
    if (!SHOWN.has(row.status)) return null;
    const [entry] = await entries(deps, [row]);
    const attempts = await listPaymentAttempts(deps.db, row.id);
    return {
      ...entry,
      alipayTradeNo: row.alipayTradeNo,
      vendorSerial: null,
      reference: row.txnNo,
      timeline: [
        ...step('SCANNED', row.scannedAt),
        ...attempts.map((a) => ({
          at: a.createdAt.toISOString(),
          event: 'ATTEMPT',
          detail: a.alipaySubCode ?? a.alipayCode ?? a.outcome,
        })),
        ...step('PAID', row.paidAt),
        ...step('FAILED', row.failedAt, row.lastErrorCode),
        ...step('SETTLED', row.settledAt),
      ],
    };
  },
};
