/**
 * How the rest of the code asks for background work. Jobs are wake-ups, not the source of truth: the
 * state they act on lives in our tables, so a job that is lost (a crash between commit and enqueue) is
 * found again by the sweep jobs.
 */
export interface JobQueue {
  now(name: string, data?: Record<string, unknown>): Promise<void>;
  at(when: Date, name: string, data?: Record<string, unknown>): Promise<void>;
}
