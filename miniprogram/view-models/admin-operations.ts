/**
 * The admin operations pages (issue 13) as people read them: the dashboard and its 7-day trend, orders and
 * their timeline, the exceptions inbox and roster import reports. Pure functions over shared/admin-api.ts.
 */
import type {
  AdminOrderDetail,
  AdminOrderItem,
  AdminOrderKind,
  AdminRole,
  DashboardDay,
  DashboardResponse,
  InboxItem,
  InboxResponse,
  OpenWork,
  RosterImportView,
  TimelineEntry,
} from '../shared/admin-api';
import {
  deductionStatusLabel,
  formatBeijingDateTime,
  formatFen,
  rechargeStatusLabel,
  statementStatusLabel,
} from '../shared/format';
import { DECLINE_REASON_TEXT_ZH } from '../shared/gateway-api';

// ---- dashboard ------------------------------------------------------------------------------------------

export interface FigureTile {
  label: string;
  value: string;
  /** A second line: the amount, or what the count is made of. */
  hint: string;
  /** Drawn in the warning colour: something waits for a person. */
  warn: boolean;
}

export type TrendSeries = 'recharged' | 'withheld' | 'declined';

export const TREND_SERIES_OPTIONS: Array<{ text: string; value: TrendSeries }> = [
  { text: '充值金额', value: 'recharged' },
  { text: '代扣金额', value: 'withheld' },
  { text: '拒绝笔数', value: 'declined' },
];

export interface TrendBar {
  day: string;
  /** "12-01"; the last bar reads 今天. */
  label: string;
  /** 0–100: the bar's height against the week's largest day (a non-zero day is at least 2, so it shows). */
  heightPct: number;
  valueText: string;
}

export interface DashboardView {
  today: FigureTile[];
  open: FigureTile[];
  declines: Array<{ reason: string; count: number }>;
  asOf: string;
}

function openTile(label: string, work: OpenWork): FigureTile {
  return {
    label,
    value: String(work.count),
    hint:
      work.count === 0 ? '无' : `${formatFen(work.amountFen)} · 最早 ${formatBeijingDateTime(work.oldestAt)}`,
    warn: work.count > 0,
  };
}

export function toDashboardView(dashboard: DashboardResponse): DashboardView {
  const [today] = dashboard.days;
  const now = dashboard.now;
  const declines = Object.keys(today.deductions.declinedByReason)
    .map((reason) => ({
      reason: declineReasonText(reason),
      count: today.deductions.declinedByReason[reason],
    }))
    .sort((a, b) => b.count - a.count);
  return {
    today: [
      {
        label: '充值',
        value: `${today.recharges.paidCount} 笔`,
        hint: `${formatFen(today.recharges.paidFen)} · 已入账 ${today.recharges.creditedCount} · 入账失败 ${today.recharges.creditFailedCount}`,
        warn: today.recharges.creditFailedCount > 0,
      },
      {
        label: '刷卡代扣',
        value: `${today.deductions.approvedCount} 笔`,
        hint: `${formatFen(today.deductions.approvedFen)} · 拒绝 ${today.deductions.declinedCount}`,
        warn: false,
      },
      {
        label: '代扣已收款',
        value: `${today.deductions.collectedCount} 笔`,
        hint: formatFen(today.deductions.collectedFen),
        warn: false,
      },
      {
        label: '转为欠款 / 免除',
        value: `${today.deductions.arrearsCount} / ${today.deductions.waivedCount}`,
        hint: `免除 ${formatFen(today.deductions.waivedFen)}`,
        warn: today.deductions.arrearsCount > 0,
      },
      {
        label: '退款成功',
        value: `${today.refunds.succeededCount} 笔`,
        hint: formatFen(today.refunds.succeededFen),
        warn: false,
      },
    ],
    open: [
      { label: '待处理事项', value: String(now.inboxCount), hint: '异常处理', warn: now.inboxCount > 0 },
      openTile('待入账充值', now.recharges.waitingCredit),
      openTile('入账失败', now.recharges.creditFailed),
      openTile('代扣重试中', now.deductions.retrying),
      openTile('欠款', now.deductions.arrears),
      openTile('退款处理中', now.refunds.pending),
      openTile('退款失败', now.refunds.failed),
      {
        label: '绑卡 / 代扣协议',
        value: `${now.activeBindings} / ${now.activeAgreements}`,
        hint: `签约待确认 ${now.pendingAgreements}`,
        warn: false,
      },
      {
        label: '后台积压',
        value: `${now.backlog.deductionsDue + now.backlog.creditsDue}`,
        hint: backlogHint(now.backlog),
        warn: now.backlog.deductionsDue + now.backlog.creditsDue > 0,
      },
    ],
    declines,
    asOf: dashboard.statsAsOf
      ? `统计截至 ${formatBeijingDateTime(dashboard.statsAsOf, { seconds: true })}`
      : '',
  };
}

function backlogHint(backlog: DashboardResponse['now']['backlog']): string {
  const parts = [];
  if (backlog.deductionsDue)
    parts.push(
      `待扣款 ${backlog.deductionsDue}（最早 ${formatBeijingDateTime(backlog.oldestDeductionDueAt)}）`,
    );
  if (backlog.creditsDue)
    parts.push(`待入账 ${backlog.creditsDue}（最早 ${formatBeijingDateTime(backlog.oldestCreditDueAt)}）`);
  return parts.length ? parts.join(' · ') : '无';
}

export function declineReasonText(reason: string): string {
  const text = (DECLINE_REASON_TEXT_ZH as Readonly<Record<string, string | undefined>>)[reason];
  // The till's sentence ends with what the student should do; the admin needs only its first half.
  return text ? text.split('，')[0] : reason;
}

function seriesValue(day: DashboardDay, series: TrendSeries): number {
  if (series === 'recharged') return day.recharges.paidFen;
  if (series === 'withheld') return day.deductions.approvedFen;
  return day.deductions.declinedCount;
}

/**
 * The 7-day trend as bars, oldest on the left. Drawn with plain views sized in percent: see README
 * "Admin operations" for why not @antv/f2.
 */
export function toTrendBars(days: DashboardDay[], series: TrendSeries): TrendBar[] {
  const ordered = [...days].reverse();
  const values = ordered.map((day) => seriesValue(day, series));
  const largest = Math.max(0, ...values);
  return ordered.map((day, index) => {
    const value = values[index];
    return {
      day: day.day,
      label: index === ordered.length - 1 ? '今天' : day.day.slice(5),
      heightPct: largest === 0 || value === 0 ? 0 : Math.max(2, Math.round((value / largest) * 100)),
      valueText: series === 'declined' ? String(value) : formatFen(value),
    };
  });
}

// ---- orders -----------------------------------------------------------------------------------------------

export const ORDER_KIND_OPTIONS: Array<{ text: string; value: AdminOrderKind }> = [
  { text: '刷卡代扣', value: 'DEDUCTION' },
  { text: '充值', value: 'RECHARGE' },
  { text: '还款', value: 'REPAYMENT' },
  { text: '退款', value: 'REFUND' },
];

const ORDER_KIND_LABELS_ZH: Readonly<Record<AdminOrderKind, string>> = {
  DEDUCTION: '刷卡代扣',
  RECHARGE: '充值',
  REPAYMENT: '还款',
  REFUND: '退款',
};

/** The states one can search for, per kind, as the server spells them. */
export const ORDER_STATUS_OPTIONS: Readonly<Record<AdminOrderKind, string[]>> = {
  DEDUCTION: ['PENDING', 'DECLINED', 'COLLECTED', 'RETRYING', 'ARREARS', 'SETTLED', 'WAIVED', 'REVERSED'],
  RECHARGE: ['CREATED', 'PAID', 'CREDITED', 'CREDIT_FAILED', 'CLOSED', 'REFUNDED'],
  REPAYMENT: ['CREATED', 'PAID', 'CLOSED'],
  REFUND: ['PENDING', 'SUCCEEDED', 'FAILED'],
};

export function orderStatusLabel(kind: AdminOrderKind, status: string): string {
  if (kind === 'RECHARGE') return rechargeStatusLabel(status);
  if (kind === 'DEDUCTION') return deductionStatusLabel(status);
  const label = statementStatusLabel(kind, status);
  return label || status;
}

export interface OrderRow {
  key: string;
  kind: AdminOrderKind;
  id: string;
  title: string;
  amount: string;
  status: string;
  brief: string;
}

export function toOrderRow(item: AdminOrderItem): OrderRow {
  return {
    key: `${item.kind}:${item.id}`,
    kind: item.kind,
    id: item.id,
    title: `${ORDER_KIND_LABELS_ZH[item.kind]} ${item.orderNo}`,
    amount: item.amountFen === null ? '' : formatFen(item.amountFen),
    status: orderStatusLabel(item.kind, item.status),
    brief: [
      item.cardNo ? `卡号 ${item.cardNo}` : '',
      item.txnNo ? `流水 ${item.txnNo}` : '',
      formatBeijingDateTime(item.createdAt),
      item.detail ?? '',
    ]
      .filter(Boolean)
      .join(' · '),
  };
}

/** The search form as typed: empty fields are left out of the query. */
export interface OrderSearchForm {
  kind: AdminOrderKind;
  text: string;
  status: string;
  from: string;
  to: string;
}

/**
 * One search box for card number, order number and txnNo: an order number starts with a letter, a card
 * number is 6–20 digits, anything else is a card-system txnNo. Days are Beijing calendar days.
 */
export function orderSearchQuery(form: OrderSearchForm): Record<string, string | undefined> {
  const text = form.text.trim();
  const query: Record<string, string | undefined> = { kind: form.kind };
  if (/^[A-Za-z]/.test(text)) query.orderNo = text;
  else if (/^\d{6,20}$/.test(text)) query.cardNo = text;
  else if (text) query.txnNo = text;
  if (form.status) query.status = form.status;
  if (form.from) query.from = `${form.from}T00:00:00+08:00`;
  if (form.to) query.to = `${form.to}T23:59:59.999+08:00`;
  return query;
}

const TIMELINE_KIND_LABELS_ZH: Readonly<Record<string, string>> = {
  STATUS: '状态',
  CALL: '外部调用',
  NOTIFICATION: '支付宝通知',
  ATTEMPT: '扣款尝试',
  ADMIN: '管理员操作',
};

export interface TimelineRow {
  key: string;
  when: string;
  kind: string;
  title: string;
  /** "OK · 10000 · 35 ms" */
  outcome: string;
  detail: string;
  isFailure: boolean;
}

export function toTimelineRows(entries: TimelineEntry[]): TimelineRow[] {
  return entries.map((entry, index) => {
    const outcome = [
      entry.outcome ?? '',
      [entry.code, entry.subCode].filter(Boolean).join(' / '),
      entry.durationMs === null ? '' : `${entry.durationMs} ms`,
    ]
      .filter(Boolean)
      .join(' · ');
    return {
      key: `${index}`,
      when: formatBeijingDateTime(entry.at, { seconds: true }),
      kind: TIMELINE_KIND_LABELS_ZH[entry.kind] ?? entry.kind,
      title: entry.title,
      outcome,
      detail: entry.detail ?? '',
      isFailure: entry.outcome !== null && !['OK', 'APPLIED', 'SUCCESS', 'DUPLICATE'].includes(entry.outcome),
    };
  });
}

export interface OrderDetailView {
  title: string;
  status: string;
  facts: Array<{ label: string; value: string }>;
  timeline: TimelineRow[];
}

export function toOrderDetailView(detail: AdminOrderDetail): OrderDetailView {
  const order = detail.order;
  const facts: Array<[string, string | number | null]> = [
    ['订单号', order.orderNo],
    ['金额', order.amountFen === null ? null : formatFen(order.amountFen)],
    ['卡号', order.cardNo],
    ['持卡人', order.holderName],
    ['一卡通流水', order.txnNo],
    ['支付宝交易号', order.alipayTradeNo],
    ['终端', order.terminalId],
    ['尝试次数', order.attempts],
    ['最后错误', order.lastError],
    ['创建时间', formatBeijingDateTime(order.createdAt, { seconds: true })],
    ['更新时间', formatBeijingDateTime(order.updatedAt, { seconds: true })],
  ];
  return {
    title: `${ORDER_KIND_LABELS_ZH[order.kind]} ${order.orderNo}`,
    status: orderStatusLabel(order.kind, order.status),
    facts: facts
      .filter(([, value]) => value !== null && value !== '')
      .map(([label, value]) => ({ label, value: String(value) })),
    timeline: toTimelineRows(detail.timeline),
  };
}

// ---- exceptions inbox -------------------------------------------------------------------------------------

export const INBOX_ACTION_LABELS_ZH: Readonly<Record<string, string>> = {
  'retry-credit': '重新入账',
  refund: '退款给付款人',
  'retry-refund': '重试退款',
  'mark-handled': '标记已处理',
  'collect-now': '立即扣款',
  waive: '免除欠款',
  'resolve-agreement': '查询签约结果',
  'retry-card-sync': '重试同步一卡通',
  'apply-payment': '补记收款',
  're-credit': '用原流水号重新入账',
  'retry-callback': '重新通知机器',
  'refund-undispensed': '未出货，全额退款',
  'retry-settle': '重试分账',
};

/** What a confirmation dialog says before the action runs: money moves, so the person confirms. */
export const INBOX_ACTION_CONFIRM_ZH: Readonly<Record<string, string>> = {
  'retry-credit': '用同一流水号再向一卡通入账一次，不会重复入账。',
  refund: '把这笔充值原路退回付款人的支付宝，退款后不能再入账。',
  'retry-refund': '用同一退款请求号再向支付宝退款一次，不会重复退款。',
  'collect-now': '立即向付款人的支付宝扣款一次，规则与自动重试相同。',
  waive: '免除后这笔欠款由学校承担，付款人的刷卡代扣恢复。',
  'mark-handled': '标记后这笔退款不再自动重试，请写明线下如何处理。',
  'apply-payment': '按支付宝的收款补记这笔订单（与支付宝通知同一流程），不会重复入账。',
  're-credit': '用原流水号再向一卡通入账一次；一卡通同一流水号只入账一次。',
  'retry-callback': '再向售货机发送一次支付成功通知（已签名），机器会按订单号去重。',
  'refund-undispensed':
    '按“全部未出货”处理：整单原路退回付款人，分润一并退回；之后机器再报告出货将被拒绝。请写明依据。',
  'retry-settle': '先向支付宝查询上次分账结果，未成功才重新发起分账，不会重复分账。',
};

export interface InboxTab {
  kind: string;
  title: string;
  count: number;
}

export interface InboxRow {
  key: string;
  kind: string;
  id: string;
  title: string;
  amount: string;
  brief: string;
  detail: string;
  /** The order whose timeline the item opens; '' when it is not an order. */
  orderKind: string;
  orderId: string;
  actions: Array<{ name: string; label: string; needsReason: boolean }>;
}

/** Only the actions this person's role may run are offered; the server checks again. */
const ROLE_RANK: Readonly<Record<AdminRole, number>> = { VIEWER: 0, STAFF: 1, OWNER: 2 };

export function toInboxTabs(inbox: InboxResponse): InboxTab[] {
  return inbox.kinds.map((kind) => ({
    kind: kind.kind,
    title: kind.count ? `${kind.title} ${kind.count}` : kind.title,
    count: kind.count,
  }));
}

/** The tab that lists every kind with work at once (paged per kind only). */
export const ALL_INBOX_KINDS = 'all';

/** The query for one page of a tab, first or next: the 全部 tab names no kind (every kind is listed). */
export function inboxQuery(
  kind: string,
  limit: number,
  cursor?: string,
): { kind?: string; cursor?: string; limit: number } {
  return { kind: kind === ALL_INBOX_KINDS ? undefined : kind, cursor, limit };
}

/** The tabs as the kind selector shows them: everything first, then each kind with its count. */
export function inboxTabOptions(tabs: InboxTab[]): Array<{ text: string; value: string }> {
  const total = tabs.reduce((sum, tab) => sum + tab.count, 0);
  return [
    { text: total ? `全部 ${total}` : '全部', value: ALL_INBOX_KINDS },
    ...tabs.map((tab) => ({ text: tab.title, value: tab.kind })),
  ];
}

export function toInboxRow(item: InboxItem, role: AdminRole): InboxRow {
  return {
    key: `${item.kind}:${item.id}`,
    kind: item.kind,
    id: item.id,
    title: item.title,
    amount: item.amountFen === null ? '' : formatFen(item.amountFen),
    brief: [
      item.orderNo ?? '',
      item.cardNo ? `卡号 ${item.cardNo}` : '',
      `自 ${formatBeijingDateTime(item.since)}`,
    ]
      .filter(Boolean)
      .join(' · '),
    detail: item.detail ?? '',
    orderKind: item.order?.kind ?? '',
    orderId: item.order?.id ?? '',
    actions: item.actions
      .filter((action) => ROLE_RANK[role] >= ROLE_RANK[action.role])
      .map((action) => ({
        name: action.name,
        label: INBOX_ACTION_LABELS_ZH[action.name] ?? action.name,
        needsReason: action.needsReason,
      })),
  };
}

// ---- roster import ------------------------------------------------------------------------------------------

const ROSTER_FIELD_LABELS_ZH: Readonly<Record<string, string>> = {
  name: '姓名',
  studentNo: '学号',
  cardNo: '卡号',
  idNumber: '身份证号',
  phone: '手机号',
  guardianPhone: '监护人手机号',
  isStudent: '是否学生',
  file: '文件',
};

export interface RosterReport {
  id: string;
  isRunning: boolean;
  title: string;
  progressPct: number;
  progressText: string;
  counts: string;
  failure: string;
  errors: Array<{ key: string; text: string }>;
  errorsNote: string;
}

export function toRosterReport(view: RosterImportView): RosterReport {
  const isRunning = view.status === 'QUEUED' || view.status === 'RUNNING';
  const total = view.totalRows ?? 0;
  const title =
    view.status === 'DONE'
      ? '导入完成'
      : view.status === 'FAILED'
        ? '导入失败'
        : view.status === 'QUEUED'
          ? '排队中'
          : '正在导入';
  return {
    id: view.id,
    isRunning,
    title: `${view.fileName} · ${title}`,
    progressPct: total ? Math.min(100, Math.floor((view.processedRows / total) * 100)) : isRunning ? 0 : 100,
    progressText: total ? `${view.processedRows} / ${total} 行` : '',
    counts:
      `新增 ${view.inserted} · 更新 ${view.updated} · 未变 ${view.unchanged} · 有误 ${view.rejected}` +
      (view.markedLeft ? ` · 标记离校 ${view.markedLeft}` : ''),
    failure: view.failure ?? '',
    errors: view.errors.map((error, index) => ({
      key: `${index}`,
      text: `第 ${error.row} 行 · ${ROSTER_FIELD_LABELS_ZH[error.field] ?? error.field}：${error.reason}`,
    })),
    errorsNote: view.errorsTruncated ? '只列出了前面的错误，请改正后重新导入' : '',
  };
}
