import type { Deps } from '../../deps.js';
import {
  claimDueCallbacks,
  nextCallbackDueAt,
  releaseCallbackLeases,
  TERMINAL_CALLBACKS_DUE_CHANNEL,
  type DueCallback,
} from '../../db/repos/terminals/orders.js';
import { CALLBACK_LEASE_MS, deliverCallback } from '../../domain/terminals/callbacks.js';
import { LeasedDrainer } from '../leased-drainer.js';
import { sweepTerminalOrders } from '../../domain/terminals/lifecycle.js';
import { attemptTerminalRefund, TERMINAL_REFUND_JOB } from '../../domain/terminals/refunds.js';
import { attemptSettlement, TERMINAL_SETTLE_JOB } from '../../domain/terminals/settle.js';
import type { JobDefinition } from '../runner.js';

/**
 * `terminal.callbacks`: paid callbacks to the machines, drained in leased batches (jobs/leased-drainer.ts):
 * a LISTEN on `terminal_callbacks_due` starts a run as payments commit (and after a failed attempt); Agenda
 * runs it when the next retry is due and every TERMINAL_SWEEP_EVERY_MS. The common paid notification leases
 * its callback to the process that applied it, which sends it at once (domain/terminals/payments.ts): the
 * drainer takes those only when an attempt failed or the lease ran out.
 */
export function terminalCallbackJob(deps: Deps): JobDefinition {
  const drainer = new LeasedDrainer<DueCallback>(
    {
      channel: TERMINAL_CALLBACKS_DUE_CHANNEL,
      jobName: 'terminal.callbacks',
      batchSize: 64,
      concurrency: 32,
      leaseMs: CALLBACK_LEASE_MS,
      claim: (now, leaseUntil, limit) => claimDueCallbacks(deps.db, { now, leaseUntil, limit }),
      work: (due) => deliverCallback(deps, due),
      release: (rows) =>
        releaseCallbackLeases(
          deps.db,
          rows.map((row) => row.order),
          deps.clock.now(),
        ),
      nextDueAt: () => nextCallbackDueAt(deps.db),
    },
    { pool: deps.pool, jobs: deps.jobs, logger: deps.logger, now: () => deps.clock.now() },
  );
  return {
    name: 'terminal.callbacks',
    every: deps.config.terminals.sweepEveryMs,
    concurrency: 1,
    lockLifetimeMs: 10 * 60_000,
    async run() {
      await drainer.trigger();
    },
    background: drainer,
  };
}

/** One attempt of a terminal refund (failed dispense, unwanted payment). */
export const terminalRefundJob: JobDefinition<{ refundId: string }> = {
  name: TERMINAL_REFUND_JOB,
  concurrency: 10,
  lockLifetimeMs: 2 * 60_000,
  run: (data, deps) => attemptTerminalRefund(deps, data.refundId),
};

/** One step of an AFTER_DISPENSE royalty settlement (send, or ask for its result). */
export const terminalSettleJob: JobDefinition<{ orderId: string }> = {
  name: TERMINAL_SETTLE_JOB,
  concurrency: 10,
  lockLifetimeMs: 2 * 60_000,
  run: (data, deps) => attemptSettlement(deps, data.orderId),
};

/** Closes expired orders, asks about late payments, retries what is due (domain/terminals/lifecycle.ts). */
export function terminalSweepJob(deps: Pick<Deps, 'config'>): JobDefinition {
  return {
    name: 'terminal.sweep',
    every: deps.config.terminals.sweepEveryMs,
    concurrency: 1,
    run: (_data, deps) => sweepTerminalOrders(deps),
  };
}
