import type { AdminRole } from '../../../../shared/admin-api.js';
import { findDay } from '../../db/repos/reconciliation/days.js';
import type { Deps } from '../../deps.js';
import { DomainError } from '../errors.js';

/**
 * A day's XLSX workbook for the school's finance office, opened where they work: on a computer. The
 * mini-program cannot hand an XLSX over (my.openDocument previews PDF only), so staff copy a link in the
 * day's page and open it in a browser. The link carries a sealed token (DataProtector.seal: tamper-proof,
 * short-lived, not encrypted) naming the school, the day and the role of the admin who asked (card numbers
 * are masked as for them); it works without a session for `EXPORT_LINK_TTL_MS`.
 */

const PURPOSE = 'reconciliation.export';
export const EXPORT_LINK_TTL_MS = 10 * 60_000;

export interface ExportLinkGrant {
  schoolId: string;
  billDate: string;
  /** The role of the admin who asked: the workbook is masked as for them. */
  role: AdminRole;
}

const ROLES: readonly string[] = ['OWNER', 'STAFF', 'VIEWER'] satisfies AdminRole[];

/** A link to a reconciled day's workbook (RECONCILIATION_DAY_NOT_FOUND for a day that was not). */
export async function exportLink(
  deps: Pick<Deps, 'db' | 'protector' | 'clock' | 'config'>,
  grant: ExportLinkGrant,
): Promise<{ url: string; expiresAt: string }> {
  if (!(await findDay(deps.db, grant.schoolId, grant.billDate)))
    throw new DomainError('RECONCILIATION_DAY_NOT_FOUND', undefined, { field: 'params.billDate' });
  const expiresAt = new Date(deps.clock.now().getTime() + EXPORT_LINK_TTL_MS);
  const token = deps.protector.seal(
    PURPOSE,
    { s: grant.schoolId, d: grant.billDate, r: grant.role },
    expiresAt,
  );
  return {
    url: `${deps.config.publicBaseUrl}/exports/reconciliation/${token}`,
    expiresAt: expiresAt.toISOString(),
  };
}

/** What a link grants, or null when it is forged, for something else or expired. */
export function openExportLink(
  deps: Pick<Deps, 'protector' | 'clock'>,
  token: string,
): ExportLinkGrant | null {
  const payload = deps.protector.unseal(PURPOSE, token, deps.clock.now());
  if (!payload || typeof payload.s !== 'string' || typeof payload.d !== 'string') return null;
  if (typeof payload.r !== 'string' || !ROLES.includes(payload.r)) return null;
  return { schoolId: payload.s, billDate: payload.d, role: payload.r as AdminRole };
}
