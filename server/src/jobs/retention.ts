import type { Deps } from '../deps.js';
import type { JobDefinition } from './runner.js';

const DAY_MS = 86_400_000;
/** Rows deleted per statement, so that a large backlog never holds one long transaction. */
const BATCH = 5_000;
/**
 * Time per rule per run; what is left waits for the next run. A time budget rather than a number of
 * batches: a fixed 20 batches per 10 minutes deleted at most 167 rows/s, below the average nonce rate of
 * the platform's 200 schools (DESIGN §9.1, ~185 swipes/s over a day), so gateway_nonces would have grown
 * for ever. A batch of 5,000 takes tens of milliseconds, so a minute covers any realistic backlog.
 */
const RULE_BUDGET_MS = 60_000;

/**
 * What is kept, and for how long, of the tables that grow without being money records. Each rule is one
 * `delete … where <ctid in the oldest BATCH rows past the cut-off>`; `$1` is the cut-off. Orders,
 * deductions, their attempts, refunds and the audit trail are never deleted here. A table that grows
 * (a new log, a new nonce table) gets its rule in this list.
 */
export function retentionRules(
  deps: Pick<Deps, 'config'>,
): Array<{ table: string; cutoff(now: Date): unknown; sql: string }> {
  const days = (n: number) => (now: Date) => new Date(now.getTime() - n * DAY_MS);
  const { retention } = deps.config;
  return [
    {
      table: 'notify_log (verified)',
      cutoff: days(retention.notifyLogDays),
      sql: `delete from notify_log where id in
              (select id from notify_log where is_verified and received_at < $1 order by received_at limit ${BATCH})`,
    },
    {
      table: 'notify_log (unverified)',
      cutoff: days(retention.unverifiedNotifyLogDays),
      sql: `delete from notify_log where id in
              (select id from notify_log where not is_verified and received_at < $1 order by received_at limit ${BATCH})`,
    },
    {
      // The order timelines' record of our calls to Alipay and card systems (issue 13): kept as long as
      // the notifications they answer. Order rows and their status changes stay.
      table: 'outside_calls',
      cutoff: days(retention.notifyLogDays),
      sql: `delete from outside_calls where id in
              (select id from outside_calls where started_at < $1 order by started_at limit ${BATCH})`,
    },
    {
      // The subscription messages' outbox (issue 12): a finished message (SENT, SKIPPED, FAILED, UNCONFIRMED)
      // is kept as long as the notifications, then the user's message list no longer shows it; a PENDING one
      // is still the sender's work and stays. Its dedup_key goes with it: the events it names (a credit, a
      // declined swipe) do not happen again half a year later.
      table: 'user_messages',
      cutoff: days(retention.notifyLogDays),
      sql: `delete from user_messages where id in
              (select id from user_messages where status <> 'PENDING' and created_at < $1 order by created_at limit ${BATCH})`,
    },
    {
      // Nonces only need remembering for the gateway's timestamp window (DESIGN §6.2).
      table: 'gateway_nonces',
      cutoff: (now) => now,
      sql: `delete from gateway_nonces where ctid in
              (select ctid from gateway_nonces where expires_at < $1 limit ${BATCH})`,
    },
    {
      // Membership-card dynamic codes: kept a while after they expire (a late POS repeat still finds them).
      table: 'membership_codes',
      cutoff: (now) => new Date(now.getTime() - deps.config.membercard.codeRetentionMs),
      sql: `delete from membership_codes where code_hash in
              (select code_hash from membership_codes where expires_at < $1 limit ${BATCH})`,
    },
    {
      // rate-limiter-flexible's counters, in epoch ms; an hour's grace as the library itself keeps.
      table: 'rate_limits',
      cutoff: (now) => now.getTime() - 3_600_000,
      sql: `delete from rate_limits where key in (select key from rate_limits where expire < $1 limit ${BATCH})`,
    },
    {
      // One-off jobs that finished or gave up (completed ones are removed at once, removeOnComplete);
      // recurring jobs (repeat_interval) are their own definitions and stay.
      table: 'agenda_jobs (history)',
      cutoff: days(retention.jobHistoryDays),
      sql: `delete from agenda_jobs where id in
              (select id from agenda_jobs where repeat_interval is null and next_run_at is null
                 and coalesce(last_finished_at, failed_at, updated_at) < $1 limit ${BATCH})`,
    },
  ];
}

/** `retention`: every 10 minutes, deletes what the rules above no longer keep. */
export function retentionJob(deps: Pick<Deps, 'config'>): JobDefinition {
  const rules = retentionRules(deps);
  return {
    name: 'retention',
    every: '10 minutes',
    concurrency: 1,
    async run(_data, deps) {
      const now = deps.clock.now();
      for (const rule of rules) {
        let removed = 0;
        const until = Date.now() + RULE_BUDGET_MS;
        do {
          const { rowCount } = await deps.pool.query(rule.sql, [rule.cutoff(now)]);
          removed += rowCount ?? 0;
          if ((rowCount ?? 0) < BATCH) break;
        } while (Date.now() < until);
        if (removed > 0) deps.logger.info('retention removed old rows', { table: rule.table, removed });
      }
    },
  };
}
