import type { Deps } from '../../deps.js';
import { watchLowBalances } from '../../domain/messages/balance-watch.js';
import type { JobDefinition } from '../runner.js';

/** `messages.balance-watch`: asks the card system for watched cards' balances (domain/messages/balance-watch.ts). */
export function balanceWatchJob(deps: Pick<Deps, 'config'>): JobDefinition {
  return {
    name: 'messages.balance-watch',
    every: deps.config.messages.balanceWatchEveryMs,
    concurrency: 1,
    lockLifetimeMs: 30 * 60_000,
    async run(_data, deps) {
      await watchLowBalances(deps);
    },
  };
}
