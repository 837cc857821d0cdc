/**
 * How amounts, times and states read for people (中文), in one place for the mini-program and the server.
 * Plain TS: no Node, no `my`, no Intl (older Alipay clients ship a JS engine without full time-zone data,
 * so Beijing time is computed from the UTC instant by its fixed +08:00 offset — China has no DST).
 */
import type {
  AgreementStatus,
  BindingApproval,
  BindingProof,
  BindingStatus,
  CampusCodePaymentState,
  CardStatus,
  DeductionStatus,
  RechargeStatus,
  Relation,
  StatementKind,
} from './api.js';
import { formatFen } from './money.js';

export { formatFen };

export const BALANCE_UNAVAILABLE_ZH = '余额暂不可用';

/** A card balance; the card system may not answer, and then the balance is unknown, not zero. */
export function formatBalance(balanceFen: number | null | undefined): string {
  return typeof balanceFen === 'number' && Number.isSafeInteger(balanceFen)
    ? formatFen(balanceFen)
    : BALANCE_UNAVAILABLE_ZH;
}

/** Statement rows: money in reads "+¥50.00", money out "-¥3.50". */
export function formatSignedFen(amountFen: number): string {
  const text = formatFen(amountFen);
  return amountFen > 0 ? `+${text}` : text;
}

const BEIJING_OFFSET_MS = 8 * 60 * 60 * 1000;

function two(value: number): string {
  return value < 10 ? `0${value}` : String(value);
}

function beijingParts(iso: string | null | undefined) {
  if (!iso) return null;
  const instant = Date.parse(iso);
  if (Number.isNaN(instant)) return null;
  const shifted = new Date(instant + BEIJING_OFFSET_MS);
  return {
    date: `${shifted.getUTCFullYear()}-${two(shifted.getUTCMonth() + 1)}-${two(shifted.getUTCDate())}`,
    time: `${two(shifted.getUTCHours())}:${two(shifted.getUTCMinutes())}`,
    seconds: two(shifted.getUTCSeconds()),
  };
}

/** "2024-09-01T04:05:06Z" → "2024-09-01 12:05" (Beijing time); "—" when missing or unreadable. */
export function formatBeijingDateTime(
  iso: string | null | undefined,
  options: { seconds?: boolean } = {},
): string {
  const parts = beijingParts(iso);
  if (!parts) return '—';
  return `${parts.date} ${parts.time}${options.seconds ? `:${parts.seconds}` : ''}`;
}

/** "2024-08-31T16:30:00Z" → "2024-09-01" (the Beijing calendar day). */
export function formatBeijingDate(iso: string | null | undefined): string {
  return beijingParts(iso)?.date ?? '—';
}

export const RELATION_LABELS_ZH: Readonly<Record<Relation, string>> = {
  SELF: '本人',
  PARENT: '家长',
};

export const BINDING_STATUS_LABELS_ZH: Readonly<Record<BindingStatus, string>> = {
  ACTIVE: '正常使用',
  LOST: '已挂失',
  UNBOUND: '已解绑',
};

export const BINDING_APPROVAL_LABELS_ZH: Readonly<Record<BindingApproval, string>> = {
  NOT_REQUIRED: '无需确认',
  PENDING: '等待持卡人同意',
  APPROVED: '持卡人已同意',
};

/** How a binding was proven, as the holder reads it in the list of other bindings. */
export const BINDING_PROOF_LABELS_ZH: Readonly<Record<BindingProof, string>> = {
  ID_NUMBER: '身份证号验证',
  PHONE: '学生手机号验证',
  GUARDIAN_PHONE: '家长手机号验证',
  STUDENT_NO: '学号验证',
  ALIPAY_CERT: '支付宝实名身份证匹配',
  ALIPAY_MOBILE: '支付宝手机号匹配（学生）',
  ALIPAY_GUARDIAN_MOBILE: '支付宝手机号匹配（家长）',
};

export const CARD_STATUS_LABELS_ZH: Readonly<Record<CardStatus, string>> = {
  NORMAL: '正常',
  LOST: '已挂失',
  FROZEN: '已冻结',
};

export const RECHARGE_STATUS_LABELS_ZH: Readonly<Record<RechargeStatus, string>> = {
  CREATED: '等待支付确认',
  PAID: '已支付，正在入账',
  CREDITED: '已到账',
  CREDIT_FAILED: '入账失败，学校将为您处理/退款',
  CLOSED: '订单已关闭',
  REFUNDED: '已退款',
};

/** The sentence under the headline of the recharge result page: what happened and what happens next. */
export const RECHARGE_STATUS_EXPLANATIONS_ZH: Readonly<Record<RechargeStatus, string>> = {
  CREATED: '我们正在等待支付宝确认您的付款，请稍候。',
  PAID: '付款已成功，正在充入校园卡，通常几秒内完成。',
  CREDITED: '钱已充入校园卡，可以刷卡使用了。',
  CREDIT_FAILED: '付款成功但暂时没能充入校园卡，学校会为您重新入账或原路退款，请不要重复充值。',
  CLOSED: '这笔订单没有完成付款，已经关闭，不会扣您的钱。',
  REFUNDED: '这笔充值已原路退回您的支付宝账户。',
};

export const AGREEMENT_STATUS_LABELS_ZH: Readonly<Record<AgreementStatus, string>> = {
  NONE: '未开通',
  PENDING: '开通中',
  ACTIVE: '已开通',
  UNSIGNED: '已关闭',
  FAILED: '开通失败',
};

export const DEDUCTION_STATUS_LABELS_ZH: Readonly<Record<DeductionStatus, string>> = {
  PENDING: '扣款中',
  COLLECTED: '已扣款',
  RETRYING: '扣款失败，稍后自动重试',
  ARREARS: '欠款待还',
  SETTLED: '已还清',
  REVERSED: '已撤销',
  DECLINED: '未通过',
  WAIVED: '学校已免除',
};

export const STATEMENT_KIND_LABELS_ZH: Readonly<Record<StatementKind, string>> = {
  CONSUMPTION: '消费',
  RECHARGE: '充值',
  WITHHOLDING: '刷卡消费（支付宝代扣）',
  REPAYMENT: '代扣欠款还款',
  REFUND: '退款',
  CAMPUS_CODE: '校园码消费',
  TERMINAL_ORDER: '自助终端消费',
};

export const REPAYMENT_STATUS_LABELS_ZH: Readonly<Record<string, string>> = {
  CREATED: '等待付款',
  PAID: '已还款',
  CLOSED: '已关闭',
};

export const REFUND_STATUS_LABELS_ZH: Readonly<Record<string, string>> = {
  PENDING: '退款处理中',
  SUCCEEDED: '已退回支付宝',
  FAILED: '退款失败，学校将为您处理',
};

/** The steps a receipt's timeline names (shared by every record kind). */
export const RECEIPT_EVENT_LABELS_ZH: Readonly<Record<string, string>> = {
  CREATED: '下单',
  PAID: '支付成功',
  CREDITED: '已充入校园卡',
  CREDIT_FAILED: '充入校园卡失败',
  CLOSED: '订单关闭',
  REFUNDED: '已退款',
  APPROVED: '刷卡，支付宝代扣受理',
  DECLINED: '未受理，由校园卡余额支付',
  ATTEMPT: '支付宝扣款',
  COLLECTED: '支付宝扣款成功',
  ARREARS: '扣款失败，转为欠款',
  SETTLED: '欠款已还清',
  REVERSED: '已撤销',
  REFUND_REQUESTED: '申请退款',
  SCANNED: '出示校园码',
  FAILED: '扣款失败，转为欠款',
  RECORDED: '一卡通记账',
};

/** A vending-machine or window payment (issue #15): what the machine failed to give out is refunded. */
export const TERMINAL_ORDER_STATUS_LABELS_ZH: Readonly<Record<string, string>> = {
  PAID: '已支付',
  PARTIALLY_REFUNDED: '部分商品未出货，已退款',
  REFUNDED: '已全额退款',
};

/** A campus-code payment as the student sees it (the device already said "paid"; Alipay is charged later). */
export const CAMPUS_CODE_STATUS_LABELS_ZH: Readonly<Record<CampusCodePaymentState, string>> = {
  PENDING: '支付宝扣款中',
  RETRYING: '扣款失败，稍后自动重试',
  PAID: '已支付',
  FAILED: '扣款失败，待还款',
  SETTLED: '已还款',
};

function labelOf<K extends string>(
  table: Readonly<Record<K, string>>,
  key: string | null | undefined,
): string {
  if (!key) return '—';
  return Object.prototype.hasOwnProperty.call(table, key) ? table[key as K] : key;
}

export const relationLabel = (relation: string | null | undefined) => labelOf(RELATION_LABELS_ZH, relation);
export const bindingStatusLabel = (status: string | null | undefined) =>
  labelOf(BINDING_STATUS_LABELS_ZH, status);
export const bindingApprovalLabel = (approval: string | null | undefined) =>
  labelOf(BINDING_APPROVAL_LABELS_ZH, approval);
export const bindingProofLabel = (proof: string | null | undefined) =>
  labelOf(BINDING_PROOF_LABELS_ZH, proof);
export const cardStatusLabel = (status: string | null | undefined) => labelOf(CARD_STATUS_LABELS_ZH, status);
export const rechargeStatusLabel = (status: string | null | undefined) =>
  labelOf(RECHARGE_STATUS_LABELS_ZH, status);
export const agreementStatusLabel = (status: string | null | undefined) =>
  labelOf(AGREEMENT_STATUS_LABELS_ZH, status);
export const deductionStatusLabel = (status: string | null | undefined) =>
  labelOf(DEDUCTION_STATUS_LABELS_ZH, status);
export const statementKindLabel = (kind: string | null | undefined) =>
  labelOf(STATEMENT_KIND_LABELS_ZH, kind);
export const campusCodeStatusLabel = (status: string | null | undefined) =>
  labelOf(CAMPUS_CODE_STATUS_LABELS_ZH, status);
export const receiptEventLabel = (event: string | null | undefined) =>
  labelOf(RECEIPT_EVENT_LABELS_ZH, event);

/** A statement row's state as people read it: the label table of its kind (new kinds add theirs here). */
const STATUS_LABELS_BY_KIND: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  RECHARGE: RECHARGE_STATUS_LABELS_ZH,
  WITHHOLDING: DEDUCTION_STATUS_LABELS_ZH,
  CAMPUS_CODE: CAMPUS_CODE_STATUS_LABELS_ZH,
  REPAYMENT: REPAYMENT_STATUS_LABELS_ZH,
  REFUND: REFUND_STATUS_LABELS_ZH,
  TERMINAL_ORDER: TERMINAL_ORDER_STATUS_LABELS_ZH,
};

export function statementStatusLabel(kind: string, status: string | null | undefined): string {
  if (!status) return '';
  return labelOf(STATUS_LABELS_BY_KIND[kind] ?? {}, status);
}

/**
 * Why Alipay did not pay a canteen swipe, from the sub_code the server recorded. Alipay spells some codes
 * with and without the `ACQ.` prefix (and misspells a few, ALIPAY.md §8), so the match is on the stem.
 */
const DEDUCTION_FAILURE_REASONS_ZH: ReadonlyArray<[RegExp, string]> = [
  [/BANKCARD_BALANCE_NOT_ENOUGH/, '银行卡余额不足'],
  [/BUYER_BALANCE_NOT_ENOUGH/, '支付宝余额不足'],
  [/NO_PAYMENT_INSTRUMENTS_AVAILABLE/, '没有可用的付款方式'],
  [/AMOUNT_DAY_LIMIT/, '超过了支付宝每日付款限额'],
  [/AMOUNT_MONTH_LIMIT/, '超过了支付宝每月付款限额'],
  [/PRODUCT_AMOUNT_LIMIT|EXCEED_QUOTA|SINGLE_LIMIT/, '超过了免密支付的单笔限额'],
  [/AGREEMENT_(NOT_EXIST|NOT_EXSIT|INVALID|STATUS_NOT_NORMAL|ERROR|HAS_UNSIGNED)/, '免密代扣协议已失效'],
  [/BUYER_ENABLE_STATUS_FORBID|BUYER_NOT_EXIST|USER_NOT_EXIST/, '支付宝账户状态异常'],
  [/PAYMENT_REQUEST_HAS_RISK|RISK/, '支付宝风控拦截了这笔扣款'],
  [/FREQUENCY_LIMITED/, '扣款太频繁，稍后会自动重试'],
  [/PAYMENT_AUTH_CODE_INVALID/, '校园码已失效或超过了10天'],
  [/CODE_EXPIRED/, '校园码超过了10天，已不能扣款'],
  [/PAYMENT_FAIL/, '支付宝扣款失败'],
  [/SYSTEM_ERROR|UNKNOW|TIMEOUT/, '支付宝暂时没有响应'],
];

export function deductionFailureReason(code: string | null | undefined): string {
  if (!code) return '支付宝扣款没有成功';
  const match = DEDUCTION_FAILURE_REASONS_ZH.find(([pattern]) => pattern.test(code.toUpperCase()));
  return match ? match[1] : '支付宝扣款没有成功';
}
