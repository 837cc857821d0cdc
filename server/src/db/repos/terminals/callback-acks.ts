import type pg from 'pg';
import { CommitBatches } from '../../../lib/commit-batches.js';

/**
 * The machines' acknowledgements of paid callbacks (the hot path's last write) that arrive together are
 * recorded together (lib/commit-batches.ts): one statement and one commit for many. A lone one is written at
 * once, when a slot is free; those that arrive while both slots are busy go in the next statement, up to 64,
 * so the batches grow only as the load does.
 */
const SETTINGS = { maxItems: 64, windowMs: 0, inFlight: 2 };

export interface CallbackAck {
  /** The order's id. */
  id: string;
  attempts: number;
  at: Date;
}

const batchesOf = new WeakMap<pg.Pool, CommitBatches<CallbackAck, void>>();

/** The machine acknowledged the order's callback: ACKNOWLEDGED, durable when this resolves. */
export function recordCallbackAcknowledged(pool: pg.Pool, ack: CallbackAck): Promise<void> {
  let batches = batchesOf.get(pool);
  if (!batches) {
    batches = new CommitBatches(SETTINGS, (acks) => writeAcks(pool, acks));
    batchesOf.set(pool, batches);
  }
  return batches.submit(ack);
}

async function writeAcks(pool: pg.Pool, acks: CallbackAck[]): Promise<void[]> {
  // Rows locked in id order, as every batch does: two batches never wait on each other in a circle.
  const sorted = [...acks].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  await pool.query({
    name: 'terminal_callbacks_acknowledged',
    text: ACKNOWLEDGED_SQL,
    values: [sorted.map((a) => a.id), sorted.map((a) => a.attempts), sorted.map((a) => a.at.toISOString())],
  });
  return acks.map(() => undefined);
}

const ACKNOWLEDGED_SQL = `
  update terminal_orders o
     set callback_status = 'ACKNOWLEDGED', callback_attempts = a.attempts, callback_acknowledged_at = a.at,
         callback_next_at = null, callback_last_error = null, updated_at = a.at
    from unnest($1::uuid[], $2::int[], $3::timestamptz[]) as a(id, attempts, at)
   where o.id = a.id`;
