import type { BindingDetail, CreateBindingRequest } from '../../../../shared/api.js';
import {
  findOwnBinding,
  insertBindingIfNew,
  listLiveBindings,
  markCardLost,
  markUnbound,
  type BindingRow,
  type BindingWithSchool,
} from '../../db/repos/cards/bindings.js';
import { hasOpenDebts } from '../../db/repos/withholding/debts.js';
import { findSchool, type SchoolRow } from '../../db/repos/schools/schools.js';
import type { Deps } from '../../deps.js';
import { DomainError } from '../errors.js';
import { isSameHolder } from './names.js';
import { cardSystemFailure } from '../outside-errors.js';

/**
 * Binding a campus card to an Alipay user (DESIGN §7.2, seed 000 §1.2 and §2.2): the card system must
 * know the card, the holder name must match, the card must be in normal status. A parent may bind several
 * children's cards; nobody binds the same card twice.
 */

export async function activeSchool(
  deps: Pick<Deps, 'db'>,
  schoolId: string,
  field?: string,
): Promise<SchoolRow> {
  const school = await findSchool(deps.db, schoolId);
  if (!school) throw new DomainError('SCHOOL_NOT_FOUND', undefined, { field });
  if (school.status !== 'ACTIVE') throw new DomainError('SCHOOL_DISABLED', undefined, { field });
  return school;
}

export async function bindCard(
  deps: Deps,
  userId: string,
  input: CreateBindingRequest,
): Promise<BindingWithSchool> {
  const school = await activeSchool(deps, input.schoolId, 'body.schoolId');
  let holder;
  try {
    holder = await deps.schools.cardSystem(school).getCardHolder(input.cardNo);
  } catch (error) {
    throw cardSystemFailure(error, 'body.cardNo');
  }
  if (!isSameHolder(holder.holderName, input.name)) {
    throw new DomainError('CARD_NAME_MISMATCH', undefined, { field: 'body.name' });
  }
  if (holder.status !== 'NORMAL') {
    throw new DomainError('CARD_NOT_NORMAL', `The card is ${holder.status.toLowerCase()}`, {
      field: 'body.cardNo',
    });
  }
  const row = await insertBindingIfNew(deps.db, {
    schoolId: school.id,
    userId,
    cardNo: holder.cardNo,
    holderName: holder.holderName,
    identity: holder.identity,
    relation: input.relation,
  });
  if (!row) throw new DomainError('BINDING_EXISTS', undefined, { field: 'body.cardNo' });
  return { ...row, schoolName: school.name };
}

export function listBindings(deps: Pick<Deps, 'db'>, userId: string): Promise<BindingWithSchool[]> {
  return listLiveBindings(deps.db, userId);
}

export async function ownBinding(
  deps: Pick<Deps, 'db'>,
  userId: string,
  bindingId: string,
): Promise<BindingWithSchool> {
  const binding = await findOwnBinding(deps.db, userId, bindingId);
  if (!binding) throw new DomainError('BINDING_NOT_FOUND');
  return binding;
}

/** The binding with the live balance; a silent card system leaves the balance unknown, not the page broken. */
export async function bindingWithBalance(
  deps: Deps,
  userId: string,
  bindingId: string,
): Promise<
  { binding: BindingWithSchool } & Pick<BindingDetail, 'balanceFen' | 'cardStatus' | 'balanceUnavailable'>
> {
  const binding = await ownBinding(deps, userId, bindingId);
  const school = await activeSchool(deps, binding.schoolId);
  try {
    const holder = await deps.schools.cardSystem(school).getCardHolder(binding.cardNo);
    return { binding, balanceFen: holder.balanceFen, cardStatus: holder.status, balanceUnavailable: false };
  } catch (error) {
    deps.logger.warn('card balance unavailable', { bindingId, error: (error as Error).message });
    return { binding, balanceFen: null, cardStatus: null, balanceUnavailable: true };
  }
}

/** Loss (seed 000 §2.5): the card system marks the card lost; every binding of it stops (no approvals). */
export async function reportCardLost(
  deps: Deps,
  userId: string,
  bindingId: string,
): Promise<BindingWithSchool> {
  const binding = await ownBinding(deps, userId, bindingId);
  if (binding.status === 'LOST') return binding;
  const school = await activeSchool(deps, binding.schoolId);
  try {
    await deps.schools.cardSystem(school).reportLoss(binding.cardNo);
  } catch (error) {
    throw cardSystemFailure(error);
  }
  await markCardLost(deps.db, binding.schoolId, binding.cardNo, deps.clock.now());
  return { ...binding, status: 'LOST' };
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
  await markUnbound(deps.db, binding.id, deps.clock.now());
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
