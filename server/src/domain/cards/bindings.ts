import type { BindingDetail, CreateBindingRequest, Relation } from '../../../../shared/api.js';
import {
  findLiveBindingOfUser,
  findOwnBinding,
  insertBindingIfNew,
  listLiveBindings,
  markUnbound,
  setLowBalanceAlert,
  type BindingRow,
  type BindingWithSchool,
} from '../../db/repos/cards/bindings.js';
import { findRosterEntry } from '../../db/repos/roster/roster-entries.js';
import { removeBindingFromCoverage } from '../../db/repos/withholding/agreement-cards.js';
import { hasOpenDebts } from '../../db/repos/withholding/debts.js';
import { findSchool, type SchoolRow } from '../../db/repos/schools/schools.js';
import type { Deps } from '../../deps.js';
import type { CardHolder } from '../../integrations/cardsys/index.js';
import { DomainError } from '../errors.js';
import { cardSystemFailure } from '../outside-errors.js';
import { announceCardBound } from '../messages/events.js';
import { approvalFor } from './approval.js';
import { isSameHolder } from './names.js';
import { verifyTypedProof, type BindingProof } from './proof.js';
import { claimMatch } from './roster-matches.js';

/**
 * Binding a campus card to an Alipay user (DESIGN §7.2, seed 000 §1.2 and §2.2). The card system must know
 * the card, the holder name must match, the card must be in normal status, and the user must prove the card
 * is theirs or their child's beyond what is printed on it (proof.ts: the school's roster, or the student
 * number; or a roster match Alipay vouched for, roster-matches.ts). A card has at most one holder (relation
 * SELF); a parent's binding may wait for the holder's approval (approval.ts); the holder sees every other
 * binding of the card and can remove it (holder.ts).
 */

/**
 * A school that takes new money (recharges, signings) and new cards: ACTIVE. A SUSPENDED school answers
 * SCHOOL_SUSPENDED, a PENDING one (not yet on board) SCHOOL_DISABLED (DESIGN §7.0).
 */
export async function activeSchool(
  deps: Pick<Deps, 'db'>,
  schoolId: string,
  field?: string,
): Promise<SchoolRow> {
  const school = await servingSchool(deps, schoolId, field);
  if (school.status === 'SUSPENDED') throw new DomainError('SCHOOL_SUSPENDED', undefined, { field });
  return school;
}

/**
 * A school whose cards can still be looked at, reported lost and unbound: ACTIVE or SUSPENDED. A
 * suspension stops new money, not a student's way to see their balance or stop a lost card.
 */
export async function servingSchool(
  deps: Pick<Deps, 'db'>,
  schoolId: string,
  field?: string,
): Promise<SchoolRow> {
  const school = await findSchool(deps.db, schoolId);
  if (!school) throw new DomainError('SCHOOL_NOT_FOUND', undefined, { field });
  if (school.status === 'PENDING') throw new DomainError('SCHOOL_DISABLED', undefined, { field });
  return school;
}

async function cardHolder(deps: Deps, school: SchoolRow, cardNo: string, field: string): Promise<CardHolder> {
  try {
    return await deps.schools.cardSystem(school).getCardHolder(cardNo);
  } catch (error) {
    throw cardSystemFailure(error, field);
  }
}

export async function bindCard(
  deps: Deps,
  userId: string,
  input: CreateBindingRequest,
): Promise<BindingWithSchool> {
  const school = await activeSchool(deps, input.schoolId, 'body.schoolId');
  const claimed = input.matchToken ? claimMatch(deps, userId, school.id, input.matchToken) : undefined;
  const holder = await cardHolder(
    deps,
    school,
    claimed?.cardNo ?? input.cardNo!,
    claimed ? 'body.matchToken' : 'body.cardNo',
  );
  const roster = await findRosterEntry(deps.db, school.id, holder.cardNo);

  let relation: Relation;
  let proof: BindingProof;
  if (claimed) {
    // The roster is the school's word, the card system the vendor's: they must name the same person.
    if (!roster || !isSameHolder(holder.holderName, roster.name))
      throw new DomainError('IDENTITY_NOT_VERIFIED', undefined, { field: 'body.matchToken' });
    ({ relation, proof } = claimed);
  } else {
    if (!isSameHolder(holder.holderName, input.name!))
      throw new DomainError('CARD_NAME_MISMATCH', undefined, { field: 'body.name' });
    proof = verifyTypedProof(deps.protector, roster, holder, input);
    relation = input.relation!;
    if (proof === 'GUARDIAN_PHONE' && relation !== 'PARENT') {
      throw new DomainError(
        'VALIDATION_FAILED',
        "body.relation: this is the guardian's phone; bind as PARENT",
        {
          field: 'body.relation',
        },
      );
    }
  }
  if (holder.status !== 'NORMAL') {
    throw new DomainError('CARD_NOT_NORMAL', `The card is ${holder.status.toLowerCase()}`, {
      field: claimed ? 'body.matchToken' : 'body.cardNo',
    });
  }
  const approval = approvalFor(deps.protector, school, relation, roster, deps.clock.now());
  const row = await insertBindingIfNew(deps.db, {
    schoolId: school.id,
    userId,
    cardNo: holder.cardNo,
    holderName: holder.holderName,
    identity: holder.identity,
    // Campus-code payments name the student by number (seed 001 §3): kept to find them for this card.
    studentNo: holder.studentNo,
    relation,
    proof,
    approval,
  });
  if (!row) {
    const mine = await findLiveBindingOfUser(deps.db, userId, school.id, holder.cardNo);
    if (mine) throw new DomainError('BINDING_EXISTS', undefined, { field: 'body.cardNo' });
    throw new DomainError('HOLDER_EXISTS', undefined, { field: 'body.relation' });
  }
  // The holder is told that someone else bound their card, and can remove that binding.
  await announceCardBound(deps, row).catch((error: unknown) =>
    deps.logger.warn('could not queue the card-bound message', { bindingId: row.id, error }),
  );
  return { ...row, schoolName: school.name };
}

export function listBindings(deps: Pick<Deps, 'db'>, userId: string): Promise<BindingWithSchool[]> {
  return listLiveBindings(deps.db, userId);
}

/** The user's own binding (any live status, approved or not). */
export async function ownBinding(
  deps: Pick<Deps, 'db'>,
  userId: string,
  bindingId: string,
): Promise<BindingWithSchool> {
  const binding = await findOwnBinding(deps.db, userId, bindingId);
  if (!binding) throw new DomainError('BINDING_NOT_FOUND');
  return binding;
}

/**
 * The user's own binding, for anything that reads or moves the card (balance, statement, recharge, loss,
 * withholding): a parent's binding still waiting for the holder's approval is refused.
 */
export async function usableBinding(
  deps: Pick<Deps, 'db'>,
  userId: string,
  bindingId: string,
): Promise<BindingWithSchool> {
  const binding = await ownBinding(deps, userId, bindingId);
  if (binding.approval === 'PENDING') throw new DomainError('BINDING_PENDING_APPROVAL');
  return binding;
}

/**
 * The binding with the live balance and the card system's own status; a silent card system leaves them
 * unknown, not the page broken. A binding waiting for approval shows neither.
 */
export async function bindingWithBalance(
  deps: Deps,
  userId: string,
  bindingId: string,
): Promise<
  { binding: BindingWithSchool } & Pick<
    BindingDetail,
    'balanceFen' | 'cardStatus' | 'balanceUnavailable' | 'canCancelLoss'
  >
> {
  const binding = await ownBinding(deps, userId, bindingId);
  const unknown = { balanceFen: null, cardStatus: null, canCancelLoss: false };
  if (binding.approval === 'PENDING') return { binding, ...unknown, balanceUnavailable: false };
  const school = await servingSchool(deps, binding.schoolId);
  const cardSystem = deps.schools.cardSystem(school);
  try {
    const holder = await cardSystem.getCardHolder(binding.cardNo);
    const isLost = holder.status === 'LOST' || binding.status === 'LOST';
    const canCancelLoss = isLost && (await cardSystem.supportsCancelLoss().catch(() => false));
    return {
      binding,
      balanceFen: holder.balanceFen,
      cardStatus: holder.status,
      balanceUnavailable: false,
      canCancelLoss,
    };
  } catch (error) {
    deps.logger.warn('card balance unavailable', { bindingId, error: (error as Error).message });
    return { binding, ...unknown, balanceUnavailable: true };
  }
}

/** The user's low-balance message threshold for the card (null: none); the balance watch reads it. */
export async function setBalanceAlert(
  deps: Pick<Deps, 'db' | 'clock'>,
  userId: string,
  bindingId: string,
  thresholdFen: number | null,
): Promise<BindingWithSchool> {
  const binding = await usableBinding(deps, userId, bindingId);
  await setLowBalanceAlert(deps.db, binding.id, thresholdFen, deps.clock.now());
  return { ...binding, lowBalanceFen: thresholdFen, balanceLowSince: null };
}

/**
 * Unbind (seed 000 §2.6): refused while the payer owes withholdings; a card bound for withholding is also
 * unbound at the card system with the bind password, so its swipes stop coming to us.
 */
export async function unbindCard(deps: Deps, userId: string, bindingId: string): Promise<void> {
  const binding = await ownBinding(deps, userId, bindingId);
  if (binding.isWithholdingPayer && (await hasOpenDebts(deps.db, userId))) {
    throw new DomainError('HAS_ARREARS', 'Repay the unpaid withholdings before unbinding this card');
  }
  if (binding.vendorBindPasswordEnc) await unbindAtCardSystem(deps, binding);
  await releaseBinding(deps, binding.id);
}

/** The binding is gone: it is UNBOUND and no agreement covers its card any more. */
export async function releaseBinding(deps: Pick<Deps, 'db' | 'clock'>, bindingId: string): Promise<void> {
  const now = deps.clock.now();
  await deps.db.transaction(async (tx) => {
    await markUnbound(tx, bindingId, now);
    await removeBindingFromCoverage(tx, bindingId, now);
  });
}

export async function unbindAtCardSystem(deps: Deps, binding: BindingRow): Promise<void> {
  if (!binding.vendorBindPasswordEnc) return;
  const school = await findSchool(deps.db, binding.schoolId);
  if (!school) throw new DomainError('SCHOOL_NOT_FOUND');
  try {
    await deps.schools.cardSystem(school).unbindAlipay({
      cardNo: binding.cardNo,
      password: deps.protector.decrypt(binding.vendorBindPasswordEnc),
    });
  } catch (error) {
    throw cardSystemFailure(error);
  }
}
