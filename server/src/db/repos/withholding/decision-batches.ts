import type pg from 'pg';
import type { DecisionBatchSettings } from '../../../config.js';
import { CommitBatches } from '../../../lib/commit-batches.js';
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

/**
 * Groups the deduct route's decisions into batches (lib/commit-batches.ts): every approval must be durable
 * before the POS hears it, but one commit (one WAL flush, the bound of this route: README "Performance") can
 * make many durable. Up to `maxSwipes` swipes go in one `decide_deductions` call.
 */
export class DecisionBatches {
  private readonly batches: CommitBatches<DecisionInput, DecisionRow>;

  constructor(pool: pg.Pool, settings: DecisionBatchSettings) {
    this.batches = new CommitBatches(
      { maxItems: settings.maxSwipes, windowMs: settings.windowMs, inFlight: settings.inFlight },
      (inputs) => decideBatch(pool, inputs),
      (error, size) =>
        new DecisionBatchFailed(`a batch of ${size} swipe decisions failed; nothing was written`, {
          cause: error,
        }),
    );
  }

  decide(input: DecisionInput): Promise<DecisionRow> {
    return this.batches.submit(input);
  }
}

async function decideBatch(pool: pg.Pool, inputs: DecisionInput[]): Promise<Array<DecisionRow | Error>> {
  deductionDecisionBatches.observe(inputs.length);
  const rows = await decideSwipes(pool, inputs);
  const bySwipe = new Map(rows.map((row) => [row.swipe, row]));
  return inputs.map((_, i) => {
    const row = bySwipe.get(i + 1);
    if (!row) return new SwipeDecisionFailed(`no answer for swipe ${i + 1} of its batch`);
    if (row.outcome === 'ERROR') return new SwipeDecisionFailed(`swipe decision failed: ${row.error}`);
    return {
      outcome: row.outcome,
      deduction_id: row.deduction_id,
      deduction_no: row.deduction_no,
      decision: row.decision,
      decline_reason: row.decline_reason,
      status: row.status,
      card_no: row.card_no,
    };
  });
}
