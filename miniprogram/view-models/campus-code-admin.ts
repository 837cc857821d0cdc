/**
 * The school's campus-code exceptions (issue 14) as its admins read them: payments Alipay refused, uploads
 * too old to charge, and late uploads, each with the device to chase or the student to recover it from.
 */
import type {
  CampusCodeExceptionKind,
  CampusCodeExceptionView,
  CampusCodeSummaryResponse,
} from '../shared/admin-api';
import { deductionFailureReason, formatBeijingDateTime, formatFen } from '../shared/format';

/** The order of the page's tabs: losses first. */
export const EXCEPTION_KINDS: readonly CampusCodeExceptionKind[] = ['FAILED', 'EXPIRED', 'LATE'];

const KIND_LABELS_ZH: Readonly<Record<CampusCodeExceptionKind, string>> = {
  FAILED: '扣款失败',
  EXPIRED: '上传过期',
  LATE: '上传延迟',
};

const KIND_HINTS_ZH: Readonly<Record<CampusCodeExceptionKind, string>> = {
  FAILED:
    '设备已放行，之后支付宝拒绝了扣款，这笔钱学校没有收到。已在小程序绑卡的学生会在欠款里看到并可以还款；' +
    '其他学生请按学号联系。',
  EXPIRED: '设备上传时校园码已超过学校的上传期限，已不能向支付宝扣款，这笔钱学校收不到。请联系设备厂商。',
  LATE: '设备超过了学校设定的时限才上传（仍在期限内的已照常扣款）。请联系设备厂商检查设备的上传。',
};

/** What the admin's status column says; the student's page has its own words (shared/format.ts). */
const STATUS_LABELS_ZH: Readonly<Record<string, string>> = {
  PENDING: '支付宝扣款中',
  RETRYING: '扣款失败，等待重试',
  PAID: '已扣款',
  FAILED: '扣款失败',
  SETTLED: '学生已还款',
  EXPIRED: '已过期，未扣款',
};

export interface KindOption {
  text: string;
  value: CampusCodeExceptionKind;
}

export function exceptionKindOptions(summary: CampusCodeSummaryResponse | null): KindOption[] {
  return EXCEPTION_KINDS.map((kind) => ({
    text: summary ? `${KIND_LABELS_ZH[kind]} ${summary[kind]}` : KIND_LABELS_ZH[kind],
    value: kind,
  }));
}

export function exceptionKindHint(kind: CampusCodeExceptionKind): string {
  return KIND_HINTS_ZH[kind];
}

export function isExceptionKind(value: unknown): value is CampusCodeExceptionKind {
  return typeof value === 'string' && (EXCEPTION_KINDS as readonly string[]).includes(value);
}

export interface CampusCodeExceptionRow {
  id: string;
  amountText: string;
  statusLabel: string;
  studentText: string;
  deviceText: string;
  timeText: string;
  /** For a late or expired upload, how long after the code was made the device uploaded it. */
  delayText: string;
  /** Why it is on this list; '' for a late upload that was charged. */
  reasonText: string;
  refText: string;
}

function reasonOf(item: CampusCodeExceptionView): string {
  if (item.kind === 'FAILED') return `原因：${deductionFailureReason(item.reason)}`;
  if (item.kind === 'EXPIRED') return '原因：超过了学校的上传期限';
  return '';
}

export function toCampusCodeExceptionRow(item: CampusCodeExceptionView): CampusCodeExceptionRow {
  const { studentName, studentNo } = item.student;
  const student = [studentName, studentNo ? `学号 ${studentNo}` : ''].filter(Boolean).join(' · ');
  return {
    id: item.paymentNo,
    amountText: formatFen(item.amountFen),
    statusLabel: STATUS_LABELS_ZH[item.status] ?? item.status,
    studentText: `学生：${student || '校园码中没有可读的学生信息'}`,
    deviceText: `设备：${item.device.name ?? item.device.clientId} · 终端 ${item.device.terminalId}`,
    timeText: `扫码 ${formatBeijingDateTime(item.scannedAt)} · 上传 ${formatBeijingDateTime(item.uploadedAt)}`,
    delayText:
      item.kind === 'FAILED' || item.uploadDelayHours === null
        ? ''
        : `校园码生成 ${item.uploadDelayHours} 小时后才上传`,
    reasonText: reasonOf(item),
    refText: `设备流水号 ${item.txnNo}`,
  };
}
