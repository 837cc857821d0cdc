/**
 * Every timer the sandbox starts goes through here, so that `close()` can stop all of them at once:
 * notification retries, delayed 10003 outcomes, injected latency and hangs.
 */
export class TimerRegistry {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly sleepers = new Set<() => void>();
  private closed = false;

  get isClosed(): boolean {
    return this.closed;
  }

  after(ms: number, task: () => void): void {
    if (this.closed) return;
    const timer = setTimeout(
      () => {
        this.timers.delete(timer);
        task();
      },
      Math.max(0, ms),
    );
    this.timers.add(timer);
  }

  /** Resolves after `ms`, or early (with false) when the sandbox closes. */
  sleep(ms: number): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    return new Promise((resolve) => {
      const wake = (completed: boolean) => {
        clearTimeout(timer);
        this.timers.delete(timer);
        this.sleepers.delete(cancel);
        resolve(completed);
      };
      const cancel = () => wake(false);
      const timer = setTimeout(() => wake(true), Math.max(0, ms));
      this.timers.add(timer);
      this.sleepers.add(cancel);
    });
  }

  /** Drops pending work without closing (control reset). */
  clearPending(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const cancel of [...this.sleepers]) cancel();
  }

  close(): void {
    this.closed = true;
    this.clearPending();
  }
}
