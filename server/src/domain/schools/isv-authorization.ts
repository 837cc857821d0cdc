import crypto from 'node:crypto';
import type { Executor } from '../../db/client.js';
import {
  endAuthorization,
  findActiveAuthorization,
  findActiveAuthorizationByTokenHash,
  findActiveAuthorizationsByAuthAppId,
  findAuthorizationLink,
  findAuthorizationsExpiringBefore,
  insertAuthorization,
  insertAuthorizationLink,
  releaseAuthorizationLink,
  setAuthorizationAuthTime,
  spendAuthorizationLink,
  type IsvAuthorizationRow,
} from '../../db/repos/schools/isv-authorizations.js';
import {
  findSchool,
  lockSchool,
  markSchoolActive,
  setSchoolAppAuthToken,
  type SchoolRow,
} from '../../db/repos/schools/schools.js';
import type { Deps } from '../../deps.js';
import {
  isAppAuthTokenRefused,
  type AppAuthTokenState,
  type AppAuthorization,
} from '../../integrations/alipay/alipay.js';
import { AlipayError } from '../../integrations/alipay/errors.js';
import { actorId, recordAudit, systemActor, type Actor } from '../audit/audit.js';
import { DomainError } from '../errors.js';
import { alipayFailure, requireAlipay } from '../outside-errors.js';
import type { SideCheck } from './card-system-connection.js';
import { isWaitingForAuthorization, suspendSchoolInTx } from './suspension.js';

/**
 * A school authorizes our ISV app to call Alipay for it (seed 000 §1.1, DESIGN §6.5 and §7.0,
 * ALIPAY.md §4.13, ALIPAY-M2.md §4):
 *
 *   operator: authorization link (app-to-app URL with a `state` bound to the school, single use, expiring)
 *   → the school's Alipay account authorizes → Alipay redirects to GET /isv/alipay/callback with
 *   app_auth_code + state → alipay.open.auth.token.app (authorization_code) → tokens stored encrypted
 *   (isv_authorizations, and the token in use copied to the schools row) → refreshed before they expire.
 *
 * It ends when the school cancels it inside Alipay (the `alipay.open.auth.appauth.cancelled` message) or
 * when Alipay refuses the token on any call and `.query` confirms it (`noticeRefusedAppAuthToken`): the
 * authorization is CANCELLED / INVALID and the school SUSPENDED. A new authorization through a new link
 * lifts such a suspension by itself.
 */

export function callbackUrl(deps: Pick<Deps, 'config'>): string {
  return `${deps.config.publicBaseUrl}/isv/alipay/callback`;
}

function stateHash(deps: Pick<Deps, 'protector'>, state: string): string {
  return deps.protector.hash(`isv-state:${state}`);
}

function tokenHash(deps: Pick<Deps, 'protector'>, token: string): string {
  return deps.protector.hash(`app-auth-token:${token}`);
}

function creatorOf(actor: Actor): string {
  return `${actor.kind.toLowerCase()}:${actorId(actor)}`;
}

export interface AuthorizationLink {
  url: string;
  expiresAt: Date;
}

/**
 * The app-to-app authorization URL for a school (ALIPAY-M2.md §4 "Authorization links"): our ISV app id,
 * the callback as redirect_uri (it must equal the callback configured on the app) and a fresh `state`.
 */
export async function createAuthorizationLink(
  deps: Pick<Deps, 'db' | 'protector' | 'clock' | 'config' | 'alipay'>,
  actor: Actor,
  schoolId: string,
): Promise<AuthorizationLink> {
  const alipay = requireAlipay(deps);
  const school = await findSchool(deps.db, schoolId);
  if (!school) throw new DomainError('SCHOOL_NOT_FOUND');
  const state = crypto.randomBytes(24).toString('hex');
  const expiresAt = new Date(deps.clock.now().getTime() + deps.config.isv.linkTtlHours * 3_600_000);
  await deps.db.transaction(async (tx) => {
    const link = await insertAuthorizationLink(tx, {
      schoolId,
      stateHash: stateHash(deps, state),
      expiresAt,
      createdBy: creatorOf(actor),
    });
    await recordAudit(tx, {
      actor,
      schoolId,
      action: 'school.isv.link',
      target: link.id,
      after: { expiresAt },
    });
  });
  const url = new URL(deps.config.isv.authorizeUrl);
  url.searchParams.set('app_id', alipay.appId);
  url.searchParams.set('application_type', 'TINYAPP,WEBAPP');
  url.searchParams.set('redirect_uri', callbackUrl(deps));
  url.searchParams.set('state', state);
  return { url: url.toString(), expiresAt };
}

function expiry(from: Date, seconds: number | null): Date | null {
  return seconds === null ? null : new Date(from.getTime() + seconds * 1000);
}

/**
 * Makes `tokens` the school's authorization, in the caller's transaction: the previous ACTIVE row is
 * REPLACED, the token in use is copied to the schools row, and a school suspended only because of its
 * authorization is ACTIVE again when its card system is connected. Audited.
 */
async function storeAuthorization(
  tx: Executor,
  deps: Pick<Deps, 'protector' | 'clock'>,
  actor: Actor,
  school: SchoolRow,
  tokens: AppAuthorization,
  options: { source: 'callback' | 'refresh' | 'notify' | 'operator'; authTime?: Date | null },
): Promise<IsvAuthorizationRow> {
  const now = deps.clock.now();
  const previous = await findActiveAuthorization(tx, school.id);
  // The same token twice (the callback and open_app_auth_notify of one authorization): nothing changes.
  if (previous && previous.appAuthTokenHash === tokenHash(deps, tokens.appAuthToken)) return previous;
  if (previous) await endAuthorization(tx, previous.id, { status: 'REPLACED', reason: options.source, now });
  const tokenEnc = deps.protector.encrypt(tokens.appAuthToken);
  const row = await insertAuthorization(tx, {
    schoolId: school.id,
    appAuthTokenEnc: tokenEnc,
    appAuthTokenHash: tokenHash(deps, tokens.appAuthToken),
    appRefreshTokenEnc: tokens.refreshToken ? deps.protector.encrypt(tokens.refreshToken) : null,
    authAppId: tokens.authAppId,
    merchantUserId: tokens.sellerId,
    expiresAt: expiry(now, tokens.expiresInSeconds),
    refreshExpiresAt: expiry(now, tokens.refreshExpiresInSeconds),
    authTime: options.authTime ?? null,
    source: options.source,
  });
  await setSchoolAppAuthToken(tx, school.id, {
    tokenEnc,
    authAppId: tokens.authAppId,
    sellerId: tokens.sellerId,
    now,
  });
  await recordAudit(tx, {
    actor,
    schoolId: school.id,
    action: options.source === 'refresh' ? 'school.isv.refresh' : 'school.isv.authorize',
    target: row.id,
    before: previous
      ? {
          authAppId: previous.authAppId,
          merchantUserId: previous.merchantUserId,
          expiresAt: previous.expiresAt,
        }
      : null,
    after: { authAppId: row.authAppId, merchantUserId: row.merchantUserId, expiresAt: row.expiresAt },
  });
  if (isWaitingForAuthorization(school) && school.cardsysEndpoint) {
    await markSchoolActive(tx, school.id, ['SUSPENDED'], now);
    await recordAudit(tx, {
      actor,
      schoolId: school.id,
      action: 'school.resume',
      before: { status: 'SUSPENDED', suspensionReason: school.suspensionReason },
      after: { status: 'ACTIVE', because: 'authorized again' },
    });
  }
  return row;
}

/**
 * Exchanges a school's app_auth_code and stores the tokens. For the operator's own use (and the tests'
 * fast path) with a code obtained some other way; schools normally come through the callback.
 */
export async function authorizeWithCode(
  deps: Deps,
  actor: Actor,
  schoolId: string,
  appAuthCode: string,
): Promise<IsvAuthorizationRow> {
  const alipay = requireAlipay(deps);
  let tokens: AppAuthorization;
  try {
    tokens = await alipay.exchangeAppAuthCode(appAuthCode);
  } catch (error) {
    throw alipayFailure(error);
  }
  return deps.db.transaction(async (tx) => {
    const school = await lockSchool(tx, schoolId);
    if (!school) throw new DomainError('SCHOOL_NOT_FOUND');
    return storeAuthorization(tx, deps, actor, school, tokens, { source: 'operator' });
  });
}

export interface CallbackInput {
  state?: string;
  appAuthCode?: string;
  appId?: string;
}

/**
 * GET /isv/alipay/callback: the state must be ours, unexpired and unused. It is spent before the code is
 * exchanged (two clicks on the redirect exchange at most once) and given back if the exchange fails.
 */
export async function completeAuthorization(
  deps: Deps,
  input: CallbackInput,
  requestId?: string,
): Promise<{ school: SchoolRow; authorization: IsvAuthorizationRow }> {
  const alipay = requireAlipay(deps);
  if (!input.state || !input.appAuthCode) throw new DomainError('AUTHORIZATION_LINK_INVALID');
  if (input.appId && input.appId !== alipay.appId) throw new DomainError('AUTHORIZATION_LINK_INVALID');
  const link = await findAuthorizationLink(deps.db, stateHash(deps, input.state));
  if (!link) throw new DomainError('AUTHORIZATION_LINK_INVALID');
  if (link.usedAt) throw new DomainError('AUTHORIZATION_LINK_USED');
  const now = deps.clock.now();
  if (link.expiresAt <= now) throw new DomainError('AUTHORIZATION_LINK_EXPIRED');
  if (!(await spendAuthorizationLink(deps.db, link.id, now)))
    throw new DomainError('AUTHORIZATION_LINK_USED');
  let tokens: AppAuthorization;
  try {
    tokens = await alipay.exchangeAppAuthCode(input.appAuthCode);
  } catch (error) {
    await releaseAuthorizationLink(deps.db, link.id);
    throw alipayFailure(error);
  }
  return deps.db.transaction(async (tx) => {
    const school = await lockSchool(tx, link.schoolId);
    if (!school) throw new DomainError('SCHOOL_NOT_FOUND');
    const authorization = await storeAuthorization(
      tx,
      deps,
      systemActor('isv-callback', requestId),
      school,
      tokens,
      { source: 'callback' },
    );
    return { school: (await findSchool(tx, school.id))!, authorization };
  });
}

/** The token in use, decrypted; null when the school has none. */
function currentToken(deps: Pick<Deps, 'protector'>, school: SchoolRow): string | null {
  return school.alipayAppAuthTokenEnc ? deps.protector.decrypt(school.alipayAppAuthTokenEnc) : null;
}

/** alipay.open.auth.token.app.query for the school's token (`school show`); null without a token. */
export async function queryAuthorization(
  deps: Pick<Deps, 'alipay' | 'protector'>,
  school: SchoolRow,
): Promise<AppAuthTokenState | null> {
  const token = currentToken(deps, school);
  if (!token) return null;
  try {
    return await requireAlipay(deps).queryAppAuthToken(token);
  } catch (error) {
    // An unknown or revoked token may be refused outright rather than reported `invalid`.
    if (error instanceof AlipayError && (error.code === '20001' || error.subCode === 'AUTH_TOKEN_NOT_FOUND'))
      return {
        isValid: false,
        authAppId: null,
        sellerId: null,
        authStart: null,
        authEnd: null,
        expiresInSeconds: null,
        authMethods: [],
      };
    throw error;
  }
}

/** The Alipay side of a school's readiness (school-lifecycle.ts). */
export async function checkAlipayAuthorization(
  deps: Pick<Deps, 'alipay' | 'protector'>,
  school: SchoolRow,
): Promise<SideCheck> {
  if (!school.alipayAppAuthTokenEnc) return { isOk: false, detail: 'not authorized yet' };
  try {
    const state = await queryAuthorization(deps, school);
    if (state?.isValid)
      return { isOk: true, detail: `authorized by ${state.authAppId ?? school.alipayAuthAppId}` };
    return { isOk: false, detail: 'Alipay says the authorization is invalid: send a new authorization link' };
  } catch (error) {
    return { isOk: false, detail: `could not ask Alipay: ${(error as Error).message}` };
  }
}

/**
 * The authorization ended at Alipay (cancelled, or its token refused and confirmed invalid): the row is
 * CANCELLED / INVALID and the school SUSPENDED, with the reason for the operator and the admins.
 */
async function endSchoolAuthorization(
  deps: Pick<Deps, 'db' | 'clock' | 'logger'>,
  actor: Actor,
  authorization: IsvAuthorizationRow,
  end: { status: 'CANCELLED' | 'INVALID'; detail: string },
): Promise<boolean> {
  const ended = await deps.db.transaction(async (tx) => {
    const row = await endAuthorization(tx, authorization.id, {
      status: end.status,
      reason: end.detail,
      now: deps.clock.now(),
    });
    if (!row) return false;
    await recordAudit(tx, {
      actor,
      schoolId: authorization.schoolId,
      action: end.status === 'CANCELLED' ? 'school.isv.cancelled' : 'school.isv.invalid',
      target: authorization.id,
      before: { status: 'ACTIVE', authAppId: authorization.authAppId },
      after: { status: end.status, detail: end.detail },
    });
    await suspendSchoolInTx(tx, deps, actor, authorization.schoolId, {
      reason: end.status === 'CANCELLED' ? 'AUTHORIZATION_CANCELLED' : 'AUTHORIZATION_INVALID',
      detail: end.detail,
    });
    return true;
  });
  if (ended)
    deps.logger.warn('school authorization ended; school suspended', {
      schoolId: authorization.schoolId,
      status: end.status,
      detail: end.detail,
    });
  return ended;
}

const checking = new Set<string>();

/**
 * Alipay refused a school's app_auth_token on some call (Alipay#onAppAuthTokenRefused). One refusal might
 * be a glitch or a stale token of a replaced authorization, so ask `.query` about the school's current
 * token first; only a token Alipay calls invalid suspends the school. One check per token at a time.
 */
export async function noticeRefusedAppAuthToken(
  deps: Deps,
  token: string,
  error: AlipayError,
): Promise<void> {
  const hash = tokenHash(deps, token);
  if (checking.has(hash)) return;
  checking.add(hash);
  try {
    const authorization = await findActiveAuthorizationByTokenHash(deps.db, hash);
    if (!authorization) return;
    const school = await findSchool(deps.db, authorization.schoolId);
    if (!school) return;
    const state = await queryAuthorization(deps, school);
    if (state?.isValid) return;
    await endSchoolAuthorization(deps, systemActor('alipay'), authorization, {
      status: 'INVALID',
      detail: `Alipay refused the app_auth_token (${error.reason}) and .query calls it invalid`,
    });
  } catch (failure) {
    deps.logger.warn('could not check a refused app_auth_token', { error: (failure as Error).message });
  } finally {
    checking.delete(hash);
  }
}

/**
 * `alipay.open.auth.appauth.cancelled` (ALIPAY-M2.md §4): the school with this auth_app_id withdrew its
 * authorization inside Alipay. A message that arrives after the school authorized again would cancel the
 * new token, so `.query` decides: a token Alipay still calls valid stays. Returns what happened.
 */
export async function authorizationCancelled(
  deps: Deps,
  authAppId: string,
  actor: Actor,
): Promise<'CANCELLED' | 'STILL_VALID' | 'UNKNOWN_APP'> {
  const authorizations = await findActiveAuthorizationsByAuthAppId(deps.db, authAppId);
  if (authorizations.length === 0) return 'UNKNOWN_APP';
  let outcome: 'CANCELLED' | 'STILL_VALID' = 'STILL_VALID';
  for (const authorization of authorizations) {
    const school = await findSchool(deps.db, authorization.schoolId);
    if (!school) continue;
    const state = await queryAuthorization(deps, school);
    if (state?.isValid) continue;
    await endSchoolAuthorization(deps, actor, authorization, {
      status: 'CANCELLED',
      detail: 'the school cancelled the authorization in Alipay',
    });
    outcome = 'CANCELLED';
  }
  return outcome;
}

/** What `open_app_auth_notify` (status execute_auth) carries in biz_content.detail (ALIPAY-M2.md §4). */
export interface AuthorizationNotice {
  authAppId: string;
  appAuthToken: string;
  appRefreshToken: string | null;
  userId: string;
  authTime: Date;
  expiresInSeconds: number | null;
  refreshExpiresInSeconds: number | null;
}

/**
 * A school we know (by auth_app_id) authorized again: the notification carries the new tokens. Idempotent
 * on auth_time: a notification no newer than what we hold changes nothing. An unknown auth_app_id is
 * ignored: only our own link's callback ties an authorization to a school.
 */
export async function authorizationNotified(
  deps: Deps,
  notice: AuthorizationNotice,
  actor: Actor,
): Promise<'APPLIED' | 'ALREADY_APPLIED' | 'UNKNOWN_APP'> {
  const [authorization] = await findActiveAuthorizationsByAuthAppId(deps.db, notice.authAppId);
  if (!authorization) return 'UNKNOWN_APP';
  if (authorization.authTime && authorization.authTime >= notice.authTime) return 'ALREADY_APPLIED';
  if (deps.protector.decrypt(authorization.appAuthTokenEnc) === notice.appAuthToken) {
    await setAuthorizationAuthTime(deps.db, authorization.id, notice.authTime);
    return 'ALREADY_APPLIED';
  }
  await deps.db.transaction(async (tx) => {
    const school = await lockSchool(tx, authorization.schoolId);
    await storeAuthorization(
      tx,
      deps,
      actor,
      school!,
      {
        appAuthToken: notice.appAuthToken,
        refreshToken: notice.appRefreshToken,
        authAppId: notice.authAppId,
        sellerId: notice.userId,
        expiresInSeconds: notice.expiresInSeconds,
        refreshExpiresInSeconds: notice.refreshExpiresInSeconds,
      },
      { source: 'notify', authTime: notice.authTime },
    );
  });
  return 'APPLIED';
}

/**
 * One authorization refreshed with its app_refresh_token (grant_type=refresh_token). A refresh token Alipay
 * refuses means the authorization is gone: confirmed with `.query`, then INVALID and the school suspended.
 */
export async function refreshAuthorization(deps: Deps, authorization: IsvAuthorizationRow): Promise<boolean> {
  const alipay = requireAlipay(deps);
  if (!authorization.appRefreshTokenEnc) return false;
  let tokens: AppAuthorization;
  try {
    tokens = await alipay.refreshAppAuthToken(deps.protector.decrypt(authorization.appRefreshTokenEnc));
  } catch (error) {
    if (error instanceof AlipayError && (error.kind === 'final' || isAppAuthTokenRefused(error))) {
      const school = await findSchool(deps.db, authorization.schoolId);
      const state = school ? await queryAuthorization(deps, school) : null;
      if (!state?.isValid)
        await endSchoolAuthorization(deps, systemActor('isv-refresh'), authorization, {
          status: 'INVALID',
          detail: `the token could not be refreshed (${error.reason}) and .query calls it invalid`,
        });
    }
    throw error;
  }
  return deps.db.transaction(async (tx) => {
    const school = await lockSchool(tx, authorization.schoolId);
    const current = await findActiveAuthorization(tx, authorization.schoolId);
    // Replaced meanwhile (the school authorized again): the refreshed pair is not the one in use.
    if (!school || current?.id !== authorization.id) return false;
    await storeAuthorization(tx, deps, systemActor('isv-refresh'), school, tokens, { source: 'refresh' });
    return true;
  });
}

/** The refresh job's pass: every ACTIVE authorization that expires within ISV_REFRESH_BEFORE_DAYS. */
export async function refreshExpiringAuthorizations(
  deps: Deps,
): Promise<{ refreshed: number; failed: number }> {
  const before = new Date(deps.clock.now().getTime() + deps.config.isv.refreshBeforeDays * 86_400_000);
  let refreshed = 0;
  let failed = 0;
  for (const authorization of await findAuthorizationsExpiringBefore(deps.db, before, 100)) {
    try {
      if (await refreshAuthorization(deps, authorization)) refreshed += 1;
    } catch (error) {
      failed += 1;
      deps.logger.warn('could not refresh a school authorization; the next pass tries again', {
        schoolId: authorization.schoolId,
        error: (error as Error).message,
      });
    }
  }
  return { refreshed, failed };
}

export function activeAuthorizationOf(
  deps: Pick<Deps, 'db'>,
  schoolId: string,
): Promise<IsvAuthorizationRow | undefined> {
  return findActiveAuthorization(deps.db, schoolId);
}
