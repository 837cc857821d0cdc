/**
 * The school admins' API (`/api/v1/admin`, DESIGN §6.1, §7.0): shapes shared by the BFF and the
 * mini-program's admin pages. Routes about one school live under `/api/v1/admin/schools/:schoolId/…` and
 * answer only that school's admins with a sufficient role (403 FORBIDDEN otherwise). Amounts are integer
 * fen; times ISO-8601.
 */

export type AdminRole = 'OWNER' | 'STAFF' | 'VIEWER';
export type SchoolStatus = 'PENDING' | 'ACTIVE' | 'SUSPENDED';
export type SuspensionReason = 'OPERATOR' | 'AUTHORIZATION_CANCELLED' | 'AUTHORIZATION_INVALID';

// GET /admin/schools: the schools the signed-in user administers
export interface AdminSchoolItem {
  schoolId: string;
  code: string;
  name: string;
  status: SchoolStatus;
  role: AdminRole;
}
export interface AdminSchoolsResponse {
  items: AdminSchoolItem[];
}

// POST /admin/invitations/redeem → 201 AdminSchoolItem
export interface RedeemInvitationRequest {
  /** XXXX-XXXX-XXXX-XXXX; case, spaces and dashes do not matter. */
  code: string;
}

// GET /admin/schools/:schoolId (any role)
export interface AdminSchoolDetail extends AdminSchoolItem {
  /** Why new payments are refused while SUSPENDED, for the admins to read. */
  suspension: { reason: SuspensionReason; detail: string | null; since: string } | null;
  isAlipayAuthorized: boolean;
  isCardSystemConnected: boolean;
  servicePhone: string | null;
}

// GET /admin/schools/:schoolId/settings (any role), PUT (owner; any subset of the fields: my.request has no PATCH)
export interface SchoolSettingsView {
  /** The name students see. */
  name: string;
  servicePhone: string | null;
  rechargeMinFen: number;
  rechargeMaxFen: number;
  withholdingEnabled: boolean;
  txnLimitFen: number;
  dailyLimitFen: number;
  /** Delays between withholding retries, in seconds. */
  retryScheduleSeconds: number[];
  /** When a parent's binding waits for the card holder's approval: ADULTS (holder of age), ALWAYS, NEVER. */
  parentApproval: 'ADULTS' | 'ALWAYS' | 'NEVER';
  /** A POS swipe older than this, or further ahead than the next, is declined. */
  swipeMaxAgeMinutes: number;
  swipeMaxAheadMinutes: number;
  /** The school's Alipay campus id (学校内标, 2088…): the card home opens the Alipay campus code with it. */
  alipayInstitutionCode: string | null;
  /** Campus-code uploads of codes made more than this many days ago are EXPIRED (1–10; Alipay's limit is 10). */
  campusCodeWindowDays: number;
  /** …and uploads more than this many hours after the code was made are late (shown with the device). */
  campusCodeLateAfterHours: number;
  /** The largest campus-code payment a device may upload. */
  campusCodeMaxFen: number;
}
export type UpdateSchoolSettingsRequest = Partial<SchoolSettingsView>;

// GET /admin/schools/:schoolId/admins (owner)
export interface SchoolAdminView {
  userId: string;
  role: AdminRole;
  displayName: string | null;
  /** The end of the person's Alipay id, to tell people without a name apart. */
  alipayIdHint: string;
  isYou: boolean;
  since: string;
}
export interface SchoolAdminsResponse {
  items: SchoolAdminView[];
}
// PUT /admin/schools/:schoolId/admins/:userId (owner), DELETE the same (owner) → 204
export interface ChangeAdminRoleRequest {
  role: AdminRole;
}
// POST /admin/schools/:schoolId/invitations (owner) → 201
export interface CreateInvitationRequest {
  role: AdminRole;
  /** How the school calls the person ("张老师"). */
  displayName?: string;
}
export interface InvitationView {
  /** Shown once. */
  code: string;
  role: AdminRole;
  expiresAt: string;
}

// GET /admin/schools/:schoolId/audit?before=&limit= (owner), newest first
export type AuditActorKind = 'ADMIN' | 'OPERATOR' | 'SYSTEM';
export interface AuditEntryView {
  id: number;
  occurredAt: string;
  actor: { kind: AuditActorKind; id: string; displayName: string | null };
  /** `<thing>.<verb>`, e.g. school.settings.update. */
  action: string;
  target: string | null;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  requestId: string | null;
}
export interface AuditResponse {
  items: AuditEntryView[];
  /** Pass as `before` for the next page; null on the last page. */
  nextBefore: number | null;
}

// GET /admin/schools/:schoolId/campus-code/exceptions?kind=LATE|EXPIRED|FAILED&before=&limit= (any role)
/**
 * Campus-code payments the school must act on (issue #14): LATE uploads (with the device, to chase its
 * vendor), EXPIRED uploads (too old to charge: the school's loss), FAILED payments (Alipay refused: the
 * school's loss, with the student to recover it from). Newest first.
 */
export type CampusCodeExceptionKind = 'LATE' | 'EXPIRED' | 'FAILED';
export interface CampusCodeExceptionView {
  kind: CampusCodeExceptionKind;
  paymentNo: string;
  txnNo: string;
  status: string;
  amountFen: number;
  /** The uploading gateway client (as the operator named it) and the till. */
  device: { clientId: string; name: string | null; terminalId: string };
  scannedAt: string;
  uploadedAt: string;
  /** When the student's phone made the code. */
  generatedAt: string | null;
  /** Hours from the code being made to its upload. */
  uploadDelayHours: number | null;
  /** From the code's user data. */
  student: { studentNo: string | null; studentName: string | null };
  /** Why Alipay refused a FAILED payment, e.g. ACQ.PAYMENT_AUTH_CODE_INVALID. */
  reason: string | null;
  failedAt: string | null;
}
export interface CampusCodeExceptionsResponse {
  items: CampusCodeExceptionView[];
  /** Pass as `before` for older items; null at the end. */
  nextBefore: string | null;
}
// GET /admin/schools/:schoolId/campus-code/summary (any role)
export type CampusCodeSummaryResponse = Record<CampusCodeExceptionKind, number>;

// Reconciliation (对账, issue 17) — /admin/schools/:schoolId/reconciliation/…

/** One day of the calendar: where its run stands and whether it balanced. */
export interface ReconciliationDaySummary {
  billDate: string;
  status: 'WAITING_FOR_BILL' | 'MATCHED' | 'FAILED';
  balanced: boolean;
  billRows: number;
  findings: number;
  openFindings: number;
  attempts: number;
  lastError: string | null;
  matchedAt: string | null;
}
// GET …/reconciliation/days?from&to (any role)
export interface ReconciliationCalendarResponse {
  days: ReconciliationDaySummary[];
}

/** A kind's figures for the day, in fen: ours, Alipay's, the vendor's (recharges), ours − Alipay's. */
export interface ReconciliationKindFigures {
  kind: string;
  rows: number;
  oursFen: number;
  alipayFen: number;
  vendorFen: number | null;
  differenceFen: number;
  feeFen: number;
  royaltyFen: number;
}

export interface ReconciliationFindingView {
  id: string;
  billDate: string;
  kind: string;
  /** What it means, in Chinese, for the finance office. */
  title: string;
  /** APPLY_PAYMENT, RECREDIT, INVESTIGATE or ESCALATE. */
  action: string;
  recordKind: string;
  outTradeNo: string;
  tradeNo: string | null;
  cardNo: string | null;
  oursFen: number | null;
  alipayFen: number | null;
  vendorFen: number | null;
  status: 'OPEN' | 'RESOLVED';
  resolution: string | null;
  resolvedBy: string | null;
  resolvedAt: string | null;
  note: string | null;
  /** The repairs a STAFF admin may run now (POST …/findings/:id/:repair). */
  repairs: string[];
}

// GET …/reconciliation/days/:billDate (any role)
export interface ReconciliationDayResponse extends ReconciliationDaySummary {
  totals: {
    kinds: ReconciliationKindFigures[];
    all: { oursFen: number; alipayFen: number; differenceFen: number; feeFen: number; royaltyFen: number };
    vendor: { oursFen: number; vendorFen: number; differenceFen: number; uncheckedCards: number };
  } | null;
  findingList: ReconciliationFindingView[];
}

// GET …/reconciliation/findings?status&billDate (any role)
export interface ReconciliationFindingsResponse {
  items: ReconciliationFindingView[];
}

// POST …/reconciliation/findings/:id/:repair {reason?} (STAFF) — apply-payment | re-credit | mark-handled
export interface ReconciliationRepairResponse {
  changed: boolean;
  finding: ReconciliationFindingView;
}
