import crypto from 'node:crypto';
import type {
  WithholdingCardRequest,
  WithholdingSignResponse,
  WithholdingView,
} from '../../../../shared/api.js';
import {
  activateAgreement,
  findActiveAgreement,
  findAgreementByAgreementNo,
  findAgreementByExternalNo,
  insertAgreement,
  listUserAgreements,
  markAgreementFailed,
  pendingAgreementsSince,
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
import {
  findOtherPayersOfCard,
  insertAgreementCards,
  isCoveredByActiveAgreement,
  listCoverage,
  replaceCoverage,
  type CoveredCard,
  type CoverageRow,
} from '../../db/repos/withholding/agreement-cards.js';
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
import { notifyUrl, tooManyOpen } from '../recharge/recharge.js';

/**
 * Password-free withholding agreements (seed 000 §2.1–2.2, DESIGN §7.4, ALIPAY.md §4.10–4.12), one per payer
 * and school, covering the cards the payer chose (families: a parent pays several children's swipes with one
 * signature), each with the payer's own limits under the school's.
 *
 *   sign: PENDING ──dut_user_sign or agreement.query NORMAL──→ ACTIVE ──dut_user_unsign / DELETE──→ UNSIGNED
 *         PENDING that Alipay never confirms ──→ FAILED
 *
 * A card is bound for withholding at the card system (ZFB_BindDoc with a random password kept encrypted,
 * which makes the binding the card's withholding payer) while an ACTIVE agreement of its binding's user
 * covers it, and unbound (ZFB_UnBindDoc with that password) otherwise: the job `withholding.sync-card` moves a
 * binding's card towards that state, whatever changed (signed, unsigned, a card added or removed, a binding
 * removed), and the sweep starts it again for bindings left out of step. Approvals need the covering ACTIVE
 * agreement (decide_deduction), so they stop the moment an unsign is known, before the card system has caught up.
 */

export const SYNC_CARD_JOB = 'withholding.sync-card';
/** Assigned with the withholding contract; never DEFAULT|DEFAULT with an external number (ALIPAY.md §4.10). */
export const SIGN_SCENE = 'INDUSTRY|CAMPUS';
/** Sign pages one user may leave unfinished at once (each is asked about until it is abandoned). */
export const MAX_PENDING_AGREEMENTS = 3;

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

/**
 * The cards a payer asks to cover at one school: each their own usable, active binding, not paid by another
 * user, with limits at most the school's. Returns the school and the rows to store.
 */
async function chooseCards(
  deps: Deps,
  userId: string,
  cards: WithholdingCardRequest[],
  field: string,
): Promise<{ school: SchoolRow; covered: CoveredCard[] }> {
  const bindings = [];
  for (const [index, card] of cards.entries()) {
    const binding = await usableBinding(deps, userId, card.bindingId);
    if (binding.status !== 'ACTIVE') {
      throw new DomainError('BINDING_NOT_ACTIVE', 'Only an active card can be paid by withholding', {
        field: `${field}.${index}.bindingId`,
      });
    }
    bindings.push(binding);
  }
  if (new Set(bindings.map((b) => b.schoolId)).size !== 1) {
    throw new DomainError('VALIDATION_FAILED', `${field}: the cards of one agreement belong to one school`, {
      field,
    });
  }
  const school = await activeSchool(deps, bindings[0].schoolId);
  if (!school.withholdingEnabled) throw new DomainError('WITHHOLDING_DISABLED');
  const covered: CoveredCard[] = [];
  for (const [index, binding] of bindings.entries()) {
    const at = `${field}.${index}`;
    const payer = await findWithholdingPayer(deps.db, school.id, binding.cardNo);
    const others = await findOtherPayersOfCard(deps.db, school.id, binding.cardNo, userId);
    if ((payer && payer.userId !== userId) || others.length > 0) {
      throw new DomainError('CARD_PAID_BY_OTHER', undefined, { field: `${at}.bindingId` });
    }
    const { txnLimitFen = null, dailyLimitFen = null } = cards[index];
    if (txnLimitFen !== null && txnLimitFen > school.txnLimitFen) {
      throw new DomainError(
        'VALIDATION_FAILED',
        `${at}.txnLimitFen: at most the school's ${school.txnLimitFen}`,
        {
          field: `${at}.txnLimitFen`,
        },
      );
    }
    if (dailyLimitFen !== null && dailyLimitFen > school.dailyLimitFen) {
      throw new DomainError(
        'VALIDATION_FAILED',
        `${at}.dailyLimitFen: at most the school's ${school.dailyLimitFen}`,
        { field: `${at}.dailyLimitFen` },
      );
    }
    covered.push({ bindingId: binding.id, cardNo: binding.cardNo, txnLimitFen, dailyLimitFen });
  }
  return { school, covered };
}

export async function startSigning(
  deps: Deps,
  userId: string,
  cards: WithholdingCardRequest[],
): Promise<WithholdingSignResponse> {
  const alipay = requireAlipay(deps);
  const { school, covered } = await chooseCards(deps, userId, cards, 'body.cards');
  if (await findActiveAgreement(deps.db, userId, school.id)) {
    throw new DomainError('AGREEMENT_EXISTS', 'Change the covered cards with PUT /withholding/cards', {
      field: 'body.cards',
    });
  }
  // Every sign page left open is a PENDING agreement that GET /me and the sweep must ask Alipay about.
  const now = deps.clock.now();
  const abandonedBefore = new Date(now.getTime() - deps.config.withholding.agreementAbandonAfterMs);
  const pending = await pendingAgreementsSince(deps.db, userId, abandonedBefore);
  if (pending.count >= MAX_PENDING_AGREEMENTS) {
    const settlesAt =
      pending.oldest && new Date(pending.oldest.getTime() + deps.config.withholding.agreementAbandonAfterMs);
    throw tooManyOpen('pending-agreements', settlesAt, now);
  }
  const agreement = await deps.db.transaction(async (tx) => {
    const created = await insertAgreement(tx, {
      schoolId: school.id,
      userId,
      externalAgreementNo: newOrderNo('agreement', deps.clock),
      signScene: SIGN_SCENE,
    });
    await insertAgreementCards(tx, created.id, school.id, covered, now);
    return created;
  });
  const signStr = alipay.agreementSignString({
    externalAgreementNo: agreement.externalAgreementNo,
    signScene: agreement.signScene,
    notifyUrl: notifyUrl(deps),
    appAuthToken: deps.schools.appAuthToken(school),
  });
  return { signStr, agreementId: agreement.id, externalAgreementNo: agreement.externalAgreementNo };
}

/** Changes the cards an ACTIVE agreement covers, and their limits; the card system follows. */
export async function changeCoveredCards(
  deps: Deps,
  userId: string,
  schoolId: string,
  cards: WithholdingCardRequest[],
): Promise<WithholdingView> {
  const agreement = await findActiveAgreement(deps.db, userId, schoolId);
  if (!agreement) throw new DomainError('AGREEMENT_NOT_FOUND');
  const { school, covered } = await chooseCards(deps, userId, cards, 'body.cards');
  if (school.id !== schoolId)
    throw new DomainError('VALIDATION_FAILED', 'body.cards: cards of another school', {
      field: 'body.cards',
    });
  const changed = await deps.db.transaction((tx) =>
    replaceCoverage(tx, agreement.id, school.id, covered, deps.clock.now()),
  );
  for (const bindingId of changed) await enqueueSync(deps, bindingId);
  return viewOf(school, agreement, await listCoverage(deps.db, [agreement.id]));
}

/** Starts the card-system sync of one binding's card (after a commit; the sweep repairs a lost one). */
export async function enqueueSync(deps: Deps, bindingId: string): Promise<void> {
  try {
    await deps.jobs.now(SYNC_CARD_JOB, { bindingId, attempt: 0 });
  } catch (error) {
    deps.logger.warn('could not enqueue a card-system sync', { bindingId, error });
  }
}

async function enqueueSyncOfAgreement(deps: Deps, agreementId: string): Promise<void> {
  for (const row of await listCoverage(deps.db, [agreementId])) await enqueueSync(deps, row.bindingId);
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
  // Two payers signed for the same card at the same time: the one already ACTIVE keeps it.
  const coverage = await listCoverage(tx, [agreement.id]);
  const kept = [];
  for (const row of coverage) {
    if ((await findOtherPayersOfCard(tx, row.schoolId, row.cardNo, agreement.userId)).length === 0)
      kept.push(row);
  }
  if (kept.length < coverage.length) {
    await replaceCoverage(tx, agreement.id, agreement.schoolId, kept, deps.clock.now());
  }
  return { outcome: 'APPLIED', detail: 'ACTIVE', after: () => enqueueSyncOfAgreement(deps, agreement.id) };
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
      after: () => enqueueSyncOfAgreement(deps, agreement.id),
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
  coverage: CoverageRow[],
): WithholdingView {
  return {
    schoolId: school.id,
    status: agreement?.status ?? 'NONE',
    agreementId: agreement?.id ?? null,
    signedAt: agreement?.signedAt?.toISOString() ?? null,
    cards: coverage
      .filter((row) => row.agreementId === agreement?.id)
      .map((row) => ({
        bindingId: row.bindingId,
        cardNo: row.cardNo,
        holderName: row.holderName,
        isBoundAtCardSystem: row.isWithholdingPayer,
        txnLimitFen: Math.min(row.txnLimitFen ?? school.txnLimitFen, school.txnLimitFen),
        dailyLimitFen: Math.min(row.dailyLimitFen ?? school.dailyLimitFen, school.dailyLimitFen),
        hasOwnLimits: row.txnLimitFen !== null || row.dailyLimitFen !== null,
      })),
    limits: { txnLimitFen: school.txnLimitFen, dailyLimitFen: school.dailyLimitFen },
  };
}

/**
 * The user's withholding, one item per school where they have a live card or an agreement: the ACTIVE
 * agreement, else the newest one. The newest stale PENDING agreement is resolved with Alipay first (lost
 * notify).
 */
export async function withholdingViews(deps: Deps, userId: string): Promise<WithholdingView[]> {
  let agreements = await listUserAgreements(deps.db, userId);
  const staleBefore = deps.clock.now().getTime() - deps.config.withholding.agreementQueryAfterMs;
  // One Alipay question per request at most (the newest sign page, the one the user just left); the
  // withholding sweep works through the rest, oldest first.
  const stale = agreements
    .filter((a) => a.status === 'PENDING' && a.createdAt.getTime() <= staleBefore)
    .slice(0, 1);
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
  const shown = schoolIds.map((schoolId) => {
    const ofSchool = agreements.filter((a) => a.schoolId === schoolId);
    return { schoolId, agreement: ofSchool.find((a) => a.status === 'ACTIVE') ?? ofSchool[0] };
  });
  const coverage = await listCoverage(
    deps.db,
    shown.flatMap(({ agreement }) => (agreement ? [agreement.id] : [])),
  );
  const views: WithholdingView[] = [];
  for (const { schoolId, agreement } of shown) {
    const school = await findSchool(deps.db, schoolId);
    if (school) views.push(viewOf(school, agreement, coverage));
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
  const coverage = await listCoverage(deps.db, [agreement.id]);
  for (const row of coverage) await syncCardForWithholding(deps, row.bindingId, 0);
  return viewOf(school, unsigned, await listCoverage(deps.db, [agreement.id]));
}

async function retrySync(
  deps: Deps,
  bindingId: string,
  attempt: number,
  error: CardSystemError,
): Promise<void> {
  const delay =
    error.classification === 'final' ? undefined : deps.config.withholding.cardBindRetryMs[attempt];
  if (delay === undefined) {
    deps.logger.error('card-system withholding sync failed for good', { bindingId, reason: error.reason });
    return;
  }
  deps.logger.warn('card-system withholding sync failed; will retry', { bindingId, reason: error.reason });
  await deps.jobs.at(new Date(deps.clock.now().getTime() + delay), SYNC_CARD_JOB, {
    bindingId,
    attempt: attempt + 1,
  });
}

/**
 * Moves one binding's card at the card system towards what its coverage calls for: ZFB_BindDoc (the user
 * becomes the card's withholding payer) while an ACTIVE agreement of the binding's user covers it,
 * ZFB_UnBindDoc with the kept password otherwise. Idempotent; retried with backoff while the card system fails.
 */
export async function syncCardForWithholding(deps: Deps, bindingId: string, attempt: number): Promise<void> {
  const binding = await findBinding(deps.db, bindingId);
  if (!binding) return;
  const wanted = binding.status !== 'UNBOUND' && (await isCoveredByActiveAgreement(deps.db, bindingId));
  if (wanted && !binding.isWithholdingPayer) await bindCard(deps, binding, attempt);
  else if (!wanted && binding.vendorBindPasswordEnc) await unbindCard(deps, binding, attempt);
}

async function bindCard(deps: Deps, binding: BindingRow, attempt: number): Promise<void> {
  const [school, user] = await Promise.all([
    findSchool(deps.db, binding.schoolId),
    findUser(deps.db, binding.userId),
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
    await retrySync(deps, binding.id, attempt, error);
    return;
  }
  // The coverage may have ended while the card system was asked: record the bind first, then look, so that
  // an unbind that ran meanwhile is followed by another one rather than overwritten.
  await setWithholdingPayer(deps.db, binding.id, passwordEnc, deps.clock.now());
  if (!(await isCoveredByActiveAgreement(deps.db, binding.id))) await enqueueSync(deps, binding.id);
  else deps.logger.info('card bound for withholding', { bindingId: binding.id });
}

async function unbindCard(deps: Deps, binding: BindingRow, attempt: number): Promise<void> {
  const school = await findSchool(deps.db, binding.schoolId);
  if (!school) return;
  try {
    await deps.schools.cardSystem(school).unbindAlipay({
      cardNo: binding.cardNo,
      password: deps.protector.decrypt(binding.vendorBindPasswordEnc!),
    });
  } catch (error) {
    if (!(error instanceof CardSystemError)) throw error;
    await retrySync(deps, binding.id, attempt, error);
    return;
  }
  await setWithholdingPayer(deps.db, binding.id, null, deps.clock.now());
  if (binding.status !== 'UNBOUND' && (await isCoveredByActiveAgreement(deps.db, binding.id)))
    await enqueueSync(deps, binding.id);
  else deps.logger.info('card unbound from withholding', { bindingId: binding.id });
}
