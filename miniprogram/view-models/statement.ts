import type { StatementEntry } from '../shared/api';
import {
  campusCodeStatusLabel,
  formatBeijingDateTime,
  formatFen,
  formatSignedFen,
  rechargeStatusLabel,
  statementKindLabel,
} from '../shared/format';

export interface StatementRow {
  id: string;
  title: string;
  place: string;
  timeText: string;
  amountText: string;
  amountClass: string;
  balanceText: string;
  /** A recharge not yet on the card says so ("已支付，正在入账"), a campus-code payment its state; else empty. */
  stateText: string;
}

export function toStatementRows(entries: StatementEntry[]): StatementRow[] {
  return entries.map((entry) => ({
    id: entry.id,
    title: statementKindLabel(entry.kind),
    place: entry.place ?? '',
    timeText: formatBeijingDateTime(entry.occurredAt),
    amountText: formatSignedFen(entry.amountFen),
    amountClass: entry.amountFen > 0 ? 'amount amount-in' : 'amount amount-out',
    balanceText: entry.balanceAfterFen === null ? '' : `余额 ${formatFen(entry.balanceAfterFen)}`,
    stateText: entry.campusCodeStatus
      ? campusCodeStatusLabel(entry.campusCodeStatus)
      : entry.rechargeStatus && entry.rechargeStatus !== 'CREDITED'
        ? rechargeStatusLabel(entry.rechargeStatus)
        : '',
  }));
}
