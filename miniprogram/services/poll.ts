/**
 * Asks the server again and again until an answer is final or a deadline passes. Used after a payment or a
 * signature, when Alipay's notification reaches the server a moment after the client's callback.
 */
export interface PollOptions {
  intervalMs: number;
  timeoutMs: number;
  /** Checked before every attempt: a page that was closed stops polling. */
  isStopped?: () => boolean;
}

export interface PollResult<T> {
  /** The last answer, null if none arrived. */
  value: T | null;
  done: boolean;
  stopped: boolean;
  /** The last failure, when the last attempt failed. */
  error: unknown;
}

function wait(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function pollUntil<T>(
  load: () => Promise<T>,
  isDone: (value: T) => boolean,
  options: PollOptions,
  onValue: (value: T) => void = () => undefined,
): Promise<PollResult<T>> {
  const deadline = Date.now() + options.timeoutMs;
  let value: T | null = null;
  let error: unknown = null;
  for (;;) {
    if (options.isStopped?.()) return { value, done: false, stopped: true, error };
    try {
      value = await load();
      error = null;
      onValue(value);
      if (isDone(value)) return { value, done: true, stopped: false, error };
    } catch (failure) {
      // A dropped request is not the end: the next attempt may get through before the deadline.
      error = failure;
    }
    if (Date.now() + options.intervalMs > deadline) return { value, done: false, stopped: false, error };
    await wait(options.intervalMs);
  }
}
