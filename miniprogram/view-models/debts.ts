import type { DebtView } from '../shared/api';
import {
  deductionFailureReason,
  deductionStatusLabel,
  formatBeijingDateTime,
  formatFen,
} from '../shared/format';

export interface DebtRow {
  id: string;
  amountText: string;
  timeText: string;
  terminalText: string;
  reasonText: string;
  statusLabel: string;
  detailText: string;
}

export function toDebtRows(items: DebtView[]): DebtRow[] {
  return items.map((debt) => ({
    id: debt.deductionId,
    amountText: formatFen(debt.amountFen),
    timeText: formatBeijingDateTime(debt.occurredAt),
    terminalText: debt.terminalId ? `终端 ${debt.terminalId}` : '食堂刷卡',
    reasonText: deductionFailureReason(debt.lastErrorCode),
    statusLabel: deductionStatusLabel(debt.status),
    detailText:
      debt.status === 'RETRYING' && debt.nextAttemptAt
        ? `已尝试 ${debt.attempts} 次，下次自动扣款 ${formatBeijingDateTime(debt.nextAttemptAt)}`
        : `已尝试 ${debt.attempts} 次，请手动还款`,
  }));
}
