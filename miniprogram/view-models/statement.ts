import type { ReceiptView, StatementEntry } from '../shared/api';
import {
  deductionFailureReason,
  formatBeijingDate,
  formatBeijingDateTime,
  formatFen,
  formatSignedFen,
  receiptEventLabel,
  statementKindLabel,
  statementStatusLabel,
} from '../shared/format';

export interface StatementRow {
  id: string;
  title: string;
  place: string;
  timeText: string;
  amountText: string;
  amountClass: string;
  balanceText: string;
  /** Our record's state when it is not simply done ("已支付，正在入账", "欠款待还"); else empty. */
  stateText: string;
}

/** States that need no words on the row: the money simply went where it should. */
const SETTLED_STATES = new Set(['CREDITED', 'COLLECTED', 'PAID', 'SUCCEEDED']);

/** A repayment pays for swipes already listed: its amount reads without a sign, neither in nor out. */
function amountOf(entry: StatementEntry): { text: string; className: string } {
  if (entry.kind === 'REPAYMENT')
    return { text: formatFen(entry.amountFen), className: 'amount amount-neutral' };
  return {
    text: formatSignedFen(entry.amountFen),
    className: entry.amountFen > 0 ? 'amount amount-in' : 'amount amount-out',
  };
}

export function toStatementRows(entries: StatementEntry[]): StatementRow[] {
  return entries.map((entry) => {
    const amount = amountOf(entry);
    return {
      id: entry.id,
      title: statementKindLabel(entry.kind),
      place: entry.place ?? '',
      timeText: formatBeijingDateTime(entry.occurredAt),
      amountText: amount.text,
      amountClass: amount.className,
      balanceText: entry.balanceAfterFen === null ? '' : `余额 ${formatFen(entry.balanceAfterFen)}`,
      stateText:
        entry.status && !SETTLED_STATES.has(entry.status)
          ? statementStatusLabel(entry.kind, entry.status)
          : '',
    };
  });
}

/** The date-range choices of the statement page; the card system allows up to `maxDays`. */
export const RANGE_PRESETS: Array<{ text: string; value: string; days: number }> = [
  { text: '近 7 天', value: '7', days: 7 },
  { text: '近 30 天', value: '30', days: 30 },
  { text: '近 3 个月', value: '92', days: 92 },
  { text: '近 1 年', value: '365', days: 365 },
];

const DAY_MS = 86_400_000;
const BEIJING_OFFSET_MS = 8 * 3_600_000;

/** A Beijing calendar day "2024-09-01" → the instant it starts (from) or ends (to). */
export function beijingDayBound(day: string, end: boolean): Date | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!match) return null;
  const start = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) - BEIJING_OFFSET_MS;
  return new Date(end ? start + DAY_MS - 1 : start);
}

/** The window of a preset, ending now. */
export function presetRange(days: number, now: Date): { from: string; to: string } {
  return { from: new Date(now.getTime() - days * DAY_MS).toISOString(), to: now.toISOString() };
}

/** A typed range of Beijing days; an error in Chinese when it is backwards or longer than allowed. */
export function customRange(
  fromDay: string,
  toDay: string,
  maxDays: number,
): { from: string; to: string; error: string } {
  const from = beijingDayBound(fromDay, false);
  const to = beijingDayBound(toDay, true);
  if (!from || !to) return { from: '', to: '', error: '请选择开始和结束日期' };
  if (from > to) return { from: '', to: '', error: '开始日期不能晚于结束日期' };
  if (to.getTime() - from.getTime() > maxDays * DAY_MS)
    return { from: '', to: '', error: `学校一卡通最多查询 ${maxDays} 天的账单` };
  return { from: from.toISOString(), to: to.toISOString(), error: '' };
}

export function rangeText(range: { from: string; to: string }): string {
  return `${formatBeijingDate(range.from)} 至 ${formatBeijingDate(range.to)}`;
}

export interface ReceiptPage {
  title: string;
  amountText: string;
  statusText: string;
  fields: Array<{ label: string; value: string }>;
  timeline: Array<{ time: string; text: string }>;
}

/** A receipt as the page lists it: the fields it has, in a fixed order, and its timeline. */
export function toReceiptPage(receipt: ReceiptView): ReceiptPage {
  const fields: Array<[string, string | null]> = [
    ['持卡人', receipt.holderName],
    ['卡号', receipt.cardNo],
    ['时间', formatBeijingDateTime(receipt.occurredAt, { seconds: true })],
    ['地点', receipt.place],
    ['订单号', receipt.orderNo],
    ['支付宝交易号', receipt.alipayTradeNo],
    ['一卡通流水号', receipt.vendorSerial],
    ['交易参考号', receipt.reference],
  ];
  return {
    title: statementKindLabel(receipt.kind),
    amountText:
      receipt.kind === 'REPAYMENT' ? formatFen(receipt.amountFen) : formatSignedFen(receipt.amountFen),
    statusText: statementStatusLabel(receipt.kind, receipt.status),
    fields: fields
      .filter((field): field is [string, string] => !!field[1])
      .map(([label, value]) => ({ label, value })),
    timeline: receipt.timeline.map((event) => ({
      time: formatBeijingDateTime(event.at, { seconds: true }),
      text: eventText(event.event, event.detail),
    })),
  };
}

/** An Alipay charge attempt says how it went in words; other steps add their detail as given. */
function eventText(event: string, detail: string | null): string {
  const label = receiptEventLabel(event);
  if (event === 'ATTEMPT')
    return `${label}：${detail === 'PAID' || !detail ? '成功' : deductionFailureReason(detail)}`;
  return detail ? `${label}（${detail}）` : label;
}
