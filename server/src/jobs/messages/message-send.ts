import {
  claimDueMessages,
  MESSAGES_DUE_CHANNEL,
  nextMessageDueAt,
  releaseMessageLeases,
  type UserMessageRow,
} from '../../db/repos/messages/messages.js';
import type { Deps } from '../../deps.js';
import { sendMessage } from '../../domain/messages/sending.js';
import { LeasedDrainer } from '../leased-drainer.js';
import type { JobDefinition } from '../runner.js';

export const MESSAGE_SEND_JOB = 'messages.send';

/**
 * `messages.send`: delivers the outbox's subscription messages (domain/messages/sending.ts), drained in
 * leased batches like the other queues: a LISTEN on `messages_due` starts a run as messages are queued;
 * Agenda runs it at the next retry's due time and every MESSAGE_SEND_EVERY_MS as a safety net.
 */
export function messageSendJob(deps: Deps): JobDefinition {
  const sender = new LeasedDrainer<UserMessageRow>(
    {
      channel: MESSAGES_DUE_CHANNEL,
      jobName: MESSAGE_SEND_JOB,
      batchSize: 50,
      concurrency: 8,
      leaseMs: 60_000,
      claim: (now, leaseUntil, limit) => claimDueMessages(deps.db, { now, leaseUntil, limit }),
      work: (message) => sendMessage(deps, message),
      release: (rows) => releaseMessageLeases(deps.db, rows),
      nextDueAt: () => nextMessageDueAt(deps.db),
    },
    { pool: deps.pool, jobs: deps.jobs, logger: deps.logger, now: () => deps.clock.now() },
  );
  return {
    name: MESSAGE_SEND_JOB,
    every: deps.config.messages.sendEveryMs,
    concurrency: 1,
    lockLifetimeMs: 10 * 60_000,
    async run() {
      await sender.trigger();
    },
    background: sender,
  };
}
