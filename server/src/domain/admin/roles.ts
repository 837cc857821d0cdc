import type { AdminRole } from '../../db/repos/admin/admins.js';

export type { AdminRole };

/**
 * What each role of a school's admins may do (DESIGN §7.0, issue 10): OWNER everything, including the
 * school's settings and its admins; STAFF operates (orders, retries, refunds within the school's limits);
 * VIEWER reads. Each role includes the ones below it.
 */
const RANK: Readonly<Record<AdminRole, number>> = { VIEWER: 1, STAFF: 2, OWNER: 3 };

export const ADMIN_ROLE_NAMES: readonly AdminRole[] = ['OWNER', 'STAFF', 'VIEWER'];

export function hasRole(role: AdminRole, minimum: AdminRole): boolean {
  return RANK[role] >= RANK[minimum];
}
