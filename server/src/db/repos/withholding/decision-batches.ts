import type pg from 'pg';
import type { DecisionBatchSettings } from '../../../config.js';
import { deductionDecisionBatches } from '../../../lib/metrics.js';
import { decideSwipes, type DecisionInput, type DecisionRow } from './deductions.js';

/**
 * The transaction of a batch failed (its commit, the connection, a lock wait cut short): nothing of any of
 * its swipes was written, so each may be asked again as it was.
 */
export class DecisionBatchFailed extends Error {
  override name = 'DecisionBatchFailed';
}

/** One swipe's rules failed inside its batch (the others were decided); like any failed query before batching. */
export class SwipeDecisionFailed extends Error {
  override name = 'SwipeDecisionFailed';
}

interface Waiting {
  input: DecisionInput;
  resolve(row: DecisionRow): void;
  reject(error: Error): void;
}

/**
 * Groups the deduct route's decisions into batches: every approval must be durable before the POS hears it,
 * but one commit (one WAL flush, the bound of this route: README "Performance") can make many durable.
 *
 * A swipe is sent as soon as one of `inFlight` batch slots is free (after `windowMs`, when set), so a lone
 * swipe waits for nobody; swipes that arrive while every slot is busy queue, and the next free slot takes
 * up to `maxSwipes` of them in one `decide_deductions` call. The batch size follows the load by itself.
 */
export class DecisionBatches {
  private readonly queue: Waiting[] = [];
  private inFlight = 0;
  private isSendScheduled = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly pool: pg.Pool,
    private readonly settings: DecisionBatchSettings,
  ) {}

  decide(input: DecisionInput): Promise<DecisionRow> {
    return new Promise<DecisionRow>((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.queue.length === 0 || this.inFlight >= this.settings.inFlight) return;
    if (this.queue.length >= this.settings.maxSwipes) {
      this.send();
      return;
    }
    if (this.isSendScheduled) return;
    this.isSendScheduled = true;
    // Without a window, the swipes that arrived in the same turn of the event loop still go together.
    const fire = () => {
      this.isSendScheduled = false;
      this.timer = undefined;
      this.send();
    };
    if (this.settings.windowMs > 0) this.timer = setTimeout(fire, this.settings.windowMs);
    else setImmediate(fire);
  }

  private send(): void {
    if (this.queue.length === 0 || this.inFlight >= this.settings.inFlight) return;
    const batch = this.queue.splice(0, this.settings.maxSwipes);
    this.inFlight += 1;
    void this.decideBatch(batch).finally(() => {
      this.inFlight -= 1;
      this.schedule();
    });
    // More swipes than one batch holds, and another slot free.
    this.schedule();
  }

  private async decideBatch(batch: Waiting[]): Promise<void> {
    deductionDecisionBatches.observe(batch.length);
    let rows;
    try {
      rows = await decideSwipes(
        this.pool,
        batch.map((waiting) => waiting.input),
      );
    } catch (error) {
      const failed = new DecisionBatchFailed(
        `a batch of ${batch.length} swipe decisions failed; nothing was written`,
        { cause: error },
      );
      for (const waiting of batch) waiting.reject(failed);
      return;
    }
    const bySwipe = new Map(rows.map((row) => [row.swipe, row]));
    batch.forEach((waiting, i) => {
      const row = bySwipe.get(i + 1);
      if (!row) waiting.reject(new SwipeDecisionFailed(`no answer for swipe ${i + 1} of its batch`));
      else if (row.outcome === 'ERROR')
        waiting.reject(new SwipeDecisionFailed(`swipe decision failed: ${row.error}`));
      else
        waiting.resolve({
          outcome: row.outcome,
          deduction_id: row.deduction_id,
          deduction_no: row.deduction_no,
          decision: row.decision,
          decline_reason: row.decline_reason,
          status: row.status,
          card_no: row.card_no,
        });
    });
  }
}
