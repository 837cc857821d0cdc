import type pg from 'pg';
import { CommitBatches } from '../../../lib/commit-batches.js';

/**
 * The two writes of a terminal order's hot path that stand alone — the precreate's QR stored on the order,
 * the machine's acknowledgement of the paid callback — are grouped with the same writes of other orders that
 * arrive together (lib/commit-batches.ts): one statement and one commit for many. A lone one is written at
 * once, when a slot is free; those that arrive while both slots are busy go in the next statement, up to 64,
 * so batches grow only as the load does. Each caller still waits until its own write is durable. Neither
 * update can fail for one row alone (no constraint they could break), so a batch that fails fails whole.
 */
const SETTINGS = { maxItems: 64, windowMs: 0, inFlight: 2 };

/** One CommitBatches per pool and kind of write. */
function batcher<In, Out>(write: (pool: pg.Pool, items: In[]) => Promise<Out[]>) {
  const batchesOf = new WeakMap<pg.Pool, CommitBatches<In, Out>>();
  return (pool: pg.Pool, item: In): Promise<Out> => {
    let batches = batchesOf.get(pool);
    if (!batches) {
      batches = new CommitBatches(SETTINGS, (items) => write(pool, items));
      batchesOf.set(pool, batches);
    }
    return batches.submit(item);
  };
}

/**
 * Items in id order: on a table of any size the statement walks the array through the primary key, so two
 * batches that share rows (a repeat) take them in the same order. Were they ever to deadlock, the batch
 * fails as any failed write does: the machine's repeat stores the QR, the callback is sent again.
 */
function byId<T extends { id: string }>(items: T[]): T[] {
  return [...items].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

export interface StoredQr {
  /** The order's id. */
  id: string;
  qrCode: string;
  at: Date;
}

/** Stores the order's precreate QR unless it has one already; true when this one was stored. */
export const storeQrCodeIfNone = batcher(async (pool: pg.Pool, qrs: StoredQr[]): Promise<boolean[]> => {
  const sorted = byId(qrs);
  const { rows } = await pool.query<{ id: string }>({
    name: 'terminal_orders_store_qr',
    text: `
      update terminal_orders o set qr_code = q.qr_code, updated_at = q.at
        from unnest($1::uuid[], $2::text[], $3::timestamptz[]) as q(id, qr_code, at)
       where o.id = q.id and o.qr_code is null
      returning o.id`,
    values: [sorted.map((q) => q.id), sorted.map((q) => q.qrCode), sorted.map((q) => q.at.toISOString())],
  });
  const stored = new Set(rows.map((row) => row.id));
  return qrs.map((q) => stored.has(q.id));
});

export interface CallbackAck {
  /** The order's id. */
  id: string;
  attempts: number;
  at: Date;
}

/** The machine acknowledged the order's callback: ACKNOWLEDGED, durable when this resolves. */
export const recordCallbackAcknowledged = batcher(
  async (pool: pg.Pool, acks: CallbackAck[]): Promise<void[]> => {
    const sorted = byId(acks);
    await pool.query({
      name: 'terminal_callbacks_acknowledged',
      text: `
        update terminal_orders o
           set callback_status = 'ACKNOWLEDGED', callback_attempts = a.attempts, callback_acknowledged_at = a.at,
               callback_next_at = null, callback_last_error = null, updated_at = a.at
          from unnest($1::uuid[], $2::int[], $3::timestamptz[]) as a(id, attempts, at)
         where o.id = a.id`,
      values: [sorted.map((a) => a.id), sorted.map((a) => a.attempts), sorted.map((a) => a.at.toISOString())],
    });
    return acks.map(() => undefined);
  },
);
