import { insertOutsideCalls, type NewOutsideCall } from '../../db/repos/orders/outside-calls.js';
import type { Database } from '../../db/client.js';
import type { OutsideCall } from '../../integrations/outside-calls.js';
import type { Logger } from '../../lib/logger.js';

/** Our order number behind a call's reference: a re-numbered charge `D…_2` belongs to deduction `D…`. */
export function orderNoOf(reference: string): string {
  return reference.replace(/_\d+$/, '');
}

/**
 * Keeps every Alipay and card-system call made for an order (the integrations' observers, wired in
 * server.ts) in `outside_calls`, for the admins' order timeline. The hot paths (the collector, crediting)
 * must not wait for it: calls are buffered in memory and written in one statement per batch, at most
 * `flushAfterMs` after the call (or as soon as `batchSize` are waiting). A process that dies loses at most
 * that last moment of diagnostics, never money: every order's state lives in its own row.
 */
export class CallRecorder {
  private buffer: NewOutsideCall[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
    private readonly options: { flushAfterMs: number; batchSize: number } = {
      flushAfterMs: 200,
      batchSize: 500,
    },
  ) {}

  /** The observer to hand to the integrations. */
  readonly record = (call: OutsideCall): void => {
    if (this.stopped) return;
    this.buffer.push({
      orderNo: orderNoOf(call.reference),
      system: call.system,
      operation: call.operation,
      outcome: call.outcome,
      code: call.code?.slice(0, 64) ?? null,
      subCode: call.subCode?.slice(0, 128) ?? null,
      durationMs: call.durationMs,
      reference: call.reference,
      startedAt: call.startedAt,
    });
    if (this.buffer.length >= this.options.batchSize) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.options.flushAfterMs).unref();
  };

  /** Writes what is buffered; resolves when it (and any write before it) is in the database. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.buffer;
    this.buffer = [];
    if (batch.length > 0) {
      this.writing = this.writing.then(() =>
        insertOutsideCalls(this.db, batch).catch((error: unknown) => {
          this.logger.warn('could not record outside calls for the order timeline', {
            calls: batch.length,
            error: (error as Error).message,
          });
        }),
      );
    }
    return this.writing;
  }

  /** At shutdown, before the pool closes. */
  async stop(): Promise<void> {
    await this.flush();
    this.stopped = true;
  }
}
