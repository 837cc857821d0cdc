/**
 * The school admins' API (`/api/v1/admin`, shared/admin-api.ts), through the same client as the rest of
 * the mini-program (session, silent re-login, error model). my.request has no PATCH: changes are PUTs.
 */
import type {
  AdminRole,
  AdminSchoolDetail,
  AdminSchoolItem,
  AdminSchoolsResponse,
  AuditResponse,
  CampusCodeExceptionKind,
  CampusCodeExceptionsResponse,
  CampusCodeSummaryResponse,
  CreateInvitationRequest,
  InvitationView,
  SchoolAdminView,
  SchoolAdminsResponse,
  SchoolSettingsView,
  UpdateSchoolSettingsRequest,
} from '../shared/admin-api';
import { call } from './api';

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
};
