import type pg from 'pg';
import { batchedPerKey } from '../../../lib/commit-batches.js';
import { markPaidNotifiedMany, type NotifiedPayment } from './recharges.js';

/**
 * The payment notifications that arrive together are recorded together (lib/commit-batches.ts), as the
 * credits are (credit-batches.ts): one statement, one commit for many. Each notification is still answered
 * only once its own change and notify_log row are committed; a lone one waits for nobody; a statement that
 * fails is written again notification by notification, so that one that cannot be written fails alone.
 */
const SETTINGS = { maxItems: 64, windowMs: 0, inFlight: 2 };

/**
 * CREATED/CLOSED → PAID with the notification's notify_log entry (repos/recharge markPaidNotifiedMany), in a
 * statement shared with the other notifications of this moment. Resolves to the order's id when this
 * notification moved it, undefined when it was paid already.
 */
export const markPaidNotified: (pool: pg.Pool, payment: NotifiedPayment) => Promise<string | undefined> =
  batchedPerKey(SETTINGS, markPaidNotifiedMany);
