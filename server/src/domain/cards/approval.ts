import type { RosterEntryRow } from '../../db/repos/roster/roster-entries.js';
import type { SchoolRow } from '../../db/repos/schools/schools.js';
import type { BINDING_APPROVALS } from '../../db/schema.js';
import type { DataProtector } from '../../lib/crypto.js';
import { ageFromIdNumber } from '../../../../shared/id-number.js';

export type BindingApproval = (typeof BINDING_APPROVALS)[number];

const AGE_OF_MAJORITY = 18;

/**
 * Whether a new binding waits for the card holder's approval (issue #12: a school setting, on by default for
 * students of age). The holder's own binding never does. A parent's does when the school says ALWAYS, or
 * under ADULTS (the default) when the holder is 18 or older by the roster's ID number, or when the age is
 * not known: an adult's meals are their own business unless they agree. K-12 schools, whose pupils may not
 * carry phones, set NEVER, and a minor's parents act without approval under ADULTS too.
 */
export function approvalFor(
  protector: DataProtector,
  school: Pick<SchoolRow, 'parentApproval'>,
  relation: 'SELF' | 'PARENT',
  roster: RosterEntryRow | undefined,
  now: Date,
): BindingApproval {
  if (relation === 'SELF' || school.parentApproval === 'NEVER') return 'NOT_REQUIRED';
  if (school.parentApproval === 'ALWAYS') return 'PENDING';
  const age = roster?.idNumberEnc ? ageFromIdNumber(protector.decrypt(roster.idNumberEnc), now) : null;
  return age !== null && age < AGE_OF_MAJORITY ? 'NOT_REQUIRED' : 'PENDING';
}
