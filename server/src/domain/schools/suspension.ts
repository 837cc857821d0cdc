import type { Executor } from '../../db/client.js';
import {
  lockSchool,
  markSchoolSuspended,
  type SchoolRow,
  type SuspensionReason,
} from '../../db/repos/schools/schools.js';
import type { Deps } from '../../deps.js';
import { recordAudit, type Actor } from '../audit/audit.js';
import { DomainError } from '../errors.js';

/**
 * ACTIVE (or SUSPENDED, with a new reason) → SUSPENDED, in the caller's transaction. A PENDING school
 * has no money to stop: it stays PENDING (null).
 */
export async function suspendSchoolInTx(
  tx: Executor,
  deps: Pick<Deps, 'clock'>,
  actor: Actor,
  schoolId: string,
  suspension: { reason: SuspensionReason; detail: string | null },
): Promise<SchoolRow | null> {
  const before = await lockSchool(tx, schoolId);
  if (!before) throw new DomainError('SCHOOL_NOT_FOUND');
  if (before.status === 'PENDING') return null;
  if (before.status === 'SUSPENDED' && before.suspensionReason === suspension.reason) return before;
  const after = await markSchoolSuspended(tx, schoolId, { ...suspension, now: deps.clock.now() });
  await recordAudit(tx, {
    actor,
    schoolId,
    action: 'school.suspend',
    before: { status: before.status, suspensionReason: before.suspensionReason },
    after: { status: 'SUSPENDED', suspensionReason: suspension.reason, suspensionDetail: suspension.detail },
  });
  return after!;
}

/**
 * Suspended because Alipay no longer takes the school's app_auth_token (cancelled in Alipay, or refused and
 * confirmed invalid): nothing charged for the school can succeed until it authorizes again, which lifts
 * such a suspension by itself (isv-authorization.ts).
 */
export function isWaitingForAuthorization(school: Pick<SchoolRow, 'status' | 'suspensionReason'>): boolean {
  return (
    school.status === 'SUSPENDED' &&
    (school.suspensionReason === 'AUTHORIZATION_CANCELLED' ||
      school.suspensionReason === 'AUTHORIZATION_INVALID')
  );
}

/** The outcome of a charge attempt held because the school's authorization is gone (see above). */
export const WAITING_FOR_AUTHORIZATION = 'WAITING_FOR_AUTHORIZATION';

/**
 * What a charge attempt held for the school's authorization records (the collector's and the campus-code
 * drainer's): a call refused with the school's token was made (`refusal`), a hold before any call was not;
 * neither uses a slot of the retry schedule.
 */
export function authorizationHold(refusal: { code: string; subCode: string | null } | null) {
  return {
    outcome: WAITING_FOR_AUTHORIZATION,
    alipayCode: refusal?.code ?? null,
    alipaySubCode: refusal?.subCode ?? null,
    isPayCall: refusal !== null,
    usesRetrySlot: false,
    lastErrorCode: refusal ? (refusal.subCode ?? refusal.code) : 'SCHOOL_SUSPENDED',
  };
}

/**
 * When a charge held for the school's authorization is looked at again: after the school's first retry
 * delay (scaled like every retry), so a school that authorizes again is collected from within that delay.
 */
export function authorizationRecheckAt(
  school: Pick<SchoolRow, 'retryScheduleSeconds'>,
  retryScale: number,
  now: Date,
): Date {
  const seconds = school.retryScheduleSeconds[0] ?? 60;
  return new Date(now.getTime() + Math.round(seconds * 1000 * retryScale));
}
