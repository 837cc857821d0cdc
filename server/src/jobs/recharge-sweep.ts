import { findRechargesToSweep } from '../db/repos/recharges.js';
import { enqueueCredit, reconcileUnpaidRecharge } from '../domain/recharge.js';
import type { Deps } from '../deps.js';
import type { JobDefinition } from './runner.js';

const BATCH = 200;
/** A PAID order whose credit was due this long ago has lost its job (crash between commit and enqueue). */
const LOST_CREDIT_GRACE_MS = 60_000;

/**
 * Every minute: unpaid orders older than a few minutes are asked about at Alipay (paid → credited as if
 * notified; expired → closed), and paid orders whose crediting is overdue get their job again.
 */
export function rechargeSweepJob(deps: Pick<Deps, 'config'>): JobDefinition {
  return {
    name: 'recharge.sweep',
    every: deps.config.recharge.sweepEveryMs,
    concurrency: 1,
    async run(_data, deps) {
      const now = deps.clock.now().getTime();
      const orders = await findRechargesToSweep(deps.db, {
        createdBefore: new Date(now - deps.config.recharge.sweepAfterMs),
        creditDueBefore: new Date(now - LOST_CREDIT_GRACE_MS),
        limit: BATCH,
      });
      for (const order of orders) {
        try {
          if (order.status === 'PAID') await enqueueCredit(deps, order.id);
          else await reconcileUnpaidRecharge(deps, order);
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
