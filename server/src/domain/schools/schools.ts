import {
  findSchool,
  lockSchool,
  setSchoolSettings,
  type SchoolRow,
  type SchoolSettings,
} from '../../db/repos/schools/schools.js';
import type { Deps } from '../../deps.js';
import { changedFields, recordAudit, systemActor, type Actor } from '../audit/audit.js';
import { DomainError } from '../errors.js';
import { connectCardSystem } from './card-system-connection.js';
import { authorizeWithCode } from './isv-authorization.js';
import { activateSchool, createSchool } from './school-lifecycle.js';

export type { SchoolSettings };

const SETTING_FIELDS: ReadonlyArray<keyof SchoolSettings> = [
  'name',
  'servicePhone',
  'rechargeMinFen',
  'rechargeMaxFen',
  'withholdingEnabled',
  'txnLimitFen',
  'dailyLimitFen',
  'retryScheduleSeconds',
  'parentApproval',
  'swipeMaxAgeMinutes',
  'swipeMaxAheadMinutes',
  'alipayInstitutionCode',
  'campusCodeWindowDays',
  'campusCodeLateAfterHours',
  'campusCodeMaxFen',
  'terminalDispenseWindowMinutes',
  'terminalPayRequiresPhone',
];

/**
 * A school's own settings (issue 10 "Settings page"): what owners change in the mini-program. The shape of
 * each field is checked where it comes in (joi at the route); here the rules between fields, on the values
 * the school will have afterwards. Bumps updated_at, so cached clients are rebuilt; one audit row with the
 * fields that changed.
 */
export async function updateSchoolSettings(
  deps: Pick<Deps, 'db' | 'clock'>,
  actor: Actor,
  schoolId: string,
  changes: Partial<SchoolSettings>,
  fieldPrefix = 'body.',
): Promise<SchoolRow> {
  return deps.db.transaction(async (tx) => {
    const before = await lockSchool(tx, schoolId);
    if (!before) throw new DomainError('SCHOOL_NOT_FOUND');
    const next = { ...before, ...changes };
    if (next.rechargeMaxFen < next.rechargeMinFen)
      throw new DomainError(
        'VALIDATION_FAILED',
        `${fieldPrefix}rechargeMaxFen: must not be below rechargeMinFen`,
        {
          field: `${fieldPrefix}${'rechargeMaxFen' in changes ? 'rechargeMaxFen' : 'rechargeMinFen'}`,
        },
      );
    if (next.dailyLimitFen < next.txnLimitFen)
      throw new DomainError(
        'VALIDATION_FAILED',
        `${fieldPrefix}dailyLimitFen: must not be below txnLimitFen`,
        {
          field: `${fieldPrefix}${'dailyLimitFen' in changes ? 'dailyLimitFen' : 'txnLimitFen'}`,
        },
      );
    const diff = changedFields(before, next, SETTING_FIELDS);
    if (!diff) return before;
    const after = await setSchoolSettings(tx, schoolId, diff.after, deps.clock.now());
    await recordAudit(tx, { actor, schoolId, action: 'school.settings.update', ...diff });
    return after!;
  });
}

export async function schoolById(deps: Pick<Deps, 'db'>, schoolId: string): Promise<SchoolRow> {
  const school = await findSchool(deps.db, schoolId);
  if (!school) throw new DomainError('SCHOOL_NOT_FOUND');
  return school;
}

/**
 * Everything the operator does to bring a school on board, in one call, for tests and benchmarks that need
 * a working school fast (the real path is scripts/operator: create, authorization link and callback,
 * connect-cardsys, activate; npm start takes it). With an app_auth_code the school ends up ACTIVE.
 */
export interface SchoolOnboarding {
  code: string;
  name: string;
  cardsys: { endpoint: string; username: string; password: string };
  /** An app_auth_code of the school's authorization (the sandbox's /control/merchant-authorizations). */
  alipayAppAuthCode?: string;
  settings?: Partial<SchoolSettings>;
}

export async function onboardSchool(
  deps: Deps,
  input: SchoolOnboarding,
  actor: Actor = systemActor('onboard'),
): Promise<SchoolRow> {
  const school = await createSchool(deps, actor, { code: input.code, name: input.name });
  if (input.settings) await updateSchoolSettings(deps, actor, school.id, input.settings, '');
  await connectCardSystem(deps, actor, { schoolId: school.id, ...input.cardsys });
  if (!input.alipayAppAuthCode) return schoolById(deps, school.id);
  await authorizeWithCode(deps, actor, school.id, input.alipayAppAuthCode);
  return activateSchool(deps, actor, school.id);
}
