import type pg from 'pg';
import {
  claimDueDeductions,
  nextDueAt,
  releaseLeases,
  type ClaimedDeduction,
} from '../db/repos/deductions.js';
import { findSchool, type SchoolRow } from '../db/repos/schools.js';
import type { Deps } from '../deps.js';
import { collectDeduction } from '../domain/deduction-collection.js';

export const COLLECT_JOB = 'deduction.collect';
export const DEDUCTIONS_DUE_CHANNEL = 'deductions_due';

const SCHOOL_CACHE_MS = 30_000;
const RELISTEN_AFTER_MS = 1_000;

/**
 * One process's collector: drains due deductions in leased batches with bounded concurrency, one run at
 * a time. Runs are started by (a) a LISTEN on `deductions_due` (approvals just happened), (b) the Agenda
 * job `deduction.collect` scheduled at the earliest next_attempt_at, (c) the same job's periodic run as a
 * safety net. A trigger during a run makes the run go round once more instead of starting a second one.
 * Any number of processes may collect side by side: claims use FOR UPDATE SKIP LOCKED and leases.
 */
export class DeductionCollector {
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private listener: pg.PoolClient | null = null;
  private relisten: NodeJS.Timeout | null = null;
  private scheduledAt: number | null = null;
  private readonly schools = new Map<string, { row: SchoolRow; at: number }>();

  constructor(private readonly deps: Deps) {}

  trigger(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.drain();
        } while (this.again && !this.stopped);
        await this.scheduleNext();
      } catch (error) {
        this.deps.logger.warn('collector run failed; the next trigger retries', { error });
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.listen();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.relisten) clearTimeout(this.relisten);
    const listener = this.listener;
    this.listener = null;
    if (listener) {
      await listener.query(`unlisten ${DEDUCTIONS_DUE_CHANNEL}`).catch(() => undefined);
      listener.release();
    }
    await this.running;
  }

  private async listen(): Promise<void> {
    if (this.stopped) return;
    try {
      const client = await this.deps.pool.connect();
      client.on('notification', () => void this.trigger());
      client.on('error', (error) => {
        this.deps.logger.warn('deductions_due listener lost; reconnecting', { error: error.message });
        if (this.listener === client) this.listener = null;
        client.release(error);
        this.relisten = setTimeout(() => void this.listen(), RELISTEN_AFTER_MS);
        this.relisten.unref();
        // Whatever was announced while we were deaf is found by this run.
        void this.trigger();
      });
      await client.query(`listen ${DEDUCTIONS_DUE_CHANNEL}`);
      this.listener = client;
    } catch (error) {
      this.deps.logger.warn('could not listen for deductions_due; relying on scheduled runs', { error });
      this.relisten = setTimeout(() => void this.listen(), RELISTEN_AFTER_MS);
      this.relisten.unref();
    }
  }

  private async school(id: string): Promise<SchoolRow | undefined> {
    const cached = this.schools.get(id);
    if (cached && Date.now() - cached.at < SCHOOL_CACHE_MS) return cached.row;
    const row = await findSchool(this.deps.db, id);
    if (row) this.schools.set(id, { row, at: Date.now() });
    return row;
  }

  private async drain(): Promise<void> {
    const { collectBatch, collectConcurrency, leaseMs } = this.deps.config.deductions;
    const queue: ClaimedDeduction[] = [];
    let exhausted = false;
    let refill: Promise<void> | null = null;
    const take = async (): Promise<ClaimedDeduction | undefined> => {
      while (queue.length === 0 && !exhausted && !this.stopped) {
        refill ??= (async () => {
          const now = this.deps.clock.now();
          const rows = await claimDueDeductions(this.deps.db, {
            now,
            leaseUntil: new Date(now.getTime() + leaseMs),
            limit: collectBatch,
          });
          if (rows.length === 0) exhausted = true;
          queue.push(...rows);
        })().finally(() => (refill = null));
        await refill;
      }
      return this.stopped ? undefined : queue.shift();
    };
    const worker = async (): Promise<void> => {
      for (let deduction = await take(); deduction; deduction = await take()) {
        const school = await this.school(deduction.schoolId);
        if (!school) continue;
        await collectDeduction(this.deps, deduction, { school });
      }
    };
    try {
      await Promise.all(Array.from({ length: collectConcurrency }, worker));
    } finally {
      // Stopping: rows claimed but not started go back at once instead of waiting out their lease.
      if (queue.length > 0)
        await releaseLeases(
          this.deps.db,
          queue.splice(0).map((d) => d.id),
        );
    }
  }

  /** Wakes the job at the next due time; Agenda keeps it across restarts and hands it to any worker. */
  private async scheduleNext(): Promise<void> {
    if (this.stopped) return;
    const due = await nextDueAt(this.deps.db);
    const now = Date.now();
    if (!due || due.getTime() <= now) {
      if (due) this.again = true;
      return;
    }
    if (this.scheduledAt !== null && this.scheduledAt > now && this.scheduledAt <= due.getTime()) return;
    this.scheduledAt = due.getTime();
    await this.deps.jobs.at(due, COLLECT_JOB, {});
  }
}
