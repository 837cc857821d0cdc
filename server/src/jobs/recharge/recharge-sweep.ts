import { findUnpaidRecharges } from '../../db/repos/recharge/recharges.js';
import { reconcileUnpaidRecharge } from '../../domain/recharge/recharge.js';
import type { Deps } from '../../deps.js';
import type { JobDefinition } from '../runner.js';

const BATCH = 200;

/**
 * Every minute: unpaid orders older than a few minutes are asked about at Alipay (paid → credited as if
 * notified; expired → closed there and here). Paid orders whose crediting stalled need no sweep: they stay
 * due in the credit drainer's queue (jobs/recharge/recharge-credit.ts).
 */
export function rechargeSweepJob(deps: Pick<Deps, 'config'>): JobDefinition {
  return {
    name: 'recharge.sweep',
    every: deps.config.recharge.sweepEveryMs,
    concurrency: 1,
    async run(_data, deps) {
      const now = deps.clock.now().getTime();
      const orders = await findUnpaidRecharges(deps.db, {
        createdBefore: new Date(now - deps.config.recharge.sweepAfterMs),
        limit: BATCH,
      });
      for (const order of orders) {
        try {
          await reconcileUnpaidRecharge(deps, order);
        } catch (error) {
          deps.logger.warn('sweep could not settle a recharge; next sweep will retry', {
            outTradeNo: order.outTradeNo,
            error: (error as Error).message,
          });
        }
      }
    },
  };
}
