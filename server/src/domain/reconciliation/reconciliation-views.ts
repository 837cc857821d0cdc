import type {
  ReconciliationDayResponse,
  ReconciliationDaySummary,
  ReconciliationFindingView,
} from '../../../../shared/admin-api.js';
import {
  findDay,
  listDays,
  listFindings,
  type FindingRow,
  type ReconciliationDayRow,
} from '../../db/repos/reconciliation/days.js';
import type { Deps } from '../../deps.js';
import { DomainError } from '../errors.js';
import { FINDING_KINDS, REPAIRS_BY_ACTION, type FindingAction, type FindingKind } from './findings.js';

/** What the admin area and the CLI show of reconciliation (issue 17). */

export function daySummary(day: ReconciliationDayRow): ReconciliationDaySummary {
  return {
    billDate: day.billDate,
    status: day.status,
    balanced: day.balanced,
    billRows: day.billRows,
    findings: day.findings,
    openFindings: day.openFindings,
    attempts: day.attempts,
    lastError: day.lastError,
    matchedAt: day.matchedAt?.toISOString() ?? null,
  };
}

const asIs = (cardNo: string) => cardNo;

/** `maskCard`: viewers see card numbers masked (domain/orders/masking.ts), as in the inbox. */
export function findingView(f: FindingRow, maskCard = asIs): ReconciliationFindingView {
  return {
    id: f.id,
    billDate: f.billDate,
    kind: f.kind,
    title: FINDING_KINDS[f.kind as FindingKind]?.title ?? f.kind,
    action: f.action,
    recordKind: f.recordKind,
    outTradeNo: f.outTradeNo,
    tradeNo: f.tradeNo,
    cardNo: f.cardNo === null ? null : maskCard(f.cardNo),
    oursFen: f.oursFen,
    alipayFen: f.alipayFen,
    vendorFen: f.vendorFen,
    status: f.status,
    resolution: f.resolution,
    resolvedBy: f.resolvedBy,
    resolvedAt: f.resolvedAt?.toISOString() ?? null,
    note: f.note,
    repairs:
      f.status === 'OPEN' ? [...(REPAIRS_BY_ACTION[f.action as FindingAction] ?? ['mark-handled'])] : [],
  };
}

export async function calendar(deps: Pick<Deps, 'db'>, schoolId: string, from: string, to: string) {
  return { days: (await listDays(deps.db, schoolId, from, to)).map(daySummary) };
}

export async function dayDetail(
  deps: Pick<Deps, 'db'>,
  schoolId: string,
  billDate: string,
  options: { findingLimit?: number; maskCard?: (cardNo: string) => string } = {},
): Promise<ReconciliationDayResponse> {
  const day = await findDay(deps.db, schoolId, billDate);
  if (!day) throw new DomainError('RECONCILIATION_DAY_NOT_FOUND', undefined, { field: 'params.billDate' });
  const findings = await listFindings(deps.db, schoolId, {
    billDate,
    limit: options.findingLimit ?? 1_000,
  });
  return {
    ...daySummary(day),
    totals: day.totals as ReconciliationDayResponse['totals'],
    findingList: findings.map((f) => findingView(f, options.maskCard)),
  };
}

export async function findingsList(
  deps: Pick<Deps, 'db'>,
  schoolId: string,
  filter: { billDate?: string; status?: 'OPEN' | 'RESOLVED'; limit: number },
  maskCard = asIs,
) {
  return { items: (await listFindings(deps.db, schoolId, filter)).map((f) => findingView(f, maskCard)) };
}
