/**
 * Alipay's notification schedule (ALIPAY.md §3.4): the first attempt, then 4m, 10m, 10m, 1h, 2h, 6h, 15h
 * later — t0, +4m, +14m, +24m, +1h24m, +3h24m, +9h24m, +24h24m — eight attempts in about 25 hours.
 */
export const RETRY_OFFSETS_MINUTES: readonly number[] = [0, 4, 14, 24, 84, 204, 564, 1464];

/** Offset of attempt `index` (0-based) from the first attempt, in real ms, on a clock `timeScale` times faster. */
export function attemptOffsetMs(index: number, timeScale: number): number {
  return (RETRY_OFFSETS_MINUTES[index] * 60_000) / timeScale;
}
