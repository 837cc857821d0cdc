import crypto from 'node:crypto';
import type { WithholdingSignResponse, WithholdingView } from '../../../../shared/api.js';
import {
  activateAgreement,
  findActiveAgreement,
  findAgreement,
  findAgreementByAgreementNo,
  findAgreementByExternalNo,
  insertAgreement,
  listUserAgreements,
  markAgreementFailed,
  markAgreementUnsigned,
  type AgreementRow,
} from '../../db/repos/withholding/agreements.js';
import {
  findBinding,
  findWithholdingPayer,
  keepVendorBindPassword,
  listLiveBindings,
  setWithholdingPayer,
  type BindingRow,
} from '../../db/repos/cards/bindings.js';
import { hasOpenDebts } from '../../db/repos/withholding/debts.js';
import { findSchool, type SchoolRow } from '../../db/repos/schools/schools.js';
import { findUser, type UserRow } from '../../db/repos/users/users.js';
import type { Executor } from '../../db/client.js';
import type { Deps } from '../../deps.js';
import { CardSystemError } from '../../integrations/cardsys/index.js';
import { newOrderNo } from '../../lib/ids.js';
import { activeSchool, usableBinding } from '../cards/bindings.js';
import { DomainError } from '../errors.js';
import type { NotificationHandler, NotificationResult } from '../notify/notifications.js';
import { alipayFailure, requireAlipay } from '../outside-errors.js';
import { notifyUrl } from '../recharge/recharge.js';

/**
 * Password-free withholding agreements (seed 000 §2.1–2.2, DESIGN §7.4, ALIPAY.md §4.10–4.12).
 *
 *   sign: PENDING ──dut_user_sign or agreement.query NORMAL──→ ACTIVE ──dut_user_unsign / DELETE──→ UNSIGNED
 *         PENDING that Alipay never confirms ──→ FAILED
 *
 * An ACTIVE agreement then binds the card for withholding at the card system (job `withholding.bind-card`:
 * ZFB_BindDoc with a random password kept encrypted), which makes the user the card's withholding payer;
 * ending it removes the bind doc again (`withholding.unbind-card`: ZFB_UnBindDoc with that password).
 * Approvals need an ACTIVE agreement, so they stop the moment an unsign is known, before the card system
 * has caught up.
 */

export const BIND_CARD_JOB = 'withholding.bind-card';
export const UNBIND_CARD_JOB = 'withholding.unbind-card';
/** Assigned with the withholding contract; never DEFAULT|DEFAULT with an external number (ALIPAY.md §4.10). */
export const SIGN_SCENE = 'INDUSTRY|CAMPUS';

function alipayIdOf(user: UserRow): string {
  // ZFB_BindDoc wants "the Alipay user id"; apps in open_id mode never learn it, so the open_id stands in.
  return user.alipayUserId ?? user.alipayOpenId!;
}

/** Alipay's Beijing wall-clock time (`yyyy-MM-dd HH:mm:ss`) as an instant. */
function beijingTime(value: string | null | undefined): Date | null {
  if (!value || !/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(value)) return null;
  const date = new Date(`${value.replace(' ', 'T')}+08:00`);
  return Number.isNaN(date.getTime()) ? null : date;
}

export async function startSigning(
  deps: Deps,
  userId: string,
  bindingId: string,
): Promise<WithholdingSignResponse> {
  const alipay = requireAlipay(deps);
  const binding = await usableBinding(deps, userId, bindingId);
  if (binding.status !== 'ACTIVE') {
    throw new DomainError('BINDING_NOT_ACTIVE', 'Only an active card can be paid by withholding', {
      field: 'body.bindingId',
    });
  }
  const school = await activeSchool(deps, binding.schoolId);
  if (!school.withholdingEnabled) throw new DomainError('WITHHOLDING_DISABLED');
  const payer = await findWithholdingPayer(deps.db, school.id, binding.cardNo);
  if (payer && payer.userId !== userId) {
    throw new DomainError('AGREEMENT_EXISTS', "Another Alipay user already pays this card's swipes", {
      field: 'body.bindingId',
    });
  }
  if (await findActiveAgreement(deps.db, userId, school.id)) {
    throw new DomainError('AGREEMENT_EXISTS', undefined, { field: 'body.bindingId' });
  }
  const agreement = await insertAgreement(deps.db, {
    schoolId: school.id,
    userId,
    bindingId: binding.id,
    externalAgreementNo: newOrderNo('agreement', deps.clock),
    signScene: SIGN_SCENE,
  });
  const signStr = alipay.agreementSignString({
    externalAgreementNo: agreement.externalAgreementNo,
    signScene: agreement.signScene,
    notifyUrl: notifyUrl(deps),
    appAuthToken: deps.schools.appAuthToken(school),
  });
  return { signStr, agreementId: agreement.id, externalAgreementNo: agreement.externalAgreementNo };
}

/** The sweep's repair of an agreement whose card is out of step with it (see findAgreementsOutOfStepWithCards). */
export function enqueueCardStep(deps: Deps, agreement: { id: string; status: string }): Promise<void> {
  return enqueue(deps, agreement.status === 'ACTIVE' ? BIND_CARD_JOB : UNBIND_CARD_JOB, agreement.id);
}

async function enqueue(deps: Deps, job: string, agreementId: string): Promise<void> {
  try {
    await deps.jobs.now(job, { agreementId, attempt: 0 });
  } catch (error) {
    deps.logger.warn('could not enqueue a card-system job for an agreement', { job, agreementId, error });
  }
}

/**
 * Alipay confirmed the agreement (notification or query). Idempotent; returns what to do after the
 * caller's transaction commits.
 */
async function confirmSigned(
  deps: Deps,
  tx: Executor,
  agreement: AgreementRow,
  signed: { agreementNo: string; signedAt: Date | null; validUntil: Date | null },
): Promise<NotificationResult> {
  if (agreement.status === 'ACTIVE' && agreement.agreementNo === signed.agreementNo)
    return { outcome: 'ALREADY_APPLIED', detail: 'ACTIVE' };
  if (agreement.status === 'UNSIGNED') return { outcome: 'IGNORED', detail: 'already unsigned' };
  const other = await findActiveAgreement(tx, agreement.userId, agreement.schoolId);
  if (other && other.id !== agreement.id) {
    // Signed twice (two sign pages opened): keep the first, end the second at Alipay too.
    await markAgreementFailed(tx, agreement.id, deps.clock.now());
    return {
      outcome: 'APPLIED',
      detail: 'duplicate agreement; unsigning it',
      after: () => unsignAtAlipay(deps, agreement.schoolId, signed.agreementNo),
    };
  }
  const moved = await activateAgreement(tx, agreement.id, { ...signed, now: deps.clock.now() });
  if (!moved) return { outcome: 'ALREADY_APPLIED', detail: agreement.status };
  return { outcome: 'APPLIED', detail: 'ACTIVE', after: () => enqueue(deps, BIND_CARD_JOB, agreement.id) };
}

async function unsignAtAlipay(deps: Deps, schoolId: string, agreementNo: string): Promise<void> {
  const school = await findSchool(deps.db, schoolId);
  if (!school) return;
  await requireAlipay(deps)
    .unsignAgreement({ agreementNo, appAuthToken: deps.schools.appAuthToken(school) })
    .catch((error: unknown) => deps.logger.warn('could not unsign a duplicate agreement', { error }));
}

/** dut_user_sign / dut_user_unsign (ALIPAY.md §3.5), verified by the caller. */
export const agreementNotification: NotificationHandler = async (deps, tx, form) => {
  const agreement = form.external_agreement_no
    ? await findAgreementByExternalNo(tx, form.external_agreement_no)
    : form.agreement_no
      ? await findAgreementByAgreementNo(tx, form.agreement_no)
      : undefined;
  if (!agreement) return { outcome: 'REJECTED_UNKNOWN_ORDER' };
  const [user, school] = await Promise.all([
    findUser(tx, agreement.userId),
    findSchool(tx, agreement.schoolId),
  ]);
  if (!user || !school) return { outcome: 'REJECTED_UNKNOWN_ORDER', detail: 'user or school missing' };
  if (school.alipayAuthAppId && form.auth_app_id && form.auth_app_id !== school.alipayAuthAppId)
    return { outcome: 'REJECTED_APP', detail: `auth_app_id ${form.auth_app_id}` };
  const alipayUser = form.alipay_open_id ?? form.alipay_user_id;
  if (alipayUser && alipayUser !== user.alipayOpenId && alipayUser !== user.alipayUserId)
    return { outcome: 'REJECTED_MALFORMED', detail: 'signed by another Alipay user' };

  if (form.notify_type === 'dut_user_sign' && form.status === 'NORMAL') {
    if (!form.agreement_no) return { outcome: 'REJECTED_MALFORMED', detail: 'no agreement_no' };
    return confirmSigned(deps, tx, agreement, {
      agreementNo: form.agreement_no,
      signedAt: beijingTime(form.sign_time),
      validUntil: beijingTime(form.invalid_time),
    });
  }
  if (form.notify_type === 'dut_user_unsign') {
    if (form.agreement_no && agreement.agreementNo && form.agreement_no !== agreement.agreementNo)
      return { outcome: 'IGNORED', detail: 'another agreement number' };
    const moved = await markAgreementUnsigned(tx, agreement.id, deps.clock.now());
    if (!moved) return { outcome: 'ALREADY_APPLIED', detail: agreement.status };
    return {
      outcome: 'APPLIED',
      detail: 'UNSIGNED',
      after: () => enqueue(deps, UNBIND_CARD_JOB, agreement.id),
    };
  }
  return { outcome: 'IGNORED', detail: `${form.notify_type} ${form.status}` };
};

/**
 * A PENDING agreement whose notification has not come: ask Alipay (by our external number). NORMAL →
 * ACTIVE as if notified; unknown to Alipay for long enough → FAILED (the user left the sign page).
 */
export async function resolvePendingAgreement(deps: Deps, agreement: AgreementRow): Promise<void> {
  const alipay = requireAlipay(deps);
  const [school, user] = await Promise.all([
    findSchool(deps.db, agreement.schoolId),
    findUser(deps.db, agreement.userId),
  ]);
  if (!school || !user) return;
  const state = await alipay.queryAgreement({
    externalAgreementNo: agreement.externalAgreementNo,
    signScene: agreement.signScene,
    payer: { openId: user.alipayOpenId, userId: user.alipayUserId },
    appAuthToken: deps.schools.appAuthToken(school),
  });
  if (state && state.status === 'NORMAL') {
    const result = await deps.db.transaction((tx) =>
      confirmSigned(deps, tx, agreement, {
        agreementNo: state.agreementNo,
        signedAt: beijingTime(state.signedAt),
        validUntil: beijingTime(state.validUntil),
      }),
    );
    await result.after?.();
    return;
  }
  const age = deps.clock.now().getTime() - agreement.createdAt.getTime();
  if (!state && age > deps.config.withholding.agreementAbandonAfterMs)
    await markAgreementFailed(deps.db, agreement.id, deps.clock.now());
}

function viewOf(
  school: SchoolRow,
  agreement: AgreementRow | undefined,
  binding: BindingRow | undefined,
): WithholdingView {
  return {
    schoolId: school.id,
    status: agreement?.status ?? 'NONE',
    agreementId: agreement?.id ?? null,
    signedAt: agreement?.signedAt?.toISOString() ?? null,
    card: binding
      ? {
          bindingId: binding.id,
          cardNo: binding.cardNo,
          holderName: binding.holderName,
          isBoundAtCardSystem: binding.isWithholdingPayer,
        }
      : null,
    limits: { txnLimitFen: school.txnLimitFen, dailyLimitFen: school.dailyLimitFen },
  };
}

/**
 * The user's withholding, one item per school where they have a live card or an agreement: the ACTIVE
 * agreement, else the newest one. Stale PENDING agreements are resolved with Alipay first (lost notify).
 */
export async function withholdingViews(deps: Deps, userId: string): Promise<WithholdingView[]> {
  let agreements = await listUserAgreements(deps.db, userId);
  const staleBefore = deps.clock.now().getTime() - deps.config.withholding.agreementQueryAfterMs;
  const stale = agreements.filter((a) => a.status === 'PENDING' && a.createdAt.getTime() <= staleBefore);
  if (stale.length > 0 && deps.alipay) {
    for (const agreement of stale) {
      await resolvePendingAgreement(deps, agreement).catch((error: unknown) =>
        deps.logger.warn('could not ask Alipay about a pending agreement', {
          agreementId: agreement.id,
          error: (error as Error).message,
        }),
      );
    }
    agreements = await listUserAgreements(deps.db, userId);
  }
  const bindings = await listLiveBindings(deps.db, userId);
  const schoolIds = [...new Set([...bindings.map((b) => b.schoolId), ...agreements.map((a) => a.schoolId)])];
  const views: WithholdingView[] = [];
  for (const schoolId of schoolIds) {
    const school = await findSchool(deps.db, schoolId);
    if (!school) continue;
    const ofSchool = agreements.filter((a) => a.schoolId === schoolId);
    const agreement = ofSchool.find((a) => a.status === 'ACTIVE') ?? ofSchool[0];
    const binding = agreement?.bindingId ? bindings.find((b) => b.id === agreement.bindingId) : undefined;
    views.push(viewOf(school, agreement, binding));
  }
  return views;
}

/**
 * The user ends withholding in the mini-program: refused while they owe deductions (seed 000 §2.3: the
 * arrears must be repaid), then unsigned at Alipay, UNSIGNED here, and the card unbound at the card system.
 */
export async function endWithholding(
  deps: Deps,
  userId: string,
  schoolId: string | undefined,
): Promise<WithholdingView> {
  const alipay = requireAlipay(deps);
  const active = (await listUserAgreements(deps.db, userId)).filter(
    (a) => a.status === 'ACTIVE' && (!schoolId || a.schoolId === schoolId),
  );
  if (active.length === 0) throw new DomainError('AGREEMENT_NOT_FOUND');
  if (active.length > 1) {
    throw new DomainError('VALIDATION_FAILED', 'query.schoolId: say which school', {
      field: 'query.schoolId',
    });
  }
  const [agreement] = active;
  if (await hasOpenDebts(deps.db, userId)) throw new DomainError('HAS_ARREARS');
  const school = await findSchool(deps.db, agreement.schoolId);
  if (!school) throw new DomainError('SCHOOL_NOT_FOUND');
  try {
    await alipay.unsignAgreement({
      agreementNo: agreement.agreementNo!,
      appAuthToken: deps.schools.appAuthToken(school),
    });
  } catch (error) {
    throw alipayFailure(error);
  }
  const unsigned = (await markAgreementUnsigned(deps.db, agreement.id, deps.clock.now())) ?? agreement;
  await unbindCardForWithholding(deps, agreement.id, 0);
  const binding = agreement.bindingId ? await findBinding(deps.db, agreement.bindingId) : undefined;
  return viewOf(school, unsigned, binding);
}

async function retryCardJob(
  deps: Deps,
  job: string,
  agreementId: string,
  attempt: number,
  error: CardSystemError,
): Promise<void> {
  const delay =
    error.classification === 'final' ? undefined : deps.config.withholding.cardBindRetryMs[attempt];
  if (delay === undefined) {
    deps.logger.error('card-system withholding bind step failed for good', {
      job,
      agreementId,
      reason: error.reason,
    });
    return;
  }
  deps.logger.warn('card-system withholding bind step failed; will retry', {
    job,
    agreementId,
    reason: error.reason,
  });
  await deps.jobs.at(new Date(deps.clock.now().getTime() + delay), job, {
    agreementId,
    attempt: attempt + 1,
  });
}

/** ZFB_BindDoc for an ACTIVE agreement's card; the user becomes the card's withholding payer. */
export async function bindCardForWithholding(
  deps: Deps,
  agreementId: string,
  attempt: number,
): Promise<void> {
  const agreement = await findAgreement(deps.db, agreementId);
  if (agreement?.status !== 'ACTIVE' || !agreement.bindingId) return;
  const binding = await findBinding(deps.db, agreement.bindingId);
  if (!binding || binding.status === 'UNBOUND' || binding.userId !== agreement.userId) return;
  if (binding.isWithholdingPayer) return;
  const [school, user] = await Promise.all([
    findSchool(deps.db, agreement.schoolId),
    findUser(deps.db, agreement.userId),
  ]);
  if (!school || !user) return;
  let passwordEnc = binding.vendorBindPasswordEnc;
  if (!passwordEnc) {
    // Letters and digits only: the vendor's interface takes a plain string (seed 000 §2.2).
    passwordEnc = deps.protector.encrypt(crypto.randomBytes(12).toString('hex'));
    await keepVendorBindPassword(deps.db, binding.id, passwordEnc, deps.clock.now());
  }
  try {
    await deps.schools.cardSystem(school).bindAlipay({
      cardNo: binding.cardNo,
      alipayUserId: alipayIdOf(user),
      password: deps.protector.decrypt(passwordEnc),
    });
  } catch (error) {
    if (!(error instanceof CardSystemError)) throw error;
    await retryCardJob(deps, BIND_CARD_JOB, agreementId, attempt, error);
    return;
  }
  // The unsign may have come while the card system was asked: record the bind first, then look, so that an
  // unbind that ran meanwhile is followed by another one rather than overwritten.
  await setWithholdingPayer(deps.db, binding.id, passwordEnc, deps.clock.now());
  const current = await findAgreement(deps.db, agreementId);
  if (current?.status !== 'ACTIVE') await enqueue(deps, UNBIND_CARD_JOB, agreementId);
  else deps.logger.info('card bound for withholding', { agreementId, cardNo: binding.cardNo });
}

/** ZFB_UnBindDoc with the kept password; the binding stops being the card's withholding payer. */
export async function unbindCardForWithholding(
  deps: Deps,
  agreementId: string,
  attempt: number,
): Promise<void> {
  const agreement = await findAgreement(deps.db, agreementId);
  if (!agreement?.bindingId || agreement.status === 'ACTIVE') return;
  const binding = await findBinding(deps.db, agreement.bindingId);
  if (!binding || !binding.vendorBindPasswordEnc) return;
  // Signed again meanwhile for the same card: the bind doc is needed.
  const again = await findActiveAgreement(deps.db, agreement.userId, agreement.schoolId);
  if (again?.bindingId === binding.id) return;
  const school = await findSchool(deps.db, agreement.schoolId);
  if (!school) return;
  try {
    await deps.schools.cardSystem(school).unbindAlipay({
      cardNo: binding.cardNo,
      password: deps.protector.decrypt(binding.vendorBindPasswordEnc),
    });
  } catch (error) {
    if (!(error instanceof CardSystemError)) throw error;
    await retryCardJob(deps, UNBIND_CARD_JOB, agreementId, attempt, error);
    return;
  }
  await setWithholdingPayer(deps.db, binding.id, null, deps.clock.now());
  deps.logger.info('card unbound from withholding', { agreementId, cardNo: binding.cardNo });
}
