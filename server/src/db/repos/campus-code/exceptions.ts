import { and, desc, eq, lt, sql, type SQL } from 'drizzle-orm';
import type { CampusCodeExceptionKind } from '../../../../../shared/admin-api.js';
import type { Executor } from '../../client.js';
import { campusCodePayments, gatewayClients } from '../../schema.js';
import type { CampusCodePaymentRow } from './payments.js';

/**
 * What the school's admins must see of campus codes (issue #14): uploads that came late (with the device,
 * to chase its vendor), uploads too old to charge (EXPIRED), payments Alipay refused (FAILED: the school's
 * loss, with the student). Newest first, paged by id (time-ordered uuidv7).
 */
export type { CampusCodeExceptionKind };

export type CampusCodeExceptionRow = CampusCodePaymentRow & { deviceName: string | null };

function kindFilter(kind: CampusCodeExceptionKind): SQL {
  if (kind === 'LATE') return sql`${campusCodePayments.isLate}`;
  return eq(campusCodePayments.status, kind);
}

export async function listExceptionRows(
  db: Executor,
  schoolId: string,
  kind: CampusCodeExceptionKind,
  page: { beforeId?: string; limit: number },
): Promise<CampusCodeExceptionRow[]> {
  const rows = await db
    .select({ payment: campusCodePayments, deviceName: gatewayClients.name })
    .from(campusCodePayments)
    .leftJoin(gatewayClients, eq(gatewayClients.id, campusCodePayments.gatewayClientId))
    .where(
      and(
        eq(campusCodePayments.schoolId, schoolId),
        kindFilter(kind),
        page.beforeId ? lt(campusCodePayments.id, page.beforeId) : undefined,
      ),
    )
    .orderBy(desc(campusCodePayments.id))
    .limit(page.limit);
  return rows.map((row) => ({ ...row.payment, deviceName: row.deviceName }));
}

export async function countExceptions(
  db: Executor,
  schoolId: string,
): Promise<Record<CampusCodeExceptionKind, number>> {
  const [row] = await db
    .select({
      LATE: sql<number>`count(*) filter (where ${campusCodePayments.isLate})::int`,
      EXPIRED: sql<number>`count(*) filter (where ${campusCodePayments.status} = 'EXPIRED')::int`,
      FAILED: sql<number>`count(*) filter (where ${campusCodePayments.status} = 'FAILED')::int`,
    })
    .from(campusCodePayments)
    .where(
      and(
        eq(campusCodePayments.schoolId, schoolId),
        sql`(${campusCodePayments.isLate} or ${campusCodePayments.status} in ('EXPIRED', 'FAILED'))`,
      ),
    );
  return row;
}
