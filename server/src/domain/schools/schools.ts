import { eq } from 'drizzle-orm';
import { schools } from '../../db/schema.js';
import { findSchoolByCode, insertSchool, type SchoolRow } from '../../db/repos/schools/schools.js';
import type { Deps } from '../../deps.js';
import { alipayFailure, requireAlipay } from '../outside-errors.js';
import { DomainError } from '../errors.js';

/**
 * Onboarding a school (DESIGN §1, seed 000 §1.1): its card-system endpoint and credentials, and the
 * Alipay authorization it granted the platform (app_auth_code → app_auth_token, stored encrypted).
 * Operator work: used by the dev launcher and the operator scripts, not by a public route.
 */
export interface SchoolOnboarding {
  code: string;
  name: string;
  cardsys: { endpoint: string; username: string; password: string };
  /** From the school's ISV authorization redirect (ALIPAY.md §4.13). */
  alipayAppAuthCode?: string;
  settings?: Partial<
    Pick<
      SchoolRow,
      | 'rechargeMinFen'
      | 'rechargeMaxFen'
      | 'withholdingEnabled'
      | 'txnLimitFen'
      | 'dailyLimitFen'
      | 'retryScheduleSeconds'
      | 'parentApproval'
      | 'swipeMaxAgeMinutes'
      | 'swipeMaxAheadMinutes'
      | 'alipayInstitutionCode'
      | 'campusCodeWindowDays'
      | 'campusCodeLateAfterHours'
      | 'campusCodeMaxFen'
    >
  >;
}

export async function onboardSchool(deps: Deps, input: SchoolOnboarding): Promise<SchoolRow> {
  if (!/^\d{10}$/.test(input.code))
    throw new DomainError('VALIDATION_FAILED', 'code: a school code has 10 digits', { field: 'code' });
  if (await findSchoolByCode(deps.db, input.code))
    throw new DomainError('VALIDATION_FAILED', `code: school ${input.code} exists`, { field: 'code' });
  let authorization;
  if (input.alipayAppAuthCode) {
    try {
      authorization = await requireAlipay(deps).exchangeAppAuthCode(input.alipayAppAuthCode);
    } catch (error) {
      throw alipayFailure(error);
    }
  }
  return insertSchool(deps.db, {
    code: input.code,
    name: input.name,
    cardsysEndpoint: input.cardsys.endpoint,
    cardsysUsername: input.cardsys.username,
    cardsysPasswordEnc: deps.protector.encrypt(input.cardsys.password),
    alipayAppAuthTokenEnc: authorization ? deps.protector.encrypt(authorization.appAuthToken) : null,
    alipayAuthAppId: authorization?.authAppId ?? null,
    alipaySellerId: authorization?.sellerId ?? null,
    ...input.settings,
  });
}

/** Settings an admin changes; bumps updated_at so cached clients are rebuilt. */
export async function updateSchoolSettings(
  deps: Pick<Deps, 'db' | 'clock'>,
  schoolId: string,
  settings: NonNullable<SchoolOnboarding['settings']> & { status?: SchoolRow['status'] },
): Promise<SchoolRow> {
  const [row] = await deps.db
    .update(schools)
    .set({ ...settings, updatedAt: deps.clock.now() })
    .where(eq(schools.id, schoolId))
    .returning();
  if (!row) throw new DomainError('SCHOOL_NOT_FOUND');
  return row;
}

/**
 * A school authorizes the platform again (a new app_auth_code, e.g. after revoking it) and/or moves its card
 * system: the new token and endpoint replace the old ones. Bumps updated_at so cached clients are rebuilt.
 */
export async function reauthorizeSchool(
  deps: Deps,
  schoolId: string,
  input: { alipayAppAuthCode?: string; cardsys?: SchoolOnboarding['cardsys'] },
): Promise<SchoolRow> {
  const changes: Partial<typeof schools.$inferInsert> = { updatedAt: deps.clock.now() };
  if (input.alipayAppAuthCode) {
    let authorization;
    try {
      authorization = await requireAlipay(deps).exchangeAppAuthCode(input.alipayAppAuthCode);
    } catch (error) {
      throw alipayFailure(error);
    }
    changes.alipayAppAuthTokenEnc = deps.protector.encrypt(authorization.appAuthToken);
    changes.alipayAuthAppId = authorization.authAppId;
    changes.alipaySellerId = authorization.sellerId;
  }
  if (input.cardsys) {
    changes.cardsysEndpoint = input.cardsys.endpoint;
    changes.cardsysUsername = input.cardsys.username;
    changes.cardsysPasswordEnc = deps.protector.encrypt(input.cardsys.password);
  }
  const [row] = await deps.db.update(schools).set(changes).where(eq(schools.id, schoolId)).returning();
  if (!row) throw new DomainError('SCHOOL_NOT_FOUND');
  return row;
}
