import type pg from 'pg';
import { CommitBatches } from '../../../lib/commit-batches.js';
import { markCreditedMany, type CreditToRecord, type RecordedCredit } from './recharges.js';

/**
 * The credits whose vendor calls end together are recorded together (lib/commit-batches.ts): one statement,
 * one commit for many, instead of one each. A credit is written at once when a slot is free, so a lone one
 * waits for nobody; the ones that end while both slots are busy go in the next statement, up to 64.
 */
const SETTINGS = { maxItems: 64, windowMs: 0, inFlight: 2 };

const batchesOf = new WeakMap<pg.Pool, CommitBatches<CreditToRecord, RecordedCredit>>();

/**
 * PAID → CREDITED, with the card's points and the payer's message (repos/recharge markCreditedMany), in a
 * statement shared with the other credits of this moment.
 */
export function markCredited(pool: pg.Pool, credit: CreditToRecord): Promise<RecordedCredit> {
  let batches = batchesOf.get(pool);
  if (!batches) {
    batches = new CommitBatches(SETTINGS, (credits) => recordCredits(pool, credits));
    batchesOf.set(pool, batches);
  }
  return batches.submit(credit);
}

/** A batch that fails is written again credit by credit, so that one credit that cannot be written fails alone. */
async function recordCredits(
  pool: pg.Pool,
  credits: CreditToRecord[],
): Promise<Array<RecordedCredit | Error>> {
  try {
    return await markCreditedMany(pool, credits);
  } catch (error) {
    if (credits.length === 1) return [error as Error];
    const results: Array<RecordedCredit | Error> = [];
    for (const credit of credits) {
      results.push(
        await markCreditedMany(pool, [credit]).then(
          ([recorded]) => recorded,
          (e: unknown) => e as Error,
        ),
      );
    }
    return results;
  }
}
