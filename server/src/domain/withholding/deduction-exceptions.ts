import type { InboxActionResponse } from '../../../../shared/admin-api.js';
import {
  claimDeductionNow,
  findDeduction,
  findDeductionOfSchool,
  waiveDeduction,
} from '../../db/repos/withholding/deductions.js';
import { findSchool } from '../../db/repos/schools/schools.js';
import type { Deps } from '../../deps.js';
import { recordAudit, type Actor } from '../audit/audit.js';
import { DomainError } from '../errors.js';
import { collectDeduction } from './deduction-collection.js';

/**
 * What a school's staff do with swipes Alipay did not pay (DESIGN §7.4):
 *   collect now: one attempt at once, by collectDeduction (the collector's own code and rules: query before
 *     anything when an earlier charge's outcome is open, a new out_trade_no only after a confirmed close);
 *     a failure ends where the collector's would (RETRYING at the next delay, or ARREARS);
 *   waive: the school gives the debt up (its loss), WAIVED; decide_deduction no longer counts it as arrears,
 *     so the payer's swipes are approved again.
 * The claim and the waive are conditional updates with their audit row in one transaction: a double tap
 * finds the row leased or WAIVED and changes nothing.
 */

export async function collectDeductionNow(
  deps: Deps,
  actor: Actor,
  schoolId: string,
  id: string,
): Promise<InboxActionResponse> {
  const now = deps.clock.now();
  const school = await findSchool(deps.db, schoolId);
  if (!school) throw new DomainError('ORDER_NOT_FOUND');
  const claimed = await deps.db.transaction(async (tx) => {
    const before = await findDeductionOfSchool(tx, schoolId, id);
    if (!before || before.decision !== 'APPROVED') throw new DomainError('ORDER_NOT_FOUND');
    const row = await claimDeductionNow(tx, {
      schoolId,
      id,
      now,
      leaseUntil: new Date(now.getTime() + deps.config.deductions.leaseMs),
    });
    if (row) {
      await recordAudit(tx, {
        actor,
        schoolId,
        action: 'deduction.collect-now',
        target: before.deductionNo,
        before: { status: before.status, attempts: before.attempts, lastErrorCode: before.lastErrorCode },
        after: { status: 'RETRYING', collecting: true },
      });
    }
    return { before, row };
  });
  if (!claimed.row) {
    const { before } = claimed;
    if (before.repaymentId && (before.status === 'RETRYING' || before.status === 'ARREARS'))
      throw new DomainError('DEBT_IN_REPAYMENT');
    const isBusy = before.status === 'RETRYING' || before.status === 'ARREARS';
    return {
      changed: false,
      status: before.status,
      message: isBusy ? 'a collection attempt is running' : `already ${before.status}`,
    };
  }
  await collectDeduction(deps, claimed.row, { school });
  const after = (await findDeduction(deps.db, id))!;
  return {
    changed: true,
    status: after.status,
    message:
      after.status === 'COLLECTED' ? 'collected' : `not collected: ${after.lastErrorCode ?? 'unknown'}`,
  };
}

export async function waiveArrears(
  deps: Deps,
  actor: Actor,
  schoolId: string,
  id: string,
  reason: string,
): Promise<InboxActionResponse> {
  const now = deps.clock.now();
  return deps.db.transaction(async (tx) => {
    // Locked: a second tap waits for the first and then finds the debt WAIVED.
    const before = await findDeductionOfSchool(tx, schoolId, id, { lock: true });
    if (!before || before.decision !== 'APPROVED') throw new DomainError('ORDER_NOT_FOUND');
    if (before.status === 'WAIVED') return { changed: false, status: 'WAIVED', message: 'already waived' };
    if (before.status === 'ARREARS' && before.repaymentId) throw new DomainError('DEBT_IN_REPAYMENT');
    const waived = await waiveDeduction(tx, { schoolId, id, reason, now });
    if (!waived) {
      throw new DomainError(
        'ACTION_NOT_ALLOWED',
        before.status === 'ARREARS'
          ? 'a collection attempt is running; look again in a moment'
          : `only arrears can be waived; this one is ${before.status}`,
      );
    }
    await recordAudit(tx, {
      actor,
      schoolId,
      action: 'deduction.waive',
      target: before.deductionNo,
      before: { status: before.status, amountFen: before.amountFen },
      after: { status: 'WAIVED', reason },
    });
    return { changed: true, status: 'WAIVED', message: 'waived: the school takes the loss' };
  });
}
