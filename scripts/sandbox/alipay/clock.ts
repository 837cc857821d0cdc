/**
 * The sandbox's own clock: real time plus an offset that the control API can advance, so that trade expiry,
 * auth-code expiry and bill dates can be tested without waiting. Notification retries run on real timers
 * (scaled by notifyTimeScale) and are not moved by this offset.
 */
export class SandboxClock {
  private offsetMs = 0;

  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }

  nowMs(): number {
    return Date.now() + this.offsetMs;
  }

  get offset(): number {
    return this.offsetMs;
  }

  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError('the sandbox clock only moves forward');
    this.offsetMs += ms;
  }

  reset(): void {
    this.offsetMs = 0;
  }
}
