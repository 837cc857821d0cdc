/**
 * Vending machines and cashier windows in the admin area (issue 15): how a terminal, its form and its orders
 * read, and the form's checks before anything is sent (the server checks again and names the field).
 */
import type {
  AdminRole,
  TerminalExceptionKind,
  TerminalExceptionSummary,
  TerminalInput,
  TerminalKind,
  TerminalMoneyModeInput,
  TerminalOrderAdminView,
  TerminalView,
  UpdateTerminalRequest,
} from '../shared/admin-api';
import { formatBeijingDateTime } from '../shared/format';
import { formatFen, yuanToFen } from '../shared/money';

export const TERMINAL_KIND_LABELS_ZH: Readonly<Record<TerminalKind, string>> = {
  VENDING: '售货机',
  CASHIER: '收银窗口',
};

export const KIND_OPTIONS = [
  { text: '售货机', value: 'VENDING' },
  { text: '收银窗口', value: 'CASHIER' },
];

export const MONEY_MODE_OPTIONS = [
  { text: '学校收款', value: 'PLAIN' },
  { text: '收款限制（运营方收款）', value: 'RESTRICTED' },
  { text: '分润给运营方', value: 'ROYALTY' },
];

export const SHARE_OPTIONS = [
  { text: '按比例（%）', value: 'PERCENT' },
  { text: '每单固定（元）', value: 'FIXED' },
];

export const TIMING_OPTIONS = [
  { text: '支付时分账', value: 'ON_PAYMENT' },
  { text: '出货后分账', value: 'AFTER_DISPENSE' },
];

const ROLE_RANK: Readonly<Record<AdminRole, number>> = { VIEWER: 0, STAFF: 1, OWNER: 2 };

export function canOperate(role: AdminRole): boolean {
  return ROLE_RANK[role] >= ROLE_RANK.STAFF;
}

/** "分润 30% 给 2088…，支付时" — where a terminal's money goes, in one line. */
export function moneyModeText(view: Pick<TerminalView, 'moneyMode' | 'sellerId' | 'royalty'>): string {
  if (view.moneyMode === 'RESTRICTED') return `运营方收款 ${view.sellerId ?? ''}`;
  if (view.moneyMode === 'ROYALTY' && view.royalty) {
    const share =
      view.royalty.bps !== null ? `${view.royalty.bps / 100}%` : formatFen(view.royalty.fixedFen ?? 0);
    const when = view.royalty.timing === 'ON_PAYMENT' ? '支付时' : '出货后';
    return `分润 ${share} 给 ${view.royalty.account}，${when}`;
  }
  return '学校收款';
}

export interface TerminalRow {
  id: string;
  title: string;
  meta: string;
  moneyText: string;
  isActive: boolean;
  statusLabel: string;
  toggleLabel: string;
}

export function toTerminalRow(view: TerminalView): TerminalRow {
  const isActive = view.status === 'ACTIVE';
  return {
    id: view.id,
    title: `${view.name} · ${view.terminalId}`,
    meta: [TERMINAL_KIND_LABELS_ZH[view.kind], view.location, view.operatorName].filter(Boolean).join(' · '),
    moneyText: moneyModeText(view),
    isActive,
    statusLabel: isActive ? '使用中' : '已停用',
    toggleLabel: isActive ? '停用' : '启用',
  };
}

export interface TerminalForm {
  terminalId: string;
  kind: TerminalKind;
  name: string;
  location: string;
  operatorName: string;
  callbackUrl: string;
  timeoutSeconds: string;
  moneyMode: TerminalMoneyModeInput['moneyMode'];
  sellerId: string;
  royaltyAccount: string;
  shareType: 'PERCENT' | 'FIXED';
  /** PERCENT: a percentage with up to two decimals ("30", "12.5"); FIXED: yuan per order. */
  shareValue: string;
  timing: 'ON_PAYMENT' | 'AFTER_DISPENSE';
}

export type TerminalFormErrors = Partial<Record<keyof TerminalForm, string>>;

export function emptyTerminalForm(): TerminalForm {
  return {
    terminalId: '',
    kind: 'VENDING',
    name: '',
    location: '',
    operatorName: '',
    callbackUrl: '',
    timeoutSeconds: '120',
    moneyMode: 'PLAIN',
    sellerId: '',
    royaltyAccount: '',
    shareType: 'PERCENT',
    shareValue: '',
    timing: 'ON_PAYMENT',
  };
}

export function toTerminalForm(view: TerminalView): TerminalForm {
  const royalty = view.royalty;
  return {
    terminalId: view.terminalId,
    kind: view.kind,
    name: view.name,
    location: view.location ?? '',
    operatorName: view.operatorName ?? '',
    callbackUrl: view.callbackUrl ?? '',
    timeoutSeconds: String(view.orderTimeoutSeconds),
    moneyMode: view.moneyMode,
    sellerId: view.sellerId ?? '',
    royaltyAccount: royalty?.account ?? '',
    shareType: royalty?.fixedFen ? 'FIXED' : 'PERCENT',
    shareValue: royalty
      ? royalty.fixedFen
        ? formatFen(royalty.fixedFen).replace(/^¥/, '')
        : String((royalty.bps ?? 0) / 100)
      : '',
    timing: royalty?.timing ?? 'ON_PAYMENT',
  };
}

const ACCOUNT = /^2088\d{12}$/;
const TERMINAL_ID = /^[A-Za-z0-9_-]{1,32}$/;

/** The money mode as the server takes it, or the field that is wrong. */
function moneyModeOf(form: TerminalForm, errors: TerminalFormErrors): TerminalMoneyModeInput {
  if (form.moneyMode === 'RESTRICTED') {
    if (!ACCOUNT.test(form.sellerId.trim())) errors.sellerId = '请填写运营方的支付宝账号（2088 开头 16 位）';
    return { moneyMode: 'RESTRICTED', sellerId: form.sellerId.trim() };
  }
  if (form.moneyMode === 'ROYALTY') {
    if (!ACCOUNT.test(form.royaltyAccount.trim()))
      errors.royaltyAccount = '请填写分润账号（2088 开头 16 位）';
    const royalty: NonNullable<TerminalMoneyModeInput['royalty']> = {
      account: form.royaltyAccount.trim(),
      timing: form.timing,
    };
    if (form.shareType === 'PERCENT') {
      const percent = /^\d{1,3}(\.\d{1,2})?$/.test(form.shareValue.trim()) ? Number(form.shareValue) : NaN;
      if (!(percent > 0 && percent <= 100)) errors.shareValue = '比例在 0.01 到 100 之间';
      else royalty.bps = Math.round(percent * 100);
    } else {
      try {
        royalty.fixedFen = yuanToFen(form.shareValue.trim());
      } catch {
        errors.shareValue = '请填写每单分给运营方的金额，如 0.50';
      }
    }
    return { moneyMode: 'ROYALTY', royalty };
  }
  return { moneyMode: 'PLAIN' };
}

function timeoutOf(form: TerminalForm, errors: TerminalFormErrors): number {
  const seconds = /^\d+$/.test(form.timeoutSeconds.trim()) ? Number(form.timeoutSeconds) : NaN;
  if (!(seconds >= 30 && seconds <= 86_400)) errors.timeoutSeconds = '30 到 86400 秒';
  return seconds;
}

function callbackOf(form: TerminalForm, errors: TerminalFormErrors): string | null {
  const url = form.callbackUrl.trim();
  if (url && !/^https?:\/\/\S+$/.test(url)) errors.callbackUrl = '以 http:// 或 https:// 开头的地址';
  return url || null;
}

/** A new terminal (owners): everything in one request. */
export function terminalToCreate(form: TerminalForm): { input: TerminalInput; errors: TerminalFormErrors } {
  const errors: TerminalFormErrors = {};
  if (!TERMINAL_ID.test(form.terminalId.trim())) errors.terminalId = '1–32 位字母、数字、- 或 _';
  if (!form.name.trim()) errors.name = '请填写名称';
  const input: TerminalInput = {
    terminalId: form.terminalId.trim(),
    kind: form.kind,
    name: form.name.trim(),
    location: form.location.trim() || null,
    operatorName: form.operatorName.trim() || null,
    callbackUrl: callbackOf(form, errors),
    orderTimeoutSeconds: timeoutOf(form, errors),
    ...moneyModeOf(form, errors),
  };
  return { input, errors };
}

/** The changes of an edit: the fields staff look after, and the money mode when an owner changed it. */
export function terminalChanges(
  form: TerminalForm,
  saved: TerminalView,
): { edit: UpdateTerminalRequest; moneyMode: TerminalMoneyModeInput | null; errors: TerminalFormErrors } {
  const errors: TerminalFormErrors = {};
  if (!form.name.trim()) errors.name = '请填写名称';
  const edit: UpdateTerminalRequest = {};
  if (form.name.trim() !== saved.name) edit.name = form.name.trim();
  if (form.kind !== saved.kind) edit.kind = form.kind;
  if ((form.location.trim() || null) !== saved.location) edit.location = form.location.trim() || null;
  if ((form.operatorName.trim() || null) !== saved.operatorName)
    edit.operatorName = form.operatorName.trim() || null;
  const callbackUrl = callbackOf(form, errors);
  if (callbackUrl !== saved.callbackUrl) edit.callbackUrl = callbackUrl;
  const timeout = timeoutOf(form, errors);
  if (timeout !== saved.orderTimeoutSeconds) edit.orderTimeoutSeconds = timeout;
  const mode = moneyModeOf(form, errors);
  const before = toTerminalForm(saved);
  const isMoneyChanged = (
    ['moneyMode', 'sellerId', 'royaltyAccount', 'shareType', 'shareValue', 'timing'] as const
  )
    .filter((key) => key !== 'sellerId' || form.moneyMode === 'RESTRICTED')
    .some((key) => form[key] !== before[key]);
  return { edit, moneyMode: isMoneyChanged ? mode : null, errors };
}

/** The form field a server error names (`body.royalty.account` → royaltyAccount). */
export function terminalFieldOf(field: string | undefined): keyof TerminalForm | null {
  const map: Record<string, keyof TerminalForm> = {
    'body.terminalId': 'terminalId',
    'body.name': 'name',
    'body.location': 'location',
    'body.operatorName': 'operatorName',
    'body.callbackUrl': 'callbackUrl',
    'body.orderTimeoutSeconds': 'timeoutSeconds',
    'body.sellerId': 'sellerId',
    'body.royalty.account': 'royaltyAccount',
    'body.royalty.bps': 'shareValue',
    'body.royalty.fixedFen': 'shareValue',
    'body.royalty': 'shareValue',
  };
  return (field && map[field]) || null;
}

export function hasTerminalErrors(errors: TerminalFormErrors): boolean {
  return Object.values(errors).some(Boolean);
}

// ---- orders ------------------------------------------------------------------------------------------------

/** The order list's filter: an order status, or one of the exceptions a person must look at. */
export const ORDER_FILTER_OPTIONS = [
  { text: '全部', value: 'ALL' },
  { text: '已支付', value: 'PAID' },
  { text: '待支付', value: 'CREATED' },
  { text: '已关闭', value: 'CLOSED' },
  { text: '未报告出货', value: 'NO_DISPENSE_REPORT' },
  { text: '退款失败', value: 'REFUND_FAILED' },
  { text: '机器未确认通知', value: 'CALLBACK_GAVE_UP' },
  { text: '分账失败', value: 'SETTLE_FAILED' },
];

export type OrderFilter = 'ALL' | 'PAID' | 'CREATED' | 'CLOSED' | TerminalExceptionKind;

export function isExceptionFilter(value: string): value is TerminalExceptionKind {
  return ['NO_DISPENSE_REPORT', 'REFUND_FAILED', 'CALLBACK_GAVE_UP', 'SETTLE_FAILED'].includes(value);
}

export function isOrderFilter(value: unknown): value is OrderFilter {
  return typeof value === 'string' && ORDER_FILTER_OPTIONS.some((o) => o.value === value);
}

/** The filter options with the exceptions' counts ("退款失败 2"). */
export function orderFilterOptions(summary: TerminalExceptionSummary | null) {
  return ORDER_FILTER_OPTIONS.map((option) => {
    const count = summary && isExceptionFilter(option.value) ? summary[option.value] : 0;
    return count ? { ...option, text: `${option.text} ${count}` } : option;
  });
}

const STATUS_LABELS_ZH: Readonly<Record<TerminalOrderAdminView['status'], string>> = {
  CREATED: '待支付',
  PAID: '已支付',
  CLOSED: '已关闭',
};
const DISPENSE_LABELS_ZH = { OK: '已出货', PARTIAL: '部分出货', FAILED: '未出货' } as const;
const CALLBACK_LABELS_ZH = {
  PENDING: '正在通知机器',
  ACKNOWLEDGED: '机器已确认',
  GAVE_UP: '机器未确认',
} as const;
const REFUND_LABELS_ZH = { PENDING: '退款中', SUCCEEDED: '已退款', FAILED: '退款失败' } as const;

export interface TerminalOrderRow {
  key: string;
  title: string;
  amountText: string;
  statusLabel: string;
  lines: string[];
  warnings: string[];
  refText: string;
}

export function toTerminalOrderRow(order: TerminalOrderAdminView): TerminalOrderRow {
  const lines = [
    order.items.map((i) => `${i.name}×${i.quantity}`).join('、'),
    `下单 ${formatBeijingDateTime(order.createdAt)}` +
      (order.paidAt
        ? ` · 支付 ${formatBeijingDateTime(order.paidAt)}（${order.channel === 'QR' ? '扫码' : '小程序'}）`
        : ''),
  ];
  if (order.dispense) lines.push(DISPENSE_LABELS_ZH[order.dispense.result]);
  if (order.royalty)
    lines.push(
      `分润 ${formatFen(order.royalty.shareFen)} 给 ${order.royalty.account}` +
        (order.royalty.settle ? `（${order.royalty.settle.status}）` : ''),
    );
  if (order.sellerId) lines.push(`运营方收款 ${order.sellerId}`);
  for (const refund of order.refunds)
    lines.push(`${REFUND_LABELS_ZH[refund.status]} ${formatFen(refund.amountFen)}`);
  const warnings: string[] = [];
  if (order.callback?.status === 'GAVE_UP')
    warnings.push(`${CALLBACK_LABELS_ZH.GAVE_UP}：${order.callback.lastError ?? ''}`);
  for (const refund of order.refunds.filter((r) => r.status === 'FAILED'))
    warnings.push(`退款失败：${refund.lastError ?? ''}`);
  if (order.royalty?.settle?.status === 'FAILED')
    warnings.push(`分账失败：${order.royalty.settle.lastError ?? ''}`);
  if (order.closeReason)
    lines.push(`关闭：${order.closeReason === 'TIMEOUT' ? '超时未支付' : order.closeReason}`);
  return {
    key: order.orderNo,
    title: `${order.terminal.name} · ${order.terminal.terminalId}`,
    amountText: formatFen(order.amountFen),
    statusLabel: STATUS_LABELS_ZH[order.status],
    lines,
    warnings,
    refText: `订单 ${order.orderNo} · 机器单号 ${order.outOrderNo}`,
  };
}
