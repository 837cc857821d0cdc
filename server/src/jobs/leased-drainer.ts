import type pg from 'pg';
import type { Logger } from '../lib/logger.js';
import { ChannelListener } from './channel-listener.js';
import type { JobQueue } from './queue.js';

/**
 * Work that piles up in a table and is done row by row against an outside system (crediting paid
 * recharges at the card system, collecting approved deductions at Alipay). One run claims due rows in
 * leased batches (FOR UPDATE SKIP LOCKED, so any number of processes can drain side by side and a process
 * that dies gives its rows back when the lease runs out) and works on them with bounded concurrency.
 *
 * Runs start three ways: a LISTEN on the source's channel (the writer announces new rows right after it
 * commits them, db/wakeups.ts, so work starts within milliseconds), the Agenda job scheduled at the earliest future due
 * time (retries), and that job's periodic run (a safety net). A trigger during a run makes the run go
 * round once more instead of starting a second one. Per-row Agenda jobs would cost several queries and a
 * notification each; a drain costs one claim per batch.
 */
export interface DrainSource<Row extends { id: string }> {
  /** NOTIFY channel the writer signals on. */
  channel: string;
  /** The Agenda job that runs this drainer on schedule. */
  jobName: string;
  batchSize: number;
  concurrency: number;
  leaseMs: number;
  /** Leases up to `limit` due rows until `leaseUntil`. */
  claim(now: Date, leaseUntil: Date, limit: number): Promise<Row[]>;
  /** Works on one claimed row; must settle the row (done, or due again later) before resolving. */
  work(row: Row): Promise<void>;
  /** Gives back rows claimed but not started (on shutdown), each only if its lease is still this drainer's. */
  release(rows: Row[]): Promise<void>;
  /** The earliest time a row will be due, to schedule the next run. */
  nextDueAt(): Promise<Date | null>;
}

/**
 * The Agenda lock of a drainer's job. A run whose end could not be recorded (the database died under it) keeps
 * the job locked this long; a run that outlasts it may overlap one in another process, which is safe (rows
 * are leased), so a short lock costs nothing and a long one only delays recovery.
 */
export const DRAINER_JOB_LOCK_MS = 60_000;

const MIN_RESCHEDULE_MS = 250;

export class LeasedDrainer<Row extends { id: string }> {
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private scheduledAt: number | null = null;
  private readonly listener: ChannelListener;

  constructor(
    private readonly source: DrainSource<Row>,
    private readonly env: { pool: pg.Pool; jobs: JobQueue; logger: Logger; now: () => Date },
  ) {
    this.listener = new ChannelListener(source.channel, () => void this.trigger(), env);
  }

  /** Starts a run, or asks the current one to go round again. */
  trigger(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        // A trigger that arrives while the next run is being scheduled must not be lost: go round again.
        do {
          this.again = false;
          await this.drain();
          if (!this.again) await this.scheduleNext();
        } while (this.again && !this.stopped);
      } catch (error) {
        this.env.logger.warn('drain run failed; the next trigger retries', {
          job: this.source.jobName,
          error,
        });
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.listener.start();
    // Rows that came due while no process was listening (all workers down, or one that died holding a
    // lease) are found now, not at the next scheduled run.
    void this.trigger();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.listener.stop();
    await this.running;
  }

  private async drain(): Promise<void> {
    const { batchSize, concurrency, leaseMs } = this.source;
    // The next batch is claimed while the workers still have rows (below the low-water mark), so that no
    // worker waits for a claim: claiming only once the queue ran dry left every worker idle for a round trip
    // each batch.
    const lowWater = Math.min(concurrency, Math.ceil(batchSize / 2));
    const queue: Row[] = [];
    // The run ends when a claim made with the queue empty finds nothing; one made ahead of time that finds
    // nothing only stops claiming ahead (rows may come due meanwhile: retries due at once).
    let exhausted = false;
    let isDry = false;
    let refill: Promise<void> | null = null;
    const claimMore = (): Promise<void> =>
      (refill ??= (async () => {
        const now = this.env.now();
        const rows = await this.source.claim(now, new Date(now.getTime() + leaseMs), batchSize);
        isDry = rows.length === 0;
        if (isDry && queue.length === 0) exhausted = true;
        queue.push(...rows);
      })().finally(() => (refill = null)));
    const take = async (): Promise<Row | undefined> => {
      while (queue.length === 0 && !exhausted && !this.stopped) await claimMore();
      if (this.stopped) return undefined;
      const row = queue.shift();
      if (row && queue.length < lowWater && !isDry && !exhausted)
        // A failed claim ahead of time is tried again by the worker that finds the queue empty.
        claimMore().catch(() => undefined);
      return row;
    };
    const worker = async (): Promise<void> => {
      for (let row = await take(); row; row = await take()) {
        try {
          await this.source.work(row);
        } catch (error) {
          // The row keeps its lease and comes due again when it runs out.
          this.env.logger.warn('drain work failed', { job: this.source.jobName, id: row.id, error });
        }
      }
    };
    try {
      await Promise.all(Array.from({ length: concurrency }, worker));
    } finally {
      // A claim made ahead of time may still be on its way (a stop): its rows are given back too.
      await (refill as Promise<void> | null)?.catch(() => undefined);
      if (queue.length > 0) await this.source.release(queue.splice(0));
    }
  }

  /**
   * Wakes the job at the next due time; Agenda keeps it across restarts and hands it to any worker. Rows
   * already due but not claimable (another process holds them) are looked at again a moment later rather
   * than in a busy loop. Due times are on the domain clock; Agenda runs on the wall clock.
   */
  private async scheduleNext(): Promise<void> {
    if (this.stopped) return;
    const due = await this.source.nextDueAt();
    if (!due) return;
    const delay = Math.max(MIN_RESCHEDULE_MS, due.getTime() - this.env.now().getTime());
    const at = Date.now() + delay;
    if (this.scheduledAt !== null && this.scheduledAt > Date.now() && this.scheduledAt <= at) return;
    this.scheduledAt = at;
    await this.env.jobs.at(new Date(at), this.source.jobName, {});
  }
}
