import { expireUnusedCodes } from '../../db/repos/membercard/codes.js';
import { findLiveCardByCardNo, markRemoved, retryFailedSyncs } from '../../db/repos/membercard/cards.js';
import type { Deps } from '../../deps.js';
import { recordAudit, type Actor } from '../audit/audit.js';
import { DomainError } from '../errors.js';
import { wakeWalletSync } from './wallet-sync.js';

/** The operator's actions on a school's wallet cards (`npm run operator -- membercard …`), each audited. */

/**
 * Sends again the updates card management refused (after the cause was fixed: our public key there, a
 * template): every failed card of the school, or the one named. Returns how many go out again.
 */
export async function retryWalletUpdates(
  deps: Pick<Deps, 'db' | 'clock' | 'jobs' | 'logger'>,
  actor: Actor,
  schoolId: string,
  cardNo?: string,
): Promise<number> {
  const cardIds = await deps.db.transaction(async (tx) => {
    const ids = await retryFailedSyncs(tx, { schoolId, cardNo, now: deps.clock.now() });
    if (ids.length > 0)
      await recordAudit(tx, {
        actor,
        schoolId,
        action: 'membercard.sync.retry',
        target: cardNo ?? null,
        after: { cards: ids.length },
      });
    return ids;
  });
  await wakeWalletSync(deps, cardIds);
  return cardIds.length;
}

/**
 * Frees a campus card that an Alipay user opened (openCardInfo) but never added to a wallet, so that its
 * rightful holder can claim it. A card in a wallet is its holder's: it leaves when they remove it.
 */
export async function releaseOpenedCard(
  deps: Pick<Deps, 'db' | 'clock'>,
  actor: Actor,
  schoolId: string,
  cardNo: string,
): Promise<void> {
  const now = deps.clock.now();
  await deps.db.transaction(async (tx) => {
    const card = await findLiveCardByCardNo(tx, schoolId, cardNo);
    if (!card) throw new DomainError('MEMBERSHIP_CARD_NOT_FOUND', 'No wallet card holds this campus card');
    if (card.status === 'IN_WALLET')
      throw new DomainError(
        'MEMBERSHIP_CARD_TAKEN',
        'The card is in an Alipay wallet: it leaves when its holder removes it',
      );
    for (const removed of await markRemoved(tx, { schoolId, cardNo, alipayUserId: card.alipayUserId, now }))
      await expireUnusedCodes(tx, removed.id, now);
    await recordAudit(tx, {
      actor,
      schoolId,
      action: 'membercard.card.release',
      target: cardNo,
      before: { status: card.status, openedAt: card.createdAt },
      after: { status: 'REMOVED' },
    });
  });
}
