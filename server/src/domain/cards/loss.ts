import { markCardFound, markCardLost, type BindingWithSchool } from '../../db/repos/cards/bindings.js';
import type { Deps } from '../../deps.js';
import { CardSystemError } from '../../integrations/cardsys/index.js';
import { DomainError } from '../errors.js';
import { showCardAsLost, cardFoundAgain, wakeWalletSync } from '../membercard/wallet-sync.js';
import { cardSystemFailure } from '../outside-errors.js';
import { announceCardLost } from '../messages/events.js';
import { servingSchool, usableBinding } from './bindings.js';

/**
 * Loss (挂失, seed 000 §2.5) and its undoing (解挂). Either is done by the holder, or by a parent whose
 * binding needs no approval or was approved (usableBinding). Loss marks the card lost at the card system
 * and every binding of it LOST: withholding approvals stop at once (decide_deduction's CARD_LOST). 解挂
 * works where the vendor offers it online (CardSystem.supportsCancelLoss); elsewhere UNLOSS_NOT_SUPPORTED
 * says to go to the school's card office. Both work while the school is SUSPENDED: a suspension stops new
 * money, not a way to stop a lost card. Either way the card in the Alipay wallet follows, in the same
 * transaction as the bindings: the LOST template, then its level's again (domain/membercard/wallet-sync.ts).
 */

export async function reportCardLost(
  deps: Deps,
  userId: string,
  bindingId: string,
): Promise<BindingWithSchool> {
  const binding = await usableBinding(deps, userId, bindingId);
  if (binding.status === 'LOST') return binding;
  const school = await servingSchool(deps, binding.schoolId);
  try {
    await deps.schools.cardSystem(school).reportLoss(binding.cardNo);
  } catch (error) {
    throw cardSystemFailure(error);
  }
  const now = deps.clock.now();
  const walletCards = await deps.db.transaction(async (tx) => {
    await markCardLost(tx, binding.schoolId, binding.cardNo, now);
    return showCardAsLost(tx, binding.schoolId, binding.cardNo, now);
  });
  await wakeWalletSync(deps, walletCards);
  await announceCardLost(deps, binding).catch((error: unknown) =>
    deps.logger.warn('could not queue the card-lost messages', { bindingId, error }),
  );
  return { ...binding, status: 'LOST' };
}

export async function cancelCardLoss(
  deps: Deps,
  userId: string,
  bindingId: string,
): Promise<BindingWithSchool> {
  const binding = await usableBinding(deps, userId, bindingId);
  const school = await servingSchool(deps, binding.schoolId);
  try {
    await deps.schools.cardSystem(school).cancelLoss(binding.cardNo);
  } catch (error) {
    if (error instanceof CardSystemError && error.reason === 'NOT_SUPPORTED')
      throw new DomainError('UNLOSS_NOT_SUPPORTED', undefined, { cause: error });
    throw cardSystemFailure(error);
  }
  const now = deps.clock.now();
  const walletCards = await deps.db.transaction(async (tx) => {
    await markCardFound(tx, binding.schoolId, binding.cardNo, now);
    return cardFoundAgain(tx, binding.schoolId, binding.cardNo, now);
  });
  await wakeWalletSync(deps, walletCards);
  return { ...binding, status: 'ACTIVE' };
}
