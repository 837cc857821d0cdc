/**
 * How reconciliation (issue 17) reads to the school's finance office, in Chinese: the kinds of trade in a
 * day's totals, what a finding calls for and how it was resolved. Used by the admin pages and the XLSX
 * export alike; finding titles come from the server (domain/reconciliation/findings.ts).
 */

/** The kinds of a day's totals (the record sources' kinds, REFUND, UNKNOWN: none of ours). */
export const RECONCILIATION_KIND_LABELS_ZH: Readonly<Record<string, string>> = {
  RECHARGE: '充值',
  DEDUCTION: '刷卡代扣',
  REPAYMENT: '欠款还款',
  CAMPUS_CODE: '校园码',
  TERMINAL: '终端订单',
  REFUND: '退款',
  UNKNOWN: '平台不认识的交易',
};

export const FINDING_ACTION_LABELS_ZH: Readonly<Record<string, string>> = {
  APPLY_PAYMENT: '补记收款',
  RECREDIT: '重新入账',
  INVESTIGATE: '核查',
  ESCALATE: '联系一卡通厂商',
};

export const FINDING_RESOLUTION_LABELS_ZH: Readonly<Record<string, string>> = {
  APPLIED: '已补记',
  RECREDITED: '已重新入账',
  HANDLED: '已处理',
  CLEARED: '重新对账后已无差异',
};

export const RECONCILIATION_DAY_STATUS_LABELS_ZH: Readonly<Record<string, string>> = {
  WAITING_FOR_BILL: '等待支付宝账单',
  MATCHED: '已对账',
  FAILED: '对账失败',
};

export function reconciliationKindLabel(kind: string): string {
  return RECONCILIATION_KIND_LABELS_ZH[kind] ?? kind;
}

/** A day in words: 已平 (balanced), N 条差异待处理, or where its run stands. */
export function dayStateLabel(day: { status: string; balanced: boolean; openFindings: number }): string {
  if (day.status !== 'MATCHED') return RECONCILIATION_DAY_STATUS_LABELS_ZH[day.status] ?? day.status;
  if (day.balanced) return '已平';
  return day.openFindings > 0 ? `${day.openFindings} 条差异待处理` : '未平（有一卡通记录未核对）';
}
