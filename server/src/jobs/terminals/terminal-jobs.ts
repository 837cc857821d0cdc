import type { Deps } from '../../deps.js';
import { deliverCallback, TERMINAL_CALLBACK_JOB } from '../../domain/terminals/callbacks.js';
import { sweepTerminalOrders } from '../../domain/terminals/lifecycle.js';
import { attemptTerminalRefund, TERMINAL_REFUND_JOB } from '../../domain/terminals/refunds.js';
import { attemptSettlement, TERMINAL_SETTLE_JOB } from '../../domain/terminals/settle.js';
import type { JobDefinition } from '../runner.js';

/** The paid callback to a machine: one attempt; the domain schedules the next. */
export const terminalCallbackJob: JobDefinition<{ orderId: string }> = {
  name: TERMINAL_CALLBACK_JOB,
  concurrency: 20,
  lockLifetimeMs: 60_000,
  run: (data, deps) => deliverCallback(deps, data.orderId),
};

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
