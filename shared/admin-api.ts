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
  /** Terminal orders paid this many minutes ago without a dispense report are shown as exceptions. */
  terminalDispenseWindowMinutes: number;
  /**
   * Seed 002 §1: a payer the school does not know (no card bound here, no phone shared) shares their Alipay
   * mobile before paying a vending machine or window in the mini-program.
   */
  terminalPayRequiresPhone: boolean;
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
  /** 分润 as Alipay's bill shows it, and ours for the same trades (refunds: negative, taken back). */
  royaltyFen: number;
  oursRoyaltyFen: number;
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
  /**
   * The repairs a STAFF admin may run now: actions of the exceptions inbox,
   * POST …/inbox/reconciliation.finding/:id/:repair {reason?} (mark-handled needs the reason).
   */
  repairs: string[];
}

// GET …/reconciliation/days/:billDate (any role)
/** POST …/reconciliation/days/:billDate/export-link: the day's workbook, to open in a computer's browser. */
export interface ReconciliationExportLinkResponse {
  url: string;
  /** ISO time; the link answers 410 after it. */
  expiresAt: string;
}

export interface ReconciliationDayResponse extends ReconciliationDaySummary {
  totals: {
    kinds: ReconciliationKindFigures[];
    all: {
      oursFen: number;
      alipayFen: number;
      differenceFen: number;
      feeFen: number;
      royaltyFen: number;
      oursRoyaltyFen: number;
    };
    vendor: { oursFen: number; vendorFen: number; differenceFen: number; uncheckedCards: number };
  } | null;
  findingList: ReconciliationFindingView[];
}

// GET …/reconciliation/findings?status&billDate (any role)
export interface ReconciliationFindingsResponse {
  items: ReconciliationFindingView[];
}

// ---- issue 13: dashboard, orders, exceptions inbox, roster import ---------------------------------------

// GET /admin/schools/:schoolId/dashboard (any role)
export interface DashboardDay {
  /** Beijing calendar day, yyyy-MM-dd. */
  day: string;
  recharges: { paidCount: number; paidFen: number; creditedCount: number; creditFailedCount: number };
  deductions: {
    approvedCount: number;
    approvedFen: number;
    declinedCount: number;
    /** Declines by reason (NOT_SIGNED, IN_ARREARS, OVER_DAILY_LIMIT …). */
    declinedByReason: Record<string, number>;
    collectedCount: number;
    collectedFen: number;
    arrearsCount: number;
    waivedCount: number;
    waivedFen: number;
  };
  refunds: { succeededCount: number; succeededFen: number };
}
export interface OpenWork {
  count: number;
  amountFen: number;
  /** When the oldest of them started waiting; null when there are none. */
  oldestAt: string | null;
}
export interface DashboardResponse {
  /** Today first, then the six days before it (7 in all), for the trend chart. */
  days: DashboardDay[];
  /** What stands open right now. */
  now: {
    recharges: { unpaid: OpenWork; waitingCredit: OpenWork; creditFailed: OpenWork };
    deductions: { retrying: OpenWork; arrears: OpenWork };
    refunds: { pending: OpenWork; failed: OpenWork };
    activeBindings: number;
    activeAgreements: number;
    pendingAgreements: number;
    /** The job backlog: work due and not yet done, and since when the oldest has waited. */
    backlog: {
      deductionsDue: number;
      oldestDeductionDueAt: string | null;
      creditsDue: number;
      oldestCreditDueAt: string | null;
    };
    /** Items in the exceptions inbox. */
    inboxCount: number;
  };
  /** Until when the daily figures are counted (they are folded every half minute or so). */
  statsAsOf: string | null;
}

// GET /admin/schools/:schoolId/orders?kind&cardNo&orderNo&txnNo&status&from&to&cursor&limit (any role)
export type AdminOrderKind = 'RECHARGE' | 'DEDUCTION' | 'REPAYMENT' | 'REFUND';
export interface AdminOrderItem {
  kind: AdminOrderKind;
  id: string;
  /** Our order number (R…, D…, P…) or a refund's request number. */
  orderNo: string;
  status: string;
  amountFen: number | null;
  /** Masked (last four digits) for viewers. */
  cardNo: string | null;
  txnNo: string | null;
  /** Decline reason, last error … */
  detail: string | null;
  createdAt: string;
}
export interface AdminOrdersResponse {
  items: AdminOrderItem[];
  /** Pass back as `cursor` for the next (older) page; null on the last page. */
  nextCursor: string | null;
}

// GET /admin/schools/:schoolId/orders/:kind/:id (any role)
export type TimelineEntryKind = 'STATUS' | 'CALL' | 'NOTIFICATION' | 'ATTEMPT' | 'ADMIN';
export interface TimelineEntry {
  at: string;
  kind: TimelineEntryKind;
  /** STATUS: "PAID → CREDITED"; CALL: "alipay.trade.pay"; NOTIFICATION: "trade_status_sync TRADE_SUCCESS"; ADMIN: the audit action. */
  title: string;
  /** CALL: OK / UNKNOWN / RETRYABLE / FINAL; NOTIFICATION: APPLIED …; ATTEMPT: the collector's outcome. */
  outcome: string | null;
  code: string | null;
  subCode: string | null;
  durationMs: number | null;
  /** Who (ADMIN), which out_trade_no / request no (CALL), detail text. */
  detail: string | null;
}
export interface AdminOrderDetail {
  order: AdminOrderItem & {
    holderName: string | null;
    alipayTradeNo: string | null;
    terminalId: string | null;
    attempts: number | null;
    lastError: string | null;
    updatedAt: string;
  };
  timeline: TimelineEntry[];
  /** What an admin may do with it from the inbox now (same names as the inbox actions). */
  actions: InboxActionName[];
}

// GET /admin/schools/:schoolId/inbox?kind&cursor (any role): what needs a person
export type InboxKind = string;
export type InboxActionName =
  | 'retry-credit'
  | 'refund'
  | 'retry-refund'
  | 'mark-handled'
  | 'collect-now'
  | 'waive'
  | 'resolve-agreement'
  | 'retry-card-sync'
  | (string & {});
export interface InboxItem {
  kind: InboxKind;
  /** The id to act on: an order id, a refund id, an agreement id, a binding id. */
  id: string;
  /** An order's timeline, when the item is an order: GET /orders/:orderKind/:orderId. */
  order: { kind: AdminOrderKind; id: string } | null;
  title: string;
  orderNo: string | null;
  cardNo: string | null;
  amountFen: number | null;
  status: string;
  /** The last error, in the vendor's or Alipay's words. */
  detail: string | null;
  since: string;
  actions: Array<{ name: InboxActionName; needsReason: boolean; role: AdminRole }>;
}
export interface InboxResponse {
  /** Every kind the platform knows, with how many items wait, for the tabs. */
  kinds: Array<{ kind: InboxKind; title: string; count: number }>;
  items: InboxItem[];
  nextCursor: string | null;
}
// POST /admin/schools/:schoolId/inbox/:kind/:id/:action {reason?} (staff)
export interface InboxActionRequest {
  /** Required for waive and mark-handled. */
  reason?: string;
}
export interface InboxActionResponse {
  /** false when nothing was done because it had been done already (a double tap) or moved on. */
  changed: boolean;
  /** The item's state after the action: CREDITED, REFUNDED, COLLECTED, ARREARS, WAIVED … */
  status: string;
  message: string;
}

// POST /admin/schools/:schoolId/roster/imports (owner; multipart: file, markMissingAsLeft) → 201 or 202
// GET  /admin/schools/:schoolId/roster/imports/:id (owner)
export type RosterImportStatus = 'QUEUED' | 'RUNNING' | 'DONE' | 'FAILED';
export interface RosterRowError {
  /** 1-based line of the file, the header being line 1. */
  row: number;
  /** name, studentNo, cardNo, idNumber, phone, guardianPhone, isStudent, or the unknown column's header. */
  field: string;
  reason: string;
}
export interface RosterImportView {
  id: string;
  status: RosterImportStatus;
  fileName: string;
  totalRows: number | null;
  processedRows: number;
  inserted: number;
  updated: number;
  unchanged: number;
  rejected: number;
  markedLeft: number;
  errors: RosterRowError[];
  errorsTruncated: boolean;
  /** Why the whole file was refused. */
  failure: string | null;
  createdAt: string;
  finishedAt: string | null;
}
export interface RosterImportsResponse {
  items: RosterImportView[];
}

// Terminals: vending machines and cashier windows (issue #15, DESIGN §7.6)
export type TerminalKind = 'VENDING' | 'CASHIER';
export type TerminalMoneyMode = 'PLAIN' | 'RESTRICTED' | 'ROYALTY';
export type RoyaltyTiming = 'ON_PAYMENT' | 'AFTER_DISPENSE';

/** Where the money goes: PLAIN (the school), RESTRICTED (seller_id = the operator), ROYALTY (a share). */
export interface TerminalMoneyModeInput {
  moneyMode: TerminalMoneyMode;
  /** RESTRICTED: the operator's Alipay account (2088 + 12 digits), seller_id of every trade. */
  sellerId?: string;
  /** ROYALTY: the operator's account and share (basis points 1–10000, or fixed fen per order), split with
   * royalty_info on the trade (ON_PAYMENT) or with alipay.trade.order.settle once dispensed (AFTER_DISPENSE). */
  royalty?: { account: string; bps?: number; fixedFen?: number; timing: RoyaltyTiming };
}

// POST /admin/schools/:schoolId/terminals (owner) → 201 CreatedTerminal
export interface TerminalInput extends TerminalMoneyModeInput {
  /** Alipay's terminal_id: 1–32 of [A-Za-z0-9_-], unique at the school. */
  terminalId: string;
  kind: TerminalKind;
  name: string;
  location?: string | null;
  operatorName?: string | null;
  /** Where paid orders are pushed, signed like the machine's own requests (null: the machine polls). */
  callbackUrl?: string | null;
  /** The machine's timeout: unpaid orders close after it (30–86400, default 120). */
  orderTimeoutSeconds?: number;
}
/** A type, not an interface: audit rows take it as a plain record. */
export type TerminalView = {
  id: string;
  terminalId: string;
  kind: TerminalKind;
  name: string;
  location: string | null;
  operatorName: string | null;
  moneyMode: TerminalMoneyMode;
  sellerId: string | null;
  royalty: { account: string; bps: number | null; fixedFen: number | null; timing: RoyaltyTiming } | null;
  callbackUrl: string | null;
  orderTimeoutSeconds: number;
  status: 'ACTIVE' | 'DISABLED';
  /** The terminal's HMAC client id (X-Client-Id). */
  clientId: string;
  createdAt: string;
  updatedAt: string;
};
export interface CreatedTerminal {
  terminal: TerminalView;
  clientId: string;
  /** The HMAC secret, shown only in this answer. */
  secret: string;
}
// GET /admin/schools/:schoolId/terminals (any role)
export interface TerminalsResponse {
  items: TerminalView[];
}
// PUT …/terminals/:id (staff): name, location, operatorName, kind, callbackUrl, orderTimeoutSeconds
export type UpdateTerminalRequest = Partial<
  Pick<TerminalInput, 'name' | 'location' | 'operatorName' | 'kind' | 'callbackUrl' | 'orderTimeoutSeconds'>
>;
// PUT …/terminals/:id/money-mode (owner): TerminalMoneyModeInput; PUT …/terminals/:id/status (staff)
export interface TerminalStatusRequest {
  status: 'ACTIVE' | 'DISABLED';
}

// GET /admin/schools/:schoolId/terminal-orders?status=&terminalId=&before=&limit= (any role)
export interface TerminalOrderAdminView {
  orderNo: string;
  outOrderNo: string;
  terminal: { id: string; terminalId: string; name: string };
  status: 'CREATED' | 'PAID' | 'CLOSED';
  amountFen: number;
  items: Array<{ name: string; quantity: number; unitFen: number }>;
  createdAt: string;
  paidAt: string | null;
  channel: 'QR' | 'MINIAPP' | null;
  alipayTradeNo: string | null;
  closedAt: string | null;
  closeReason: string | null;
  dispense: { result: 'OK' | 'PARTIAL' | 'FAILED'; reportedAt: string } | null;
  callback: {
    status: 'PENDING' | 'ACKNOWLEDGED' | 'GAVE_UP';
    attempts: number;
    lastError: string | null;
  } | null;
  royalty: {
    account: string;
    shareFen: number;
    timing: RoyaltyTiming;
    settle: {
      status: string;
      settleNo: string | null;
      amountFen: number | null;
      lastError: string | null;
    } | null;
  } | null;
  sellerId: string | null;
  refunds: Array<{
    id: string;
    kind: 'TERMINAL_DISPENSE' | 'TERMINAL_UNWANTED_PAYMENT';
    amountFen: number;
    royaltyReturnedFen: number;
    status: 'PENDING' | 'SUCCEEDED' | 'FAILED';
    reason: string | null;
    lastError: string | null;
  }>;
}
export interface TerminalOrdersResponse {
  items: TerminalOrderAdminView[];
  /** Pass as `before` for older orders; null at the end. */
  nextBefore: string | null;
}
/**
 * GET …/terminal-orders/exceptions?kind= (any role): NO_DISPENSE_REPORT (paid longer ago than the school's
 * window, no report from the machine), REFUND_FAILED (Alipay refused a refund: a person must act),
 * CALLBACK_GAVE_UP (the machine never acknowledged the paid callback), SETTLE_FAILED (the royalty split failed).
 */
export type TerminalExceptionKind =
  'NO_DISPENSE_REPORT' | 'REFUND_FAILED' | 'CALLBACK_GAVE_UP' | 'SETTLE_FAILED';
export type TerminalExceptionsResponse = TerminalOrdersResponse;
// GET …/terminal-orders/summary (any role)
export type TerminalExceptionSummary = Record<TerminalExceptionKind, number>;
