import type pg from 'pg';
import { batchedPerKey } from '../../../lib/commit-batches.js';
import {
  findRechargesWithSchool,
  markPaidNotifiedMany,
  type NotifiedPayment,
  type RechargeToNotify,
} from './recharges.js';

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

/**
 * The order a notification names, with its school's facts (repos/recharge findRechargesWithSchool), read in
 * one statement with the other notifications of this moment: the same grouping as the writes, for the one
 * statement each notification made alone before them. A read: it decides nothing by itself (the write's
 * `status in ('CREATED', 'CLOSED')` does), so reading with others changes nothing but the round trips.
 */
export const findRechargeToNotify: (
  pool: pg.Pool,
  outTradeNo: string,
) => Promise<RechargeToNotify | undefined> = batchedPerKey(SETTINGS, findRechargesWithSchool);
