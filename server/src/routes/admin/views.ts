import type {
  AdminSchoolDetail,
  AdminSchoolItem,
  AuditEntryView,
  SchoolAdminView,
  SchoolSettingsView,
} from '../../../../shared/admin-api.js';
import type { AdminMember, AdminMembership, AdminRole } from '../../db/repos/admin/admins.js';
import type { AuditRow } from '../../db/repos/audit/audit-log.js';
import type { SchoolRow } from '../../db/repos/schools/schools.js';

/** Rows → the shapes of shared/admin-api.ts. Tokens, credentials and other secrets never leave through here. */

export function membershipView(membership: AdminMembership): AdminSchoolItem {
  return {
    schoolId: membership.schoolId,
    code: membership.schoolCode,
    name: membership.schoolName,
    status: membership.schoolStatus as AdminSchoolItem['status'],
    role: membership.role,
  };
}

export function schoolDetailView(
  school: SchoolRow,
  role: AdminRole,
  alipay: { isAlipayAuthorized: boolean },
): AdminSchoolDetail {
  return {
    schoolId: school.id,
    code: school.code,
    name: school.name,
    status: school.status,
    role,
    suspension:
      school.status === 'SUSPENDED' && school.suspensionReason
        ? {
            reason: school.suspensionReason,
            detail: school.suspensionDetail,
            since: (school.suspendedAt ?? school.updatedAt).toISOString(),
          }
        : null,
    isAlipayAuthorized: alipay.isAlipayAuthorized,
    isCardSystemConnected: !!school.cardsysEndpoint,
    servicePhone: school.servicePhone,
  };
}

export function settingsView(school: SchoolRow): SchoolSettingsView {
  return {
    name: school.name,
    servicePhone: school.servicePhone,
    rechargeMinFen: school.rechargeMinFen,
    rechargeMaxFen: school.rechargeMaxFen,
    withholdingEnabled: school.withholdingEnabled,
    txnLimitFen: school.txnLimitFen,
    dailyLimitFen: school.dailyLimitFen,
    retryScheduleSeconds: school.retryScheduleSeconds,
    parentApproval: school.parentApproval,
    swipeMaxAgeMinutes: school.swipeMaxAgeMinutes,
    swipeMaxAheadMinutes: school.swipeMaxAheadMinutes,
    alipayInstitutionCode: school.alipayInstitutionCode,
    campusCodeWindowDays: school.campusCodeWindowDays,
    campusCodeLateAfterHours: school.campusCodeLateAfterHours,
    campusCodeMaxFen: school.campusCodeMaxFen,
    terminalDispenseWindowMinutes: school.terminalDispenseWindowMinutes,
    terminalPayRequiresPhone: school.terminalPayRequiresPhone,
  };
}

export function adminView(member: AdminMember, viewerId: string): SchoolAdminView {
  const alipayId = member.alipayUserId ?? member.alipayOpenId ?? '';
  return {
    userId: member.userId,
    role: member.role,
    displayName: member.displayName,
    alipayIdHint: alipayId.slice(-4),
    isYou: member.userId === viewerId,
    since: member.createdAt.toISOString(),
  };
}

export function auditEntryView(row: AuditRow, names: ReadonlyMap<string, string | null>): AuditEntryView {
  return {
    id: row.id,
    occurredAt: row.occurredAt.toISOString(),
    actor: {
      kind: row.actorKind,
      id: row.actorId,
      displayName: row.actorKind === 'ADMIN' ? (names.get(row.actorId) ?? null) : null,
    },
    action: row.action,
    target: row.target,
    before: row.before as Record<string, unknown> | null,
    after: row.after as Record<string, unknown> | null,
    requestId: row.requestId,
  };
}
