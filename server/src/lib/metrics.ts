import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The process's Prometheus registry (prom-client), served at `/metrics` (routes/metrics.ts). One place for
 * every metric's name, help and labels, so that dashboards and alerts (README "Operations") have one list
 * to read. To add a metric: declare it here with `registers: [registry]`, and `inc()`/`observe()` it where
 * the event happens (counters, histograms), or give it a query in db/repos/metrics/platform-state.ts and
 * set it in routes/metrics.ts (state read from the database at scrape time: the same in every process).
 * Label values must come from small closed sets (method names, states, outcomes), never ids.
 */
export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'campus_' });

const SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export const httpRequests = new Histogram({
  name: 'campus_http_request_seconds',
  help: 'HTTP requests by route pattern, method and status class',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: SECONDS_BUCKETS,
  registers: [registry],
});

export const alipayCalls = new Histogram({
  name: 'campus_alipay_call_seconds',
  help: 'Calls to Alipay by method and outcome (ok, or the failure class: unknown, pending, retryable, final)',
  labelNames: ['method', 'outcome'] as const,
  buckets: SECONDS_BUCKETS,
  registers: [registry],
});

export const cardSystemCalls = new Histogram({
  name: 'campus_cardsys_call_seconds',
  help: 'Calls to card systems by operation and outcome (ok, or the failure class: unknown, retryable, final)',
  labelNames: ['operation', 'outcome'] as const,
  buckets: SECONDS_BUCKETS,
  registers: [registry],
});

export const deductionDecisions = new Counter({
  name: 'campus_deduction_decisions_total',
  help: 'Swipe decisions by decision and decline reason (first answers only, not repeats)',
  labelNames: ['decision', 'reason'] as const,
  registers: [registry],
});

export const deductionDecisionBatches = new Histogram({
  name: 'campus_deduction_decision_batch_swipes',
  help: 'Swipes decided per transaction by the deduct route (DEDUCT_BATCH_*): how much one WAL flush carries',
  buckets: [1, 2, 4, 8, 16, 32, 64],
  registers: [registry],
});

export const notifications = new Counter({
  name: 'campus_alipay_notifications_total',
  help: 'Alipay notifications by whether the signature verified and what was done with them',
  labelNames: ['verified', 'outcome'] as const,
  registers: [registry],
});

export const rateLimitRejections = new Counter({
  name: 'campus_rate_limited_total',
  help: 'Requests refused with 429, by limit (http/rate-limits.ts)',
  labelNames: ['limit'] as const,
  registers: [registry],
});

// ---- state read from the database at scrape time (routes/metrics.ts) --------------------------------

export const rechargeOrders = new Gauge({
  name: 'campus_recharge_orders',
  help: 'Recharge orders that still need something (CREATED, PAID) or someone (CREDIT_FAILED), by status',
  labelNames: ['status'] as const,
  registers: [registry],
});

export const deductions = new Gauge({
  name: 'campus_deductions',
  help: 'Approved deductions not yet settled (PENDING, RETRYING, ARREARS), and those whose charge is unknown',
  labelNames: ['status'] as const,
  registers: [registry],
});

export const drainerBacklog = new Gauge({
  name: 'campus_drainer_backlog',
  help: 'Rows due now and not yet done, per drainer (recharge.credit, deduction.collect)',
  labelNames: ['drainer'] as const,
  registers: [registry],
});

export const drainerOldestDueSeconds = new Gauge({
  name: 'campus_drainer_oldest_due_seconds',
  help: 'How long the oldest due row has waited, per drainer (0 when none)',
  labelNames: ['drainer'] as const,
  registers: [registry],
});

export const jobsDue = new Gauge({
  name: 'campus_jobs_due',
  help: 'Agenda jobs whose run time has passed and that no worker has locked, by job name',
  labelNames: ['job'] as const,
  registers: [registry],
});

export const oldestJobDueSeconds = new Gauge({
  name: 'campus_jobs_oldest_due_seconds',
  help: 'How long the oldest unlocked due Agenda job has waited, by job name',
  labelNames: ['job'] as const,
  registers: [registry],
});

export const pendingRefunds = new Gauge({
  name: 'campus_refunds_pending',
  help: 'Refunds asked for and not yet confirmed by Alipay (PENDING) or given up (FAILED), by status',
  labelNames: ['status'] as const,
  registers: [registry],
});

/** The outcome label of a failed outside call: its classification, or `error` for anything else. */
export function outcomeOf(error: unknown): string {
  const classified = error as { kind?: unknown; classification?: unknown };
  const value = classified?.kind ?? classified?.classification;
  return typeof value === 'string' ? value : 'error';
}
