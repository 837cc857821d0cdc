import { formatFen } from '../../../../shared/format.js';
import { listBalanceWatches, setBalanceLowSince } from '../../db/repos/cards/bindings.js';
import { findSchool } from '../../db/repos/schools/schools.js';
import type { Deps } from '../../deps.js';
import { sendToUser } from './outbox.js';

const BATCH = 200;

/**
 * "Balance below a threshold the user sets" (issue #12): the card system tells nobody when a card's balance
 * drops (canteen swipes paid from the card never reach us), so the job `messages.balance-watch` asks it for
 * the cards whose users set a threshold, every BALANCE_WATCH_EVERY_MS. A card that goes below is announced
 * once; it is announced again only after its balance has been back at or above the threshold.
 */
export async function watchLowBalances(deps: Deps): Promise<void> {
  let after: string | null = null;
  for (;;) {
    const watches = await listBalanceWatches(deps.db, after, BATCH);
    if (watches.length === 0) return;
    after = watches[watches.length - 1].id;
    for (const binding of watches) {
      const school = await findSchool(deps.db, binding.schoolId);
      if (!school || school.status !== 'ACTIVE') continue;
      let balanceFen: number;
      try {
        balanceFen = (await deps.schools.cardSystem(school).getBalance(binding.cardNo)).balanceFen;
      } catch (error) {
        deps.logger.warn('balance watch: card system did not answer', { bindingId: binding.id, error });
        continue;
      }
      const isLow = balanceFen < binding.lowBalanceFen!;
      if (isLow === (binding.balanceLowSince !== null)) continue;
      const since = isLow ? deps.clock.now() : null;
      await setBalanceLowSince(deps.db, binding.id, since);
      if (!since) continue;
      await sendToUser(deps, {
        kind: 'BALANCE_LOW',
        userId: binding.userId,
        schoolId: binding.schoolId,
        dedupKey: `balance-low:${binding.id}:${since.getTime()}`,
        values: [
          `${binding.holderName}（尾号${binding.cardNo.slice(-4)}）`,
          formatFen(balanceFen),
          formatFen(binding.lowBalanceFen!),
        ],
      });
    }
  }
}
