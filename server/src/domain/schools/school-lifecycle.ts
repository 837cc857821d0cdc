import {
  findSchool,
  insertSchoolIfNew,
  lockSchool,
  markSchoolActive,
  setCardSystemVerified,
  type SchoolRow,
} from '../../db/repos/schools/schools.js';
import type { Deps } from '../../deps.js';
import { recordAudit, type Actor } from '../audit/audit.js';
import { DomainError } from '../errors.js';
import { probeCardSystem, type SideCheck } from './card-system-connection.js';
import { checkAlipayAuthorization } from './isv-authorization.js';
import { suspendSchoolInTx } from './suspension.js';

/**
 * A school's life on the platform (DESIGN §7.0, issue 10):
 *
 *   (operator: school create) PENDING ──activate──→ ACTIVE ──suspend──→ SUSPENDED ──resume──→ ACTIVE
 *                                                      └── authorization cancelled in Alipay, or Alipay
 *                                                          calls its token invalid ──→ SUSPENDED
 *
 * activate and resume refuse while the school's Alipay authorization or card system is missing or failing
 * (both are tried live). While SUSPENDED, no new recharges, signings or approvals; money already in flight
 * completes where Alipay allows it; cards can still be looked at, reported lost and unbound. A suspension
 * caused by the authorization ends by itself when the school authorizes again (isv-authorization.ts).
 * Every move is one audit_log row.
 */

export const SCHOOL_CODE_PATTERN = /^\d{10}$/;

export async function createSchool(
  deps: Pick<Deps, 'db'>,
  actor: Actor,
  input: { code: string; name: string },
): Promise<SchoolRow> {
  if (!SCHOOL_CODE_PATTERN.test(input.code))
    throw new DomainError('VALIDATION_FAILED', 'code: a national school code has 10 digits', {
      field: 'code',
    });
  const name = input.name.trim();
  if (name.length < 1 || name.length > 40)
    throw new DomainError('VALIDATION_FAILED', 'name: 1 to 40 characters', { field: 'name' });
  return deps.db.transaction(async (tx) => {
    const school = await insertSchoolIfNew(tx, { code: input.code, name, status: 'PENDING' });
    if (!school) throw new DomainError('SCHOOL_EXISTS', `school ${input.code} exists`, { field: 'code' });
    await recordAudit(tx, {
      actor,
      schoolId: school.id,
      action: 'school.create',
      after: { code: school.code, name: school.name, status: school.status },
    });
    return school;
  });
}

export interface Readiness {
  isReady: boolean;
  alipay: SideCheck;
  cardSystem: SideCheck;
}

/** Both sides tried live: the authorization with `.query`, the card system with a GetPersonInfo. */
export async function checkReadiness(deps: Deps, school: SchoolRow): Promise<Readiness> {
  const [alipay, cardSystem] = await Promise.all([
    checkAlipayAuthorization(deps, school),
    probeCardSystem(deps, school),
  ]);
  return { isReady: alipay.isOk && cardSystem.isOk, alipay, cardSystem };
}

function notReady(readiness: Readiness): DomainError {
  const problems = [
    readiness.alipay.isOk ? null : `Alipay: ${readiness.alipay.detail}`,
    readiness.cardSystem.isOk ? null : `card system: ${readiness.cardSystem.detail}`,
  ].filter(Boolean);
  return new DomainError('SCHOOL_NOT_READY', `Not ready: ${problems.join('; ')}`, { details: readiness });
}

async function schoolOr404(deps: Pick<Deps, 'db'>, schoolId: string): Promise<SchoolRow> {
  const school = await findSchool(deps.db, schoolId);
  if (!school) throw new DomainError('SCHOOL_NOT_FOUND');
  return school;
}

/** PENDING → ACTIVE (activate) or SUSPENDED → ACTIVE (resume), once both sides answer. */
async function openSchool(
  deps: Deps,
  actor: Actor,
  schoolId: string,
  from: 'PENDING' | 'SUSPENDED',
): Promise<SchoolRow> {
  const school = await schoolOr404(deps, schoolId);
  if (school.status === 'ACTIVE') return school;
  if (school.status !== from) {
    throw new DomainError(
      'VALIDATION_FAILED',
      from === 'PENDING'
        ? 'The school is SUSPENDED: resume it instead'
        : 'The school is PENDING: activate it instead',
      { field: 'status' },
    );
  }
  const readiness = await checkReadiness(deps, school);
  if (!readiness.isReady) throw notReady(readiness);
  return deps.db.transaction(async (tx) => {
    const locked = await lockSchool(tx, schoolId);
    const now = deps.clock.now();
    const opened = await markSchoolActive(tx, schoolId, [from], now);
    if (!opened) return locked!;
    await setCardSystemVerified(tx, schoolId, now);
    await recordAudit(tx, {
      actor,
      schoolId,
      action: from === 'PENDING' ? 'school.activate' : 'school.resume',
      before: { status: locked!.status, suspensionReason: locked!.suspensionReason },
      after: { status: opened.status },
    });
    return opened;
  });
}

export function activateSchool(deps: Deps, actor: Actor, schoolId: string): Promise<SchoolRow> {
  return openSchool(deps, actor, schoolId, 'PENDING');
}

export function resumeSchool(deps: Deps, actor: Actor, schoolId: string): Promise<SchoolRow> {
  return openSchool(deps, actor, schoolId, 'SUSPENDED');
}

/** The operator stops new money at a school (`npm run operator -- school suspend <code> --reason …`). */
export async function suspendSchool(
  deps: Pick<Deps, 'db' | 'clock'>,
  actor: Actor,
  schoolId: string,
  detail: string,
): Promise<SchoolRow> {
  const suspended = await deps.db.transaction((tx) =>
    suspendSchoolInTx(tx, deps, actor, schoolId, { reason: 'OPERATOR', detail }),
  );
  if (!suspended) throw new DomainError('SCHOOL_DISABLED', 'A PENDING school has nothing to suspend');
  return suspended;
}
