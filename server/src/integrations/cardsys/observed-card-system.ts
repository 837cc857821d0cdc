import type { OutsideCallObserver } from '../outside-calls.js';
import type { CardSystem } from './card-system.js';
import { CardSystemError } from './card-system-error.js';

/** The reference of a card-system call that belongs to one of our orders: a recharge's flow number. */
function referenceOf(input: unknown): string | null {
  if (typeof input !== 'object' || input === null) return null;
  const flowNo = (input as { flowNo?: unknown }).flowNo;
  return typeof flowNo === 'string' ? flowNo : null;
}

/**
 * A CardSystem that reports each call made for an order (Recharge and the lookup of a credit, by flow
 * number) to `observe`, with its outcome and duration. Calls without an order (holder, balance, bind) go
 * straight through. Wraps any vendor's implementation, whatever methods the interface grows.
 */
export function observeCardSystem(system: CardSystem, observe: OutsideCallObserver): CardSystem {
  return new Proxy(system, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        const reference = referenceOf(args[0]);
        if (!reference) return (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        const startedAt = new Date();
        const started = performance.now();
        const report = (outcome: 'OK' | 'UNKNOWN' | 'RETRYABLE' | 'FINAL', error?: CardSystemError) => {
          try {
            observe({
              system: 'CARDSYS',
              operation: String(property),
              reference,
              outcome,
              code: error ? (error.vendorCode ?? error.code) : null,
              subCode: error ? error.reason : null,
              startedAt,
              durationMs: Math.round(performance.now() - started),
            });
          } catch {
            // Observing never breaks the call.
          }
        };
        try {
          const result: unknown = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          report('OK');
          return result;
        } catch (error) {
          if (error instanceof CardSystemError)
            report(error.classification.toUpperCase() as 'UNKNOWN' | 'RETRYABLE' | 'FINAL', error);
          else report('UNKNOWN');
          throw error;
        }
      };
    },
  });
}
