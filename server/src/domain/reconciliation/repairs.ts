import {
  countFindings,
  findFinding,
  resolveFinding,
  saveDay,
  findDay,
  type FindingRow,
} from '../../db/repos/reconciliation/days.js';
import { findRechargeByOutTradeNo } from '../../db/repos/recharge/recharges.js';
import { findSchool } from '../../db/repos/schools/schools.js';
import type { Deps } from '../../deps.js';
import { actorId, recordAudit, type Actor } from '../audit/audit.js';
import { DomainError } from '../errors.js';
import { cardSystemFailure } from '../outside-errors.js';
import { REPAIRS_BY_ACTION, type FindingAction } from './findings.js';
import { recordSource } from './record-sources.js';

/**
 * The repairs of reconciliation findings (issue 17), each run once: the finding goes OPEN → RESOLVED in
 * the transaction that writes its audit row, and a second tap answers `changed: false`. The money-moving
 * part goes through the capability's own code first: a lost payment through the notify/sweep path, a
 * missing credit through the vendor's Recharge with the order's own flow number (the vendor credits a flow
 * number once, so a repeated or concurrent re-credit cannot credit twice). Nothing here reverses money.
 */

export type RepairName = 'apply-payment' | 're-credit' | 'mark-handled';

export interface RepairResult {
  changed: boolean;
  finding: FindingRow;
}

export async function repairFinding(
  deps: Deps,
  actor: Actor,
  schoolId: string,
  input: { id: string; repair: string; reason?: string },
): Promise<RepairResult> {
  const finding = await findFinding(deps.db, schoolId, input.id);
  if (!finding) throw new DomainError('FINDING_NOT_FOUND');
  const allowed = REPAIRS_BY_ACTION[finding.action as FindingAction] ?? ['mark-handled'];
  if (!allowed.includes(input.repair)) {
    throw new DomainError(
      'FINDING_ACTION_NOT_APPLICABLE',
      `${finding.kind} takes ${allowed.join(' or ')}, not ${input.repair}`,
      { field: 'params.action' },
    );
  }
  if (finding.status !== 'OPEN') return { changed: false, finding };
  if (input.repair === 'mark-handled' && !input.reason)
    throw new DomainError('VALIDATION_FAILED', 'body.reason: say what was done', { field: 'body.reason' });

  let resolution: string;
  if (input.repair === 'apply-payment') {
    const source = recordSource(finding.recordKind);
    if (!source?.applyPayment) throw new DomainError('FINDING_ACTION_NOT_APPLICABLE');
    const applied = await source.applyPayment(deps, finding.outTradeNo);
    if (!applied) {
      throw new DomainError(
        'FINDING_ACTION_NOT_APPLICABLE',
        'Alipay does not confirm this payment now (or its amount differs); investigate instead',
      );
    }
    resolution = 'APPLIED';
  } else if (input.repair === 're-credit') {
    await recredit(deps, schoolId, finding);
    resolution = 'RECREDITED';
  } else {
    resolution = 'HANDLED';
  }

  const now = deps.clock.now();
  const resolved = await deps.db.transaction(async (tx) => {
    const row = await resolveFinding(tx, finding.id, {
      resolution,
      resolvedBy: `${actor.kind}:${actorId(actor)}`,
      note: input.reason ?? null,
      at: now,
    });
    if (!row) return undefined;
    await recordAudit(tx, {
      actor,
      schoolId,
      action: `reconciliation.${input.repair}`,
      target: finding.outTradeNo,
      before: { findingId: finding.id, kind: finding.kind, billDate: finding.billDate, status: 'OPEN' },
      after: { status: 'RESOLVED', resolution, ...(input.reason ? { reason: input.reason } : {}) },
    });
    await refreshDay(tx, schoolId, finding.billDate, now);
    return row;
  });
  if (!resolved) return { changed: false, finding: (await findFinding(deps.db, schoolId, finding.id))! };
  return { changed: true, finding: resolved };
}

/** The same flow number as the first credit: the vendor credits it at most once. */
async function recredit(deps: Deps, schoolId: string, finding: FindingRow): Promise<void> {
  const order = await findRechargeByOutTradeNo(deps.db, finding.outTradeNo);
  const school = await findSchool(deps.db, schoolId);
  if (!order || order.schoolId !== schoolId || !school) throw new DomainError('FINDING_NOT_FOUND');
  try {
    await deps.schools
      .cardSystem(school)
      .recharge({ cardNo: order.cardNo, amountFen: order.amountFen, flowNo: order.outTradeNo });
  } catch (error) {
    throw cardSystemFailure(error); // a CardSystemError as the refusal a person sees; anything else as it is
  }
}

/** The day's finding counts and balance after a repair. */
async function refreshDay(
  tx: Parameters<typeof countFindings>[0],
  schoolId: string,
  billDate: string,
  now: Date,
) {
  const day = await findDay(tx, schoolId, billDate);
  if (!day) return;
  const counts = await countFindings(tx, schoolId, billDate);
  const unchecked =
    (day.totals as { vendor?: { uncheckedCards?: number } } | null)?.vendor?.uncheckedCards ?? 0;
  await saveDay(
    tx,
    schoolId,
    billDate,
    {
      status: day.status,
      findings: counts.total,
      openFindings: counts.open,
      balanced: day.status === 'MATCHED' && counts.open === 0 && unchecked === 0,
    },
    now,
  );
}
