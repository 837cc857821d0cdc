import type { DebtView } from '../shared/api';
import {
  campusCodeStatusLabel,
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
  return items.map((debt) => {
    const isCampusCode = debt.kind === 'CAMPUS_CODE';
    return {
      id: debt.id,
      amountText: formatFen(debt.amountFen),
      timeText: formatBeijingDateTime(debt.occurredAt),
      terminalText: isCampusCode
        ? `校园码 · 终端 ${debt.terminalId ?? ''}`
        : debt.terminalId
          ? `终端 ${debt.terminalId}`
          : '食堂刷卡',
      reasonText: deductionFailureReason(debt.lastErrorCode),
      statusLabel: isCampusCode ? campusCodeStatusLabel(debt.status) : deductionStatusLabel(debt.status),
      detailText: isCampusCode
        ? '刷校园码时设备已放行，之后支付宝没有扣款成功，请手动还款'
        : debt.status === 'RETRYING' && debt.nextAttemptAt
          ? `已尝试 ${debt.attempts} 次，下次自动扣款 ${formatBeijingDateTime(debt.nextAttemptAt)}`
          : `已尝试 ${debt.attempts} 次，请手动还款`,
    };
  });
}

/** The page's hint: withholding debts block canteen swipes; campus-code debts do not. */
export function debtsHint(items: DebtView[]): string {
  const blocksSwipes = items.some((debt) => debt.kind === 'WITHHOLDING');
  return blocksSwipes
    ? '以下消费支付宝没有扣款成功。刷卡代扣的欠款还清前，食堂刷卡不能使用支付宝免密代扣。'
    : '以下校园码消费支付宝没有扣款成功，请还款。';
}

/** What repaying changes for the person: the notice under the list, and the result page's message. */
export function repaidTexts(items: DebtView[]): { notice: string; message: string } {
  return items.some((debt) => debt.kind === 'WITHHOLDING')
    ? { notice: '欠款已还清，食堂刷卡已恢复支付宝免密代扣', message: '食堂刷卡已恢复使用支付宝免密代扣。' }
    : { notice: '欠款已还清，感谢您补缴校园码消费', message: '校园码消费已补缴。' };
}
