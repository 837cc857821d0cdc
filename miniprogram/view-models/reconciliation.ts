/**
 * Reconciliation (对账, issue 17) as the school's admins read it: a month of days on a calendar (balanced,
 * open findings, waiting for Alipay's bill), a day's totals per kind and its findings with the repairs the
 * person's role may run. Pure functions over shared/admin-api.ts.
 */
import type {
  AdminRole,
  ReconciliationDayResponse,
  ReconciliationDaySummary,
  ReconciliationFindingView,
} from '../shared/admin-api';
import { formatBeijingDateTime, formatFen } from '../shared/format';
import {
  FINDING_ACTION_LABELS_ZH,
  FINDING_RESOLUTION_LABELS_ZH,
  dayStateLabel,
  reconciliationKindLabel,
} from '../shared/reconciliation';

/** The inbox kind whose actions are a finding's repairs (POST …/inbox/reconciliation.finding/:id/:repair). */
export const FINDING_INBOX_KIND = 'reconciliation.finding';

// ---- calendar ---------------------------------------------------------------------------------------------

export type DayTone = 'balanced' | 'open' | 'waiting' | 'none' | 'future';

export interface CalendarCell {
  key: string;
  /** yyyy-MM-dd; '' for the blanks before the 1st and after the last day. */
  date: string;
  dayOfMonth: string;
  /** 已平, 3 条差异 …, or '' for a day that was not reconciled. */
  label: string;
  tone: DayTone;
  /** A reconciled (or waiting) day opens its detail. */
  canOpen: boolean;
}

export interface CalendarMonth {
  /** yyyy-MM */
  month: string;
  title: string;
  weeks: Array<{ key: string; cells: CalendarCell[] }>;
  /** "本月 28 天已平，2 天有差异" */
  summary: string;
  hasNext: boolean;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** The last day that can have a bill: yesterday, Beijing time (yyyy-MM-dd). */
export function lastBillDay(now: Date): string {
  return new Date(now.getTime() + 8 * 3_600_000 - 86_400_000).toISOString().slice(0, 10);
}

/** The month before or after `month` (yyyy-MM). */
export function shiftMonth(month: string, by: number): string {
  const [y, m] = month.split('-').map(Number);
  const index = y * 12 + (m - 1) + by;
  return `${Math.floor(index / 12)}-${pad((index % 12) + 1)}`;
}

/** [first, last] day of a month, yyyy-MM-dd. */
export function monthRange(month: string): { from: string; to: string } {
  const [y, m] = month.split('-').map(Number);
  const days = new Date(Date.UTC(y, m, 0)).getUTCDate();
  return { from: `${month}-01`, to: `${month}-${pad(days)}` };
}

function tone(day: ReconciliationDaySummary | undefined): DayTone {
  if (!day) return 'none';
  if (day.status !== 'MATCHED') return 'waiting';
  return day.balanced ? 'balanced' : 'open';
}

function shortLabel(day: ReconciliationDaySummary): string {
  if (day.status === 'MATCHED' && !day.balanced && day.openFindings > 0) return `${day.openFindings} 条差异`;
  if (day.status === 'MATCHED' && !day.balanced) return '未平';
  return dayStateLabel(day).replace('等待支付宝账单', '等账单');
}

/**
 * The month as weeks Monday to Sunday. `lastDay` is the latest day that can have a bill (yesterday,
 * Beijing): later days are drawn without a state.
 */
export function calendarMonth(
  month: string,
  days: readonly ReconciliationDaySummary[],
  lastDay: string,
): CalendarMonth {
  const byDate = new Map(days.map((d) => [d.billDate, d]));
  const { to } = monthRange(month);
  const count = Number(to.slice(8));
  const [y, m] = month.split('-').map(Number);
  const firstWeekday = (new Date(Date.UTC(y, m - 1, 1)).getUTCDay() + 6) % 7; // Monday = 0
  const cells: CalendarCell[] = [];
  for (let i = 0; i < firstWeekday; i += 1)
    cells.push({ key: `b${i}`, date: '', dayOfMonth: '', label: '', tone: 'none', canOpen: false });
  let balanced = 0;
  let open = 0;
  for (let d = 1; d <= count; d += 1) {
    const date = `${month}-${pad(d)}`;
    const day = byDate.get(date);
    const t: DayTone = day ? tone(day) : date > lastDay ? 'future' : 'none';
    if (t === 'balanced') balanced += 1;
    if (t === 'open') open += 1;
    cells.push({
      key: date,
      date,
      dayOfMonth: String(d),
      label: day ? shortLabel(day) : '',
      tone: t,
      canOpen: day !== undefined,
    });
  }
  while (cells.length % 7 !== 0)
    cells.push({
      key: `a${cells.length}`,
      date: '',
      dayOfMonth: '',
      label: '',
      tone: 'none',
      canOpen: false,
    });
  const weeks = [];
  for (let i = 0; i < cells.length; i += 7) weeks.push({ key: `w${i / 7}`, cells: cells.slice(i, i + 7) });
  return {
    month,
    title: `${y}年${m}月`,
    weeks,
    summary: days.length === 0 ? '这个月还没有对账记录' : `已平 ${balanced} 天，有差异 ${open} 天`,
    hasNext: monthRange(month).to < lastDay,
  };
}

// ---- one day ----------------------------------------------------------------------------------------------

export interface TotalsRow {
  key: string;
  kind: string;
  rows: string;
  ours: string;
  alipay: string;
  vendor: string;
  difference: string;
  /** The difference is not zero. */
  isOff: boolean;
  fee: string;
  /** 分润 ours and Alipay's, when the kind has any ('' otherwise). */
  royalty: string;
  /** Our royalty and Alipay's differ. */
  royaltyOff: boolean;
}

/** Days reconciled before royalty was compared have no royalty of ours: nothing to show then. */
function royaltyLine(figures: { royaltyFen: number; oursRoyaltyFen?: number }) {
  const ours = figures.oursRoyaltyFen;
  if (ours === undefined || (ours === 0 && figures.royaltyFen === 0))
    return { royalty: '', royaltyOff: false };
  return {
    royalty: `分润 平台 ${formatFen(ours)} · 支付宝 ${formatFen(figures.royaltyFen)}`,
    royaltyOff: ours !== figures.royaltyFen,
  };
}

export interface DayHeader {
  title: string;
  state: string;
  tone: DayTone;
  facts: string[];
}

export function toDayHeader(day: ReconciliationDayResponse): DayHeader {
  const vendor = day.totals?.vendor;
  return {
    title: `${day.billDate} 对账`,
    state: dayStateLabel(day),
    tone: tone(day),
    facts: [
      `支付宝账单 ${day.billRows} 行 · 差异 ${day.findings} 条（待处理 ${day.openFindings}）`,
      vendor ? `一卡通：平台 ${formatFen(vendor.oursFen)} / 一卡通 ${formatFen(vendor.vendorFen)}` : '',
      vendor && vendor.uncheckedCards > 0 ? `还有 ${vendor.uncheckedCards} 张卡未向一卡通核对` : '',
      day.lastError ? `上次结果：${day.lastError}` : '',
      day.matchedAt ? `对账时间 ${formatBeijingDateTime(day.matchedAt, { seconds: true })}` : '',
    ].filter(Boolean),
  };
}

export function toTotalsRows(day: ReconciliationDayResponse): TotalsRow[] {
  if (!day.totals) return [];
  const rows = day.totals.kinds.map((k) => ({
    key: k.kind,
    kind: reconciliationKindLabel(k.kind),
    rows: `${k.rows} 笔`,
    ours: formatFen(k.oursFen),
    alipay: formatFen(k.alipayFen),
    vendor: k.vendorFen === null ? '—' : formatFen(k.vendorFen),
    difference: formatFen(k.differenceFen),
    isOff: k.differenceFen !== 0,
    fee: formatFen(k.feeFen),
    ...royaltyLine(k),
  }));
  const all = day.totals.all;
  rows.push({
    key: 'ALL',
    kind: '合计（收款减退款）',
    rows: `${day.billRows} 行`,
    ours: formatFen(all.oursFen),
    alipay: formatFen(all.alipayFen),
    vendor: formatFen(day.totals.vendor.vendorFen),
    difference: formatFen(all.differenceFen),
    isOff: all.differenceFen !== 0,
    fee: formatFen(all.feeFen),
    ...royaltyLine(all),
  });
  return rows;
}

export const REPAIR_LABELS_ZH: Readonly<Record<string, string>> = {
  'apply-payment': '补记收款',
  're-credit': '重新入账',
  'mark-handled': '标记已处理',
};

/** What the confirmation says before a repair that moves money. */
export const REPAIR_CONFIRM_ZH: Readonly<Record<string, string>> = {
  'apply-payment': '按支付宝的收款补记这笔订单（与支付宝通知同一流程），之后自动向一卡通入账，不会重复入账。',
  're-credit': '用原流水号再向一卡通入账一次；一卡通同一流水号只入账一次，不会重复入账。',
};

export interface FindingRow {
  key: string;
  id: string;
  title: string;
  /** 核查 · 充值 R2026… */
  brief: string;
  amounts: string;
  isOpen: boolean;
  outcome: string;
  repairs: Array<{ name: string; label: string; needsReason: boolean }>;
}

function fen(value: number | null): string {
  return value === null ? '无' : formatFen(value);
}

/** Only STAFF and OWNER repair; the server checks the role again. */
export function toFindingRow(f: ReconciliationFindingView, role: AdminRole): FindingRow {
  const canRepair = role !== 'VIEWER';
  return {
    key: f.id,
    id: f.id,
    title: f.title,
    brief: [
      FINDING_ACTION_LABELS_ZH[f.action] ?? f.action,
      `${reconciliationKindLabel(f.recordKind)} ${f.outTradeNo}`,
      f.cardNo ? `卡号 ${f.cardNo}` : '',
    ]
      .filter(Boolean)
      .join(' · '),
    amounts: `平台 ${fen(f.oursFen)} / 支付宝 ${fen(f.alipayFen)}${f.vendorFen === null ? '' : ` / 一卡通 ${fen(f.vendorFen)}`}`,
    isOpen: f.status === 'OPEN',
    outcome:
      f.status === 'OPEN'
        ? '待处理'
        : [
            FINDING_RESOLUTION_LABELS_ZH[f.resolution ?? ''] ?? f.resolution ?? '',
            f.note ?? '',
            formatBeijingDateTime(f.resolvedAt),
          ]
            .filter(Boolean)
            .join(' · '),
    repairs: canRepair
      ? f.repairs.map((name) => ({
          name,
          label: REPAIR_LABELS_ZH[name] ?? name,
          needsReason: name === 'mark-handled',
        }))
      : [],
  };
}
