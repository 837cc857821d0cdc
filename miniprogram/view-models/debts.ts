import type { DebtView, DebtsResponse } from '../shared/api';
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
  /** Whose card (a parent of several children sees which child) and where. */
  whoText: string;
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
      whoText: debt.holderName
        ? `${debt.holderName}的卡 · 尾号${debt.cardNo.slice(-4)}`
        : `卡号 ${debt.cardNo}`,
      terminalText: isCampusCode
        ? `校园码 · ${debt.place ?? debt.terminalId ?? ''}`
        : (debt.place ?? (debt.terminalId ? `终端 ${debt.terminalId}` : '食堂刷卡')),
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

export interface DebtGroup {
  schoolId: string;
  schoolName: string;
  totalText: string;
  repayText: string;
  rows: DebtRow[];
  /** An unpaid repayment of this school already created: paying it again reuses it. */
  pending: { repaymentId: string; tradeNo: string } | null;
}

/** One group per school: a repayment settles one school's debts (each school is its own Alipay merchant). */
export function toDebtGroups(debts: DebtsResponse): DebtGroup[] {
  return debts.schools.map((school) => {
    const items = debts.items.filter((debt) => debt.school.id === school.schoolId);
    const pending = school.pendingRepayment;
    return {
      schoolId: school.schoolId,
      schoolName: school.schoolName,
      totalText: formatFen(school.totalFen),
      repayText: `支付宝还款 ${formatFen(school.totalFen)}`,
      rows: toDebtRows(items),
      pending:
        pending && pending.tradeNo ? { repaymentId: pending.repaymentId, tradeNo: pending.tradeNo } : null,
    };
  });
}
