import { WALLET_SYNC_JOB, syncDueWalletCards } from '../../domain/membercard/wallet-sync.js';
import type { Deps } from '../../deps.js';
import type { JobDefinition } from '../runner.js';

type Data = { cardId?: string };

/**
 * Sends wallet card updates to card management (domain/membercard/wallet-sync.ts): one card when woken by
 * a change or a retry, every due card on the periodic run (a wake-up lost in a crash is found there).
 */
export function walletSyncJob(deps: Pick<Deps, 'config'>): JobDefinition<Data> {
  return {
    name: WALLET_SYNC_JOB,
    every: deps.config.membercard.syncEveryMs,
    concurrency: 5,
    lockLifetimeMs: 2 * 60_000,
    async run(data, deps) {
      await syncDueWalletCards(deps, data.cardId);
    },
  };
}
