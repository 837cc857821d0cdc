import type pg from 'pg';
import { batchedPerKey } from '../../../lib/commit-batches.js';
import { markCreditedMany, type CreditToRecord, type RecordedCredit } from './recharges.js';

/**
 * The credits whose vendor calls end together are recorded together (lib/commit-batches.ts): one statement,
 * one commit for many, instead of one each. A credit is written at once when a slot is free, so a lone one
 * waits for nobody; the ones that end while both slots are busy go in the next statement, up to 64. A
 * statement that fails is written again credit by credit, so that a credit that cannot be written fails
 * alone.
 */
const SETTINGS = { maxItems: 64, windowMs: 0, inFlight: 2 };

/**
 * PAID → CREDITED, with the card's points and the payer's message (repos/recharge markCreditedMany), in a
 * statement shared with the other credits of this moment.
 */
export const markCredited: (pool: pg.Pool, credit: CreditToRecord) => Promise<RecordedCredit> = batchedPerKey(
  SETTINGS,
  markCreditedMany,
);
