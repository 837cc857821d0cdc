import type { WalletCardView } from '../../../../shared/api.js';
import type { BindingRow } from '../../db/repos/cards/bindings.js';
import { findLiveCardByCardNo } from '../../db/repos/membercard/cards.js';
import { findProgram } from '../../db/repos/membercard/programs.js';
import { findUser } from '../../db/repos/users/users.js';
import type { Deps } from '../../deps.js';

/**
 * The mini-program's view of a bound card in the Alipay card wallet: whether the school offers it, the claim
 * link to add it, and whether it is there — in this user's wallet (card management names them by their
 * user_id or, under an open_id app, open_id) or in another account's. A card opened but not yet added counts
 * as not added.
 */
export async function walletCardOf(
  deps: Pick<Deps, 'db'>,
  userId: string,
  binding: Pick<BindingRow, 'schoolId' | 'cardNo'>,
): Promise<WalletCardView | null> {
  const program = await findProgram(deps.db, binding.schoolId);
  if (!program) return null;
  const [card, user] = await Promise.all([
    findLiveCardByCardNo(deps.db, binding.schoolId, binding.cardNo),
    findUser(deps.db, userId),
  ]);
  const isAdded = card?.status === 'IN_WALLET';
  const isMine =
    !!card && (card.alipayUserId === user?.alipayUserId || card.alipayUserId === user?.alipayOpenId);
  return {
    state: !isAdded ? 'NOT_ADDED' : isMine ? 'IN_MY_WALLET' : 'IN_OTHER_WALLET',
    claimUrl: program.claimUrl,
  };
}
