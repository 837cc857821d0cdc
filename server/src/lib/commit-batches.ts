/**
 * Group commit: callers that each need their own write durable before they go on (a swipe's decision before
 * the POS hears it, a charge's outcome before its payment counts as done) hand their item here, and the
 * items that arrive together are written by one statement in one transaction: one commit, one WAL flush,
 * one round trip for many.
 *
 * An item is sent as soon as one of `inFlight` slots is free (after `windowMs`, when set), so a lone item
 * waits for nobody; items that arrive while every slot is busy queue, and the next free slot takes up to
 * `maxItems` of them. The batch size follows the load by itself.
 */
export interface CommitBatchSettings {
  /** Most items in one write; 1 writes every item on its own. */
  maxItems: number;
  /** How long the first item of a batch waits for others before it is sent; 0: the same event-loop turn. */
  windowMs: number;
  /** Writes in flight at once (each holds one pooled connection). */
  inFlight: number;
}

/**
 * Writes a batch in one transaction and answers each item, in the order given: its result, or the Error
 * that item alone failed with. Throwing means nothing of the batch was written.
 */
export type BatchWrite<In, Out> = (items: In[]) => Promise<Array<Out | Error>>;

interface Waiting<In, Out> {
  item: In;
  resolve(result: Out): void;
  reject(error: Error): void;
}

export class CommitBatches<In, Out> {
  private readonly queue: Waiting<In, Out>[] = [];
  private inFlight = 0;
  private isSendScheduled = false;

  constructor(
    private readonly settings: CommitBatchSettings,
    private readonly write: BatchWrite<In, Out>,
    /** The error each item of a batch whose write threw is rejected with. */
    private readonly batchFailed: (error: unknown, size: number) => Error = (error) => error as Error,
  ) {}

  submit(item: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.queue.length === 0 || this.inFlight >= this.settings.inFlight) return;
    if (this.queue.length >= this.settings.maxItems) {
      this.send();
      return;
    }
    if (this.isSendScheduled) return;
    this.isSendScheduled = true;
    const fire = () => {
      this.isSendScheduled = false;
      this.send();
    };
    if (this.settings.windowMs > 0) setTimeout(fire, this.settings.windowMs);
    else setImmediate(fire);
  }

  private send(): void {
    if (this.queue.length === 0 || this.inFlight >= this.settings.inFlight) return;
    const batch = this.queue.splice(0, this.settings.maxItems);
    this.inFlight += 1;
    void this.writeBatch(batch).finally(() => {
      this.inFlight -= 1;
      this.schedule();
    });
    // More items than one batch holds, and another slot free.
    this.schedule();
  }

  private async writeBatch(batch: Waiting<In, Out>[]): Promise<void> {
    let results: Array<Out | Error>;
    try {
      results = await this.write(batch.map((waiting) => waiting.item));
    } catch (error) {
      const failed = this.batchFailed(error, batch.length);
      for (const waiting of batch) waiting.reject(failed);
      return;
    }
    batch.forEach((waiting, i) => {
      const result = results[i];
      if (result instanceof Error) waiting.reject(result);
      else waiting.resolve(result);
    });
  }
}

/**
 * One CommitBatches per key (a database pool) over a statement that writes many items at once. When that
 * statement fails for a batch, each item is written again alone, so that one item that cannot be written
 * fails alone and the others of its batch are still written.
 */
export function batchedPerKey<Key extends object, In, Out>(
  settings: CommitBatchSettings,
  writeMany: (key: Key, items: In[]) => Promise<Out[]>,
): (key: Key, item: In) => Promise<Out> {
  const batchesOf = new WeakMap<Key, CommitBatches<In, Out>>();
  const writeAloneOnFailure = async (key: Key, items: In[]): Promise<Array<Out | Error>> => {
    try {
      return await writeMany(key, items);
    } catch (error) {
      if (items.length === 1) return [error as Error];
      const results: Array<Out | Error> = [];
      for (const item of items) {
        results.push(
          await writeMany(key, [item]).then(
            ([written]) => written,
            (e: unknown) => e as Error,
          ),
        );
      }
      return results;
    }
  };
  return (key, item) => {
    let batches = batchesOf.get(key);
    if (!batches) {
      batches = new CommitBatches(settings, (items) => writeAloneOnFailure(key, items));
      batchesOf.set(key, batches);
    }
    return batches.submit(item);
  };
}
