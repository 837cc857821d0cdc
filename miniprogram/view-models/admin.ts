/** The admin pages (issue 10): roles, school states, the settings form and audit entries as people read them. */
import type {
  AdminRole,
  AdminSchoolDetail,
  AdminSchoolItem,
  AuditEntryView,
  SchoolAdminView,
  SchoolSettingsView,
  SuspensionReason,
  UpdateSchoolSettingsRequest,
} from '../shared/admin-api';
import { formatBeijingDateTime, formatFen } from '../shared/format';
import { MoneyError, fenToYuan, yuanToFen } from '../shared/money';

export const ROLE_LABELS_ZH: Readonly<Record<AdminRole, string>> = {
  OWNER: '负责人',
  STAFF: '操作员',
  VIEWER: '只读',
};

export const ROLE_OPTIONS: Array<{ text: string; value: AdminRole }> = [
  { text: '负责人（全部权限）', value: 'OWNER' },
  { text: '操作员（处理订单）', value: 'STAFF' },
  { text: '只读（查看）', value: 'VIEWER' },
];

const STATUS_LABELS_ZH: Readonly<Record<string, string>> = {
  PENDING: '待开通',
  ACTIVE: '服务中',
  SUSPENDED: '已暂停',
};

const SUSPENSION_LABELS_ZH: Readonly<Record<SuspensionReason, string>> = {
  OPERATOR: '平台暂停了学校的服务',
  AUTHORIZATION_CANCELLED: '学校在支付宝取消了对平台的授权',
  AUTHORIZATION_INVALID: '支付宝提示学校的授权已失效',
};

export function isAdminRole(value: unknown): value is AdminRole {
  return value === 'OWNER' || value === 'STAFF' || value === 'VIEWER';
}

export interface AdminSchoolRow {
  id: string;
  name: string;
  brief: string;
}

export function toAdminSchoolRows(items: AdminSchoolItem[]): AdminSchoolRow[] {
  return items.map((item) => ({
    id: item.schoolId,
    name: item.name,
    brief: `${ROLE_LABELS_ZH[item.role] ?? item.role} · ${STATUS_LABELS_ZH[item.status] ?? item.status}`,
  }));
}

export interface AdminHome {
  name: string;
  code: string;
  statusLabel: string;
  roleLabel: string;
  isOwner: boolean;
  /** Why payments stop, for a suspended school; '' otherwise. */
  suspensionText: string;
  pendingText: string;
}

export function toAdminHome(detail: AdminSchoolDetail): AdminHome {
  const suspension = detail.suspension;
  return {
    name: detail.name,
    code: detail.code,
    statusLabel: STATUS_LABELS_ZH[detail.status] ?? detail.status,
    roleLabel: ROLE_LABELS_ZH[detail.role] ?? detail.role,
    isOwner: detail.role === 'OWNER',
    suspensionText: suspension
      ? `${SUSPENSION_LABELS_ZH[suspension.reason] ?? suspension.reason}${suspension.detail ? `（${suspension.detail}）` : ''}，` +
        `自 ${formatBeijingDateTime(suspension.since)} 起暂停新的充值、代扣签约和刷卡代扣，已发生的交易会照常完成。`
      : '',
    pendingText:
      detail.status === 'PENDING'
        ? `学校尚未开通：${detail.isAlipayAuthorized ? '支付宝已授权' : '待学校在支付宝授权'}，` +
          `${detail.isCardSystemConnected ? '一卡通已对接' : '待对接一卡通系统'}。`
        : '',
  };
}

/** The settings form: amounts in yuan and the retry schedule in minutes, as people type them. */
export interface SettingsForm {
  name: string;
  servicePhone: string;
  rechargeMinYuan: string;
  rechargeMaxYuan: string;
  withholdingEnabled: boolean;
  txnLimitYuan: string;
  dailyLimitYuan: string;
  retryMinutes: string;
  /** Campus code (issue 14): the school's Alipay campus id, its upload window, late threshold and maximum. */
  campusCodeId: string;
  campusCodeWindowDays: string;
  campusCodeLateHours: string;
  campusCodeMaxYuan: string;
  /** Terminal orders (issue 15, seed 002 §1): payers the school does not know share their mobile first. */
  terminalPayRequiresPhone: boolean;
}

export type SettingsErrors = Partial<Record<keyof SettingsForm, string>>;

export function toSettingsForm(settings: SchoolSettingsView): SettingsForm {
  return {
    name: settings.name,
    servicePhone: settings.servicePhone ?? '',
    rechargeMinYuan: fenToYuan(settings.rechargeMinFen),
    rechargeMaxYuan: fenToYuan(settings.rechargeMaxFen),
    withholdingEnabled: settings.withholdingEnabled,
    txnLimitYuan: fenToYuan(settings.txnLimitFen),
    dailyLimitYuan: fenToYuan(settings.dailyLimitFen),
    retryMinutes: settings.retryScheduleSeconds
      .map((s) => String(Math.round((s / 60) * 100) / 100))
      .join(', '),
    campusCodeId: settings.alipayInstitutionCode ?? '',
    campusCodeWindowDays: String(settings.campusCodeWindowDays),
    campusCodeLateHours: String(settings.campusCodeLateAfterHours),
    campusCodeMaxYuan: fenToYuan(settings.campusCodeMaxFen),
    terminalPayRequiresPhone: settings.terminalPayRequiresPhone,
  };
}

function fenOf(text: string): number | string {
  try {
    return yuanToFen(text.trim());
  } catch (error) {
    if (!(error instanceof MoneyError)) throw error;
    return '请输入金额，如 100 或 0.50';
  }
}

/**
 * The changes to send (only fields that differ from `saved`), or the errors to show under the inputs. The
 * server checks everything again and names the field it refuses.
 */
export function settingsChanges(
  form: SettingsForm,
  saved: SchoolSettingsView,
): { changes: UpdateSchoolSettingsRequest; errors: SettingsErrors } {
  const errors: SettingsErrors = {};
  const changes: UpdateSchoolSettingsRequest = {};
  const name = form.name.trim();
  if (!name || Array.from(name).length > 40) errors.name = '学校名称为 1–40 个字';
  else if (name !== saved.name) changes.name = name;
  const phone = form.servicePhone.trim();
  if (phone && !/^[0-9+\-() ]{5,20}$/.test(phone)) errors.servicePhone = '请输入电话号码，如 0510-88886666';
  else if ((phone || null) !== saved.servicePhone) changes.servicePhone = phone || null;

  const money: Array<[keyof SettingsForm, keyof SchoolSettingsView]> = [
    ['rechargeMinYuan', 'rechargeMinFen'],
    ['rechargeMaxYuan', 'rechargeMaxFen'],
    ['txnLimitYuan', 'txnLimitFen'],
    ['dailyLimitYuan', 'dailyLimitFen'],
    ['campusCodeMaxYuan', 'campusCodeMaxFen'],
  ];
  const amounts: Partial<Record<keyof SchoolSettingsView, number>> = {};
  for (const [input, field] of money) {
    const fen = fenOf(String(form[input]));
    if (typeof fen === 'string') errors[input] = fen;
    else {
      amounts[field] = fen;
      if (fen !== saved[field]) (changes as Record<string, number>)[field] = fen;
    }
  }
  if (amounts.rechargeMinFen && amounts.rechargeMaxFen && amounts.rechargeMaxFen < amounts.rechargeMinFen)
    errors.rechargeMaxYuan = '单笔最高充值不能低于最低充值';
  if (amounts.txnLimitFen && amounts.dailyLimitFen && amounts.dailyLimitFen < amounts.txnLimitFen)
    errors.dailyLimitYuan = '每日限额不能低于单笔限额';
  if (form.withholdingEnabled !== saved.withholdingEnabled)
    changes.withholdingEnabled = form.withholdingEnabled;
  if (form.terminalPayRequiresPhone !== saved.terminalPayRequiresPhone)
    changes.terminalPayRequiresPhone = form.terminalPayRequiresPhone;

  const parts = form.retryMinutes.split(/[,，、\s]+/).filter(Boolean);
  const seconds = parts.map((part) => Math.round(Number(part) * 60));
  if (
    parts.length === 0 ||
    parts.length > 30 ||
    seconds.some((s) => !Number.isInteger(s) || s < 60 || s > 7 * 86_400)
  )
    errors.retryMinutes = '请输入 1–30 个间隔（分钟），每个 1 到 10080，用逗号分开';
  else if (seconds.join(',') !== saved.retryScheduleSeconds.join(',')) changes.retryScheduleSeconds = seconds;

  const campusId = form.campusCodeId.trim();
  if (campusId && !/^2088\d{12}$/.test(campusId))
    errors.campusCodeId = '学校内标是 2088 开头的 16 位数字，可在支付宝校园码后台查到';
  else if ((campusId || null) !== saved.alipayInstitutionCode)
    changes.alipayInstitutionCode = campusId || null;
  const hours: Array<
    [keyof SettingsForm, 'campusCodeWindowDays' | 'campusCodeLateAfterHours', number, string]
  > = [
    ['campusCodeWindowDays', 'campusCodeWindowDays', 10, '请输入 1 到 10 天（支付宝只接受 10 天内的校园码）'],
    ['campusCodeLateHours', 'campusCodeLateAfterHours', 240, '请输入 1 到 240 小时'],
  ];
  for (const [input, field, max, message] of hours) {
    const value = Number(String(form[input]).trim());
    if (!Number.isInteger(value) || value < 1 || value > max) errors[input] = message;
    else if (value !== saved[field]) changes[field] = value;
  }
  return { changes, errors };
}

export function hasSettingsErrors(errors: SettingsErrors): boolean {
  return Object.values(errors).some(Boolean);
}

/** The server names a refused field `body.rechargeMinFen`: which input it belongs under. */
export function settingsFieldOf(field: string | undefined): keyof SettingsForm | null {
  const name = (field ?? '').replace(/^body\./, '').split('.')[0];
  const table: Record<string, keyof SettingsForm> = {
    name: 'name',
    servicePhone: 'servicePhone',
    rechargeMinFen: 'rechargeMinYuan',
    rechargeMaxFen: 'rechargeMaxYuan',
    withholdingEnabled: 'withholdingEnabled',
    txnLimitFen: 'txnLimitYuan',
    dailyLimitFen: 'dailyLimitYuan',
    retryScheduleSeconds: 'retryMinutes',
    alipayInstitutionCode: 'campusCodeId',
    campusCodeWindowDays: 'campusCodeWindowDays',
    campusCodeLateAfterHours: 'campusCodeLateHours',
    campusCodeMaxFen: 'campusCodeMaxYuan',
    terminalPayRequiresPhone: 'terminalPayRequiresPhone',
  };
  return table[name] ?? null;
}

export interface AdminRow {
  userId: string;
  title: string;
  brief: string;
  role: AdminRole;
  isYou: boolean;
}

export function toAdminRows(items: SchoolAdminView[]): AdminRow[] {
  return items.map((admin) => ({
    userId: admin.userId,
    title: `${admin.displayName ?? `管理员 ···${admin.alipayIdHint}`}${admin.isYou ? '（我）' : ''}`,
    brief: `${ROLE_LABELS_ZH[admin.role] ?? admin.role} · ${formatBeijingDateTime(admin.since)} 加入`,
    role: admin.role,
    isYou: admin.isYou,
  }));
}

const ACTION_LABELS_ZH: Readonly<Record<string, string>> = {
  'school.create': '登记学校',
  'school.isv.link': '生成支付宝授权链接',
  'school.isv.authorize': '学校完成支付宝授权',
  'school.isv.refresh': '刷新支付宝授权令牌',
  'school.isv.cancelled': '学校取消了支付宝授权',
  'school.isv.invalid': '支付宝授权失效',
  'school.cardsys.connect': '对接一卡通系统',
  'school.activate': '开通服务',
  'school.suspend': '暂停服务',
  'school.resume': '恢复服务',
  'school.settings.update': '修改学校设置',
  'admin.invite': '生成管理员邀请码',
  'admin.join': '管理员加入',
  'admin.role.change': '修改管理员角色',
  'admin.remove': '移除管理员',
  'gateway-client.create': '新增一卡通收银网关',
  'gateway-client.rotate': '更换收银网关密钥',
  'gateway-client.revoke': '停用收银网关',
  // issue 13: the exceptions inbox and the roster
  'recharge.credit.retry': '重新入账',
  'recharge.found-credited': '查到一卡通已入账',
  'recharge.refund': '充值退款',
  'refund.retry': '重试退款',
  'refund.found-refunded': '查到支付宝已退款',
  'refund.mark-handled': '退款标记已处理',
  'deduction.collect-now': '立即扣款',
  'deduction.waive': '免除欠款',
  'agreement.resolve': '查询签约结果',
  'binding.card-sync.retry': '重试同步一卡通',
  'roster.import': '导入学生名单',
  'reconciliation.rerun': '重新对账',
  'reconciliation.apply-payment': '对账差异：补记收款',
  'reconciliation.re-credit': '对账差异：重新入账',
  'reconciliation.mark-handled': '对账差异：标记已处理',
  'reconciliation.export-link': '复制对账 Excel 下载链接',
};

const FIELD_LABELS_ZH: Readonly<Record<string, string>> = {
  name: '名称',
  servicePhone: '服务电话',
  rechargeMinFen: '单笔最低充值',
  rechargeMaxFen: '单笔最高充值',
  withholdingEnabled: '刷卡免密代扣',
  txnLimitFen: '代扣单笔限额',
  dailyLimitFen: '代扣每日限额',
  retryScheduleSeconds: '代扣重试间隔',
  alipayInstitutionCode: '学校内标（校园码）',
  campusCodeWindowDays: '校园码上传期限（天）',
  campusCodeLateAfterHours: '校园码迟传时限（小时）',
  campusCodeMaxFen: '校园码单笔上限',
  terminalDispenseWindowMinutes: '售货机出货报告时限（分钟）',
  terminalPayRequiresPhone: '未绑卡的付款人需授权手机号',
  role: '角色',
  status: '状态',
  reason: '原因',
};

function valueText(field: string, value: unknown): string {
  if (value === null || value === undefined || value === '') return '空';
  if (field.endsWith('Fen') && typeof value === 'number') return formatFen(value);
  if (field === 'role' && isAdminRole(value)) return ROLE_LABELS_ZH[value];
  if (field === 'status' && typeof value === 'string') return STATUS_LABELS_ZH[value] ?? value;
  if (typeof value === 'boolean') return value ? '开' : '关';
  if (field === 'retryScheduleSeconds' && Array.isArray(value))
    return value.map((s) => `${Math.round((Number(s) / 60) * 100) / 100}分`).join('、');
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

export interface AuditRow {
  id: number;
  title: string;
  who: string;
  when: string;
  changes: string[];
}

export function toAuditRow(entry: AuditEntryView): AuditRow {
  const who =
    entry.actor.kind === 'ADMIN'
      ? (entry.actor.displayName ?? `管理员 ···${entry.actor.id.slice(-4)}`)
      : entry.actor.kind === 'OPERATOR'
        ? `平台运营（${entry.actor.id}）`
        : '系统';
  const before = entry.before ?? {};
  const after = entry.after ?? {};
  const fields = Object.keys(FIELD_LABELS_ZH).filter((f) => f in before || f in after);
  return {
    id: entry.id,
    title: ACTION_LABELS_ZH[entry.action] ?? entry.action,
    who,
    when: formatBeijingDateTime(entry.occurredAt, { seconds: true }),
    changes: fields.map((f) =>
      f in before
        ? `${FIELD_LABELS_ZH[f]}：${valueText(f, before[f])} → ${valueText(f, after[f])}`
        : `${FIELD_LABELS_ZH[f]}：${valueText(f, after[f])}`,
    ),
  };
}
