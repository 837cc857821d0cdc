import type { OtherBindingView } from '../../../../shared/api.js';
import {
  approveBinding,
  findBinding,
  listLiveBindingsOfCard,
  type BindingRow,
  type BindingWithSchool,
} from '../../db/repos/cards/bindings.js';
import type { Deps } from '../../deps.js';
import { DomainError } from '../errors.js';
import { ownBinding, releaseBinding, unbindAtCardSystem } from './bindings.js';

/**
 * The card's holder (the binding with relation SELF) is in charge of who else sees their card (issue #12):
 * they see every other live binding of it, approve a parent's binding that waits for them, and remove any
 * other binding — a stranger's, or a parent's they no longer want. A removed binding that paid the card's
 * swipes stops paying them (the card is unbound at the card system too).
 */

async function holderBinding(deps: Pick<Deps, 'db'>, userId: string, bindingId: string) {
  const binding = await ownBinding(deps, userId, bindingId);
  if (binding.relation !== 'SELF') throw new DomainError('NOT_CARD_HOLDER');
  return binding;
}

function otherView(row: BindingRow): OtherBindingView {
  return {
    id: row.id,
    relation: row.relation,
    status: row.status,
    approval: row.approval,
    proof: row.proof,
    isWithholdingPayer: row.isWithholdingPayer,
    createdAt: row.createdAt.toISOString(),
  };
}

async function otherBindingOf(deps: Pick<Deps, 'db'>, holder: BindingWithSchool, otherId: string) {
  const other = await findBinding(deps.db, otherId);
  if (
    !other ||
    other.id === holder.id ||
    other.status === 'UNBOUND' ||
    other.schoolId !== holder.schoolId ||
    other.cardNo !== holder.cardNo
  )
    throw new DomainError('BINDING_NOT_FOUND', undefined, { field: 'params.otherId' });
  return other;
}

export async function listOtherBindings(
  deps: Pick<Deps, 'db'>,
  userId: string,
  bindingId: string,
): Promise<OtherBindingView[]> {
  const holder = await holderBinding(deps, userId, bindingId);
  const all = await listLiveBindingsOfCard(deps.db, holder.schoolId, holder.cardNo);
  return all.filter((row) => row.id !== holder.id).map(otherView);
}

export async function approveOtherBinding(
  deps: Pick<Deps, 'db' | 'clock'>,
  userId: string,
  bindingId: string,
  otherId: string,
): Promise<OtherBindingView> {
  const holder = await holderBinding(deps, userId, bindingId);
  const other = await otherBindingOf(deps, holder, otherId);
  await approveBinding(deps.db, other.id, deps.clock.now());
  return otherView((await findBinding(deps.db, other.id))!);
}

export async function removeOtherBinding(
  deps: Deps,
  userId: string,
  bindingId: string,
  otherId: string,
): Promise<void> {
  const holder = await holderBinding(deps, userId, bindingId);
  const other = await otherBindingOf(deps, holder, otherId);
  // Its swipes must stop coming to that user's Alipay before the binding goes.
  if (other.vendorBindPasswordEnc) await unbindAtCardSystem(deps, other);
  await releaseBinding(deps, other.id);
  deps.logger.info('card holder removed another binding', { bindingId: holder.id, removed: other.id });
}
