/**
 * The school admins' API (`/api/v1/admin`, shared/admin-api.ts), through the same client as the rest of
 * the mini-program (session, silent re-login, error model). my.request has no PATCH: changes are PUTs.
 */
import type {
  AdminOrderDetail,
  AdminOrderKind,
  AdminOrdersResponse,
  AdminRole,
  AdminSchoolDetail,
  AdminSchoolItem,
  AdminSchoolsResponse,
  AuditResponse,
  CampusCodeExceptionKind,
  CampusCodeExceptionsResponse,
  CampusCodeSummaryResponse,
  CreateInvitationRequest,
  DashboardResponse,
  InboxActionResponse,
  InboxResponse,
  InvitationView,
  ReconciliationCalendarResponse,
  ReconciliationDayResponse,
  ReconciliationExportLinkResponse,
  RosterImportView,
  RosterImportsResponse,
  SchoolAdminView,
  SchoolAdminsResponse,
  SchoolSettingsView,
  CreatedTerminal,
  TerminalExceptionKind,
  TerminalExceptionSummary,
  TerminalInput,
  TerminalMoneyModeInput,
  TerminalOrdersResponse,
  TerminalsResponse,
  TerminalView,
  UpdateSchoolSettingsRequest,
  UpdateTerminalRequest,
} from '../shared/admin-api';
import { call, upload } from './api';

const school = (schoolId: string) => `/admin/schools/${encodeURIComponent(schoolId)}`;

export const adminApi = {
  schools: () => call<AdminSchoolsResponse>('GET', '/admin/schools'),
  redeem: (code: string) => call<AdminSchoolItem>('POST', '/admin/invitations/redeem', { body: { code } }),

  school: (schoolId: string) => call<AdminSchoolDetail>('GET', school(schoolId)),
  settings: (schoolId: string) => call<SchoolSettingsView>('GET', `${school(schoolId)}/settings`),
  updateSettings: (schoolId: string, changes: UpdateSchoolSettingsRequest) =>
    call<SchoolSettingsView>('PUT', `${school(schoolId)}/settings`, { body: changes }),

  admins: (schoolId: string) => call<SchoolAdminsResponse>('GET', `${school(schoolId)}/admins`),
  changeRole: (schoolId: string, userId: string, role: AdminRole) =>
    call<SchoolAdminView>('PUT', `${school(schoolId)}/admins/${encodeURIComponent(userId)}`, {
      body: { role },
    }),
  removeAdmin: (schoolId: string, userId: string) =>
    call<unknown>('DELETE', `${school(schoolId)}/admins/${encodeURIComponent(userId)}`),
  invite: (schoolId: string, request: CreateInvitationRequest) =>
    call<InvitationView>('POST', `${school(schoolId)}/invitations`, { body: request }),

  audit: (schoolId: string, page: { limit: number; before?: number }) =>
    call<AuditResponse>('GET', `${school(schoolId)}/audit`, { query: page }),

  campusCodeSummary: (schoolId: string) =>
    call<CampusCodeSummaryResponse>('GET', `${school(schoolId)}/campus-code/summary`),
  campusCodeExceptions: (
    schoolId: string,
    page: { kind: CampusCodeExceptionKind; limit: number; before?: string },
  ) =>
    call<CampusCodeExceptionsResponse>('GET', `${school(schoolId)}/campus-code/exceptions`, { query: page }),
  // issue 13: dashboard, orders, exceptions inbox, roster import
  dashboard: (schoolId: string) => call<DashboardResponse>('GET', `${school(schoolId)}/dashboard`),
  orders: (schoolId: string, query: Record<string, string | undefined>) =>
    call<AdminOrdersResponse>('GET', `${school(schoolId)}/orders`, { query }),
  order: (schoolId: string, kind: AdminOrderKind, id: string) =>
    call<AdminOrderDetail>('GET', `${school(schoolId)}/orders/${kind}/${encodeURIComponent(id)}`),
  inbox: (schoolId: string, query: { kind?: string; cursor?: string; limit?: number }) =>
    call<InboxResponse>('GET', `${school(schoolId)}/inbox`, { query }),
  inboxAction: (schoolId: string, item: { kind: string; id: string }, action: string, reason?: string) =>
    call<InboxActionResponse>(
      'POST',
      `${school(schoolId)}/inbox/${encodeURIComponent(item.kind)}/${encodeURIComponent(item.id)}/${encodeURIComponent(action)}`,
      { body: reason === undefined ? {} : { reason } },
    ),
  // issue 17: reconciliation (a finding's repairs are inbox actions of kind reconciliation.finding)
  reconciliationDays: (schoolId: string, range: { from: string; to: string }) =>
    call<ReconciliationCalendarResponse>('GET', `${school(schoolId)}/reconciliation/days`, { query: range }),
  reconciliationDay: (schoolId: string, billDate: string) =>
    call<ReconciliationDayResponse>(
      'GET',
      `${school(schoolId)}/reconciliation/days/${encodeURIComponent(billDate)}`,
    ),
  reconciliationExportLink: (schoolId: string, billDate: string) =>
    call<ReconciliationExportLinkResponse>(
      'POST',
      `${school(schoolId)}/reconciliation/days/${encodeURIComponent(billDate)}/export-link`,
    ),
  rerunReconciliation: (schoolId: string, billDate: string) =>
    call<{ queued: boolean; billDate: string }>(
      'POST',
      `${school(schoolId)}/reconciliation/days/${encodeURIComponent(billDate)}/rerun`,
    ),
  rosterImports: (schoolId: string) =>
    call<RosterImportsResponse>('GET', `${school(schoolId)}/roster/imports`),
  rosterImport: (schoolId: string, id: string) =>
    call<RosterImportView>('GET', `${school(schoolId)}/roster/imports/${encodeURIComponent(id)}`),
  /** 201 with the report (small files), 202 while a job imports it (poll rosterImport). */
  uploadRoster: (
    schoolId: string,
    file: { filePath: string; fileName: string },
    markMissingAsLeft: boolean,
  ) =>
    upload<RosterImportView>(
      `${school(schoolId)}/roster/imports`,
      { ...file, field: 'file' },
      { markMissingAsLeft: markMissingAsLeft ? '1' : '0' },
    ),
  // issue 15: vending machines and cashier windows
  terminals: (schoolId: string) => call<TerminalsResponse>('GET', `${school(schoolId)}/terminals`),
  terminal: (schoolId: string, id: string) =>
    call<TerminalView>('GET', `${school(schoolId)}/terminals/${encodeURIComponent(id)}`),
  /** Owners; the answer holds the terminal's HMAC secret, shown only this once. */
  createTerminal: (schoolId: string, input: TerminalInput) =>
    call<CreatedTerminal>('POST', `${school(schoolId)}/terminals`, { body: input }),
  updateTerminal: (schoolId: string, id: string, edit: UpdateTerminalRequest) =>
    call<TerminalView>('PUT', `${school(schoolId)}/terminals/${encodeURIComponent(id)}`, { body: edit }),
  setTerminalMoneyMode: (schoolId: string, id: string, mode: TerminalMoneyModeInput) =>
    call<TerminalView>('PUT', `${school(schoolId)}/terminals/${encodeURIComponent(id)}/money-mode`, {
      body: mode,
    }),
  setTerminalStatus: (schoolId: string, id: string, status: 'ACTIVE' | 'DISABLED') =>
    call<TerminalView>('PUT', `${school(schoolId)}/terminals/${encodeURIComponent(id)}/status`, {
      body: { status },
    }),
  terminalOrders: (
    schoolId: string,
    query: { status?: string; terminalId?: string; before?: string; limit: number },
  ) => call<TerminalOrdersResponse>('GET', `${school(schoolId)}/terminal-orders`, { query }),
  terminalExceptions: (
    schoolId: string,
    query: { kind: TerminalExceptionKind; before?: string; limit: number },
  ) => call<TerminalOrdersResponse>('GET', `${school(schoolId)}/terminal-orders/exceptions`, { query }),
  terminalSummary: (schoolId: string) =>
    call<TerminalExceptionSummary>('GET', `${school(schoolId)}/terminal-orders/summary`),
};
