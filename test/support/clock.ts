import type { Clock } from '../../server/src/lib/clock.js';

/** Real time plus an offset a test moves forward: expiry without freezing everything else. */
export class OffsetClock implements Clock {
  private offsetMs = 0;

  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }

  advance(ms: number): void {
    this.offsetMs += ms;
  }
}
