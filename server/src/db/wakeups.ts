import type pg from 'pg';

/** At most one wake-up per channel per this many ms per process. */
const WAKEUP_EVERY_MS = 20;

const pending = new WeakMap<pg.Pool, Map<string, { timer: NodeJS.Timeout | null; lastAt: number }>>();

/**
 * Tells the drainers LISTENing on `channel` (jobs/leased-drainer.ts) that rows are waiting. Sent after the
 * writer's commit, not inside its transaction, on purpose: a NOTIFY inside a transaction takes
 * PostgreSQL's global notify-queue lock until the commit has been flushed to disk, which serialises every
 * such commit behind every other (measured: it capped payments near 300/s). Debounced per process: one
 * wake-up per 20 ms costs a drainer at most 20 ms. A lost wake-up only delays the work until the
 * drainer's next scheduled or periodic run.
 */
export function wakeDrainers(pool: pg.Pool, channel: string): void {
  let channels = pending.get(pool);
  if (!channels) pending.set(pool, (channels = new Map()));
  let state = channels.get(channel);
  if (!state) channels.set(channel, (state = { timer: null, lastAt: 0 }));
  if (state.timer) return;
  const wait = Math.max(0, state.lastAt + WAKEUP_EVERY_MS - Date.now());
  const current = state;
  current.timer = setTimeout(() => {
    current.timer = null;
    current.lastAt = Date.now();
    pool.query('select pg_notify($1, $2)', [channel, '']).catch(() => undefined);
  }, wait);
  current.timer.unref();
}

/** Tells every process LISTENing on `channel` about one row (`id` as the payload), after the writer's commit. */
export async function announceRow(pool: pg.Pool, channel: string, id: string): Promise<void> {
  await pool.query('select pg_notify($1, $2)', [channel, id]);
}
