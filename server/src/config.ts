import fs from 'node:fs';
import path from 'node:path';
import Joi from 'joi';

/**
 * Every setting comes from the environment (or `<NAME>_FILE` for keys and secrets), is validated with joi
 * when the process starts, and a bad value stops the process with one message that lists every problem.
 * Defaults make `npm start` work with no environment at all; `scripts/dev.ts` fills the Alipay settings
 * from the local sandbox.
 */

export type ProcessRole = 'api' | 'worker' | 'all';

export interface Config {
  env: 'development' | 'test' | 'production';
  role: ProcessRole;
  host: string;
  port: number;
  publicBaseUrl: string;
  logLevel: string;
  dataDir: string;
  databaseUrl?: string;
  databasePoolSize: number;
  /** Extra `postgres` flags for the embedded cluster (no effect with DATABASE_URL). */
  embeddedPgFlags: string[];
  bodyLimitBytes: number;
  shutdownTimeoutMs: number;
  http: HttpServerConfig;
  /** Addresses (IPs or CIDRs) of our own reverse proxies: only their X-Forwarded-For is believed. */
  trustedProxies: string[];
  /** Overrides of the rate limits' defaults (http/rate-limits.ts), by limit name. */
  rateLimits: Record<string, { points: number; durationSeconds: number }>;
  /** Multiplies every limit's points (benchmarks raise it); 0 switches rate limiting off. */
  rateLimitScale: number;
  /** Bearer token that `/metrics` asks for; required in production for /metrics to be served at all. */
  metricsToken?: string;
  retention: RetentionConfig;
  piiKey?: string;
  sessionSecret?: string;
  sessionTtlSeconds: number;
  alipay?: AlipayConfig;
  cardsysTimeoutMs: number;
  gateway: GatewayConfig;
  jobs: { processEveryMs: number; maxConcurrency: number };
  recharge: RechargeConfig;
  withholding: WithholdingConfig;
  deductions: DeductionConfig;
  campusCode: CampusCodeConfig;
  isv: IsvConfig;
  reconcile: ReconcileConfig;
  messages: MessageConfig;
  admin: AdminConfig;
  membercard: MembercardConfig;
  terminals: TerminalsConfig;
}

/** School admin operations (issue 13): dashboard statistics and roster imports. */
export interface AdminConfig {
  /** How often the daily statistics are folded from new orders and status changes. */
  statsEveryMs: number;
  /** New swipes are folded once their ids are this old (a decision commits within ms; see daily-stats.ts). */
  statsLagMs: number;
  /** Largest roster file accepted (multipart upload and the CLI). */
  rosterMaxBytes: number;
  /** Files larger than this are imported by the roster.import job; smaller ones during the request. */
  rosterInlineBytes: number;
  /** A refund still PENDING after this many attempts has run out of retries: the exceptions inbox shows it. */
  refundInboxAfterAttempts: number;
  /** An agreement still PENDING, or a card out of step at the card system, this long needs a person (the inbox). */
  stuckAfterMs: number;
}

/** The daily reconciliation (issue 17, domain/reconciliation/). */
export interface ReconcileConfig {
  /** Whether the daily scheduler runs (tests switch it off unless they test it). */
  auto: boolean;
  /** How often the scheduler looks for school-days that are due. */
  everyMs: number;
  /** Yesterday is reconciled from this hour (Beijing) on: Alipay's bills exist from about 09:00. */
  readyHourBeijing: number;
  /** "Bill not ready yet" (or a failure that may pass) → the day is tried again this much later. */
  retryMs: number;
  /** The bill's download, connect to last byte (a big school's zip is tens of MB). */
  downloadTimeoutMs: number;
  /** Card-system calls in flight at once, and the most cards looked up per day (vendor load is bounded). */
  vendorConcurrency: number;
  vendorMaxCards: number;
}

/** Vending machines and cashier windows (issue #15, README "Terminals"). */
export interface TerminalsConfig {
  /** Delays between attempts of the paid callback to a machine; after the last one it is GAVE_UP. */
  callbackRetryMs: number[];
  /** Delays between attempts of a terminal refund or royalty settlement that failed for a passing reason. */
  retryMs: number[];
  /** How often the terminal sweep runs (closes expired orders, asks Alipay about late payments, retries). */
  sweepEveryMs: number;
  /** An unpaid order older than this is asked about at Alipay by the sweep (a notification may be late). */
  queryAfterMs: number;
  /** The payment page of the mini-program that terminal orders link to. */
  payPage: string;
}

export interface MessageTemplate {
  id: string;
  /** Long-term templates may be sent repeatedly after one consent; one-time ones once per subscription. */
  longTerm: boolean;
}

export interface MessageConfig {
  /** Subscription-message kind (domain/messages/catalog.ts) → the template chosen in the merchant console. */
  templates: Partial<Record<string, MessageTemplate>>;
  /** Delays between sends Alipay refused for a passing reason; then FAILED. */
  retryMs: number[];
  /** The sender's safety-net run, besides the wake-ups of queued messages. */
  sendEveryMs: number;
  /** How often the balances of cards with a low-balance threshold are read. */
  balanceWatchEveryMs: number;
}

/** School onboarding as an Alipay ISV (DESIGN §7.0, ALIPAY-M2.md §4). */
export interface IsvConfig {
  /** Alipay's app-to-app authorization page; `npm start` points it at the Alipay sandbox's. */
  authorizeUrl: string;
  /** How long an authorization link (its `state`) stays usable. */
  linkTtlHours: number;
  /** Tokens are refreshed this long before they expire. */
  refreshBeforeDays: number;
  /** How often the refresh job looks. */
  refreshEveryMs: number;
}

/**
 * Campus-code payments (seed 001, DESIGN §7.5). Retries follow the school's retry schedule scaled by
 * DEDUCTION_RETRY_SCALE, and waiting or unknown trades are polled as deductions are (DEDUCTION_POLL_*):
 * both are trade.pay with the same unknown-outcome rules.
 */
export interface CampusCodeConfig {
  /** Body limit of the upload route: a batch of 500 payments is about 0.5 MB. */
  bodyLimitBytes: number;
  payBatch: number;
  payConcurrency: number;
  leaseMs: number;
  /** The drainer's safety-net run, besides the wake-ups from uploads and its own schedule. */
  payEveryMs: number;
}

export interface HttpServerConfig {
  /** A request (headers and body) that has not arrived in full after this long is cut off (slow bodies). */
  requestTimeoutMs: number;
  headersTimeoutMs: number;
  /** Open connections per process; more are refused at once. */
  maxConnections: number;
}

export interface RetentionConfig {
  /** Verified notify_log rows older than this are deleted (the money's record is the orders themselves). */
  notifyLogDays: number;
  /** Unverified (forged or broken) notify_log rows older than this are deleted. */
  unverifiedNotifyLogDays: number;
  /** Finished or failed Agenda job rows older than this are deleted. */
  jobHistoryDays: number;
}

export interface MembercardConfig {
  /** Per call to a school's card management (/card/update, /card/changeTemplate). */
  timeoutMs: number;
  /** Delays between attempts of a wallet card update that failed on the way; then it is left failed. */
  syncRetryMs: number[];
  /** A worker's hold on one card while it updates it. */
  syncLeaseMs: number;
  /** The sweep that sends updates whose wake-up was lost. */
  syncEveryMs: number;
  /** Dynamic codes expired longer ago than this are deleted. */
  codeRetentionMs: number;
}

export interface GatewayConfig {
  timestampWindowMs: number;
  /** How long a process trusts its cached copy of a gateway client: a revocation takes up to this long. */
  clientCacheMs: number;
  /** Benchmarks only: mounts /bench/bare and /bench/one-insert next to the gateway routes. */
  benchReferenceRoutes: boolean;
}

export interface WithholdingConfig {
  /** A PENDING agreement older than this is asked about at Alipay when the user looks (lost notification). */
  agreementQueryAfterMs: number;
  /** A PENDING agreement that Alipay still does not know after this long was abandoned: FAILED. */
  agreementAbandonAfterMs: number;
  /** Delays between ZFB_BindDoc / ZFB_UnBindDoc attempts when the card system fails. */
  cardBindRetryMs: number[];
}

export interface DeductionConfig {
  /** Multiplies every school's retry_schedule_seconds (tests shrink the schedule with it). */
  retryScale: number;
  /** 10003 and waiting trades: query every this many ms, for at most pollWindowMs, then cancel. */
  pollIntervalMs: number;
  pollWindowMs: number;
  /** A collector's claim on a deduction; longer than one attempt (pay + query + cancel) can take. */
  leaseMs: number;
  collectBatch: number;
  collectConcurrency: number;
  /** The collector's safety-net run, besides the wake-ups from approvals and its own schedule. */
  collectEveryMs: number;
  /** Delays between refund attempts of a reversed, collected deduction. */
  refundRetryMs: number[];
  /** Unpaid repayment trades close after this long. */
  repaymentTimeoutMinutes: number;
  /** How the deduct route's decisions are grouped into transactions (db/repos/withholding/decision-batches.ts). */
  decisionBatches: DecisionBatchSettings;
}

/**
 * The deduct route decides the swipes that arrive together in one transaction (issue 18 §1): one commit, one
 * WAL flush for many decisions. A swipe is sent as soon as a batch slot is free (after `windowMs`, if set);
 * swipes arriving while every slot is busy wait and go together in the next batch.
 */
export interface DecisionBatchSettings {
  /** Most swipes in one batch (DEDUCT_BATCH_MAX); 1 decides every swipe in its own transaction. */
  maxSwipes: number;
  /** How long the first swipe of a batch waits for others before it is sent (DEDUCT_BATCH_WINDOW_MS). */
  windowMs: number;
  /** Batches in flight at once per process, each on one pooled connection (DEDUCT_BATCH_IN_FLIGHT). */
  inFlight: number;
}

export interface RechargeConfig {
  /** Alipay closes an unpaid trade after this long (timeout_express). */
  timeoutMinutes: number;
  /** How often the sweep runs, and how old an unpaid order must be before it asks Alipay. */
  sweepEveryMs: number;
  sweepAfterMs: number;
  /** Delays between crediting attempts when the card system fails; then CREDIT_FAILED. */
  creditRetryMs: number[];
  /** The crediting drainer: orders per claim, card-system calls in flight, lease, safety-net interval. */
  creditBatch: number;
  creditConcurrency: number;
  creditLeaseMs: number;
  creditEveryMs: number;
}

export interface AlipayConfig {
  appId: string;
  privateKey: string;
  alipayPublicKey: string;
  gateway: string;
  timeoutMs: number;
  /** Apps created since 2023 only receive open_id (ALIPAY.md §4.1). */
  idMode: 'open_id' | 'user_id';
}

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

const port = Joi.number().integer().min(0).max(65535);
const pemKey = Joi.string().pattern(/-----BEGIN [A-Z ]+-----|^[A-Za-z0-9+/=\s]{200,}$/, 'PEM or base64 key');

const msList = Joi.string().pattern(/^\d+(,\d+)*$/, 'comma-separated milliseconds');
const toMsList = (value: unknown): number[] => String(value).split(',').map(Number);

/** `name=points/seconds,…`, e.g. `session-ip=120/60,recharge-user=10/60` (http/rate-limits.ts names). */
const rateLimitList = Joi.string().pattern(
  /^[a-z][a-z0-9-]*=\d+\/\d+(,[a-z][a-z0-9-]*=\d+\/\d+)*$/,
  'name=points/seconds,…',
);
function toRateLimits(value: unknown): Record<string, { points: number; durationSeconds: number }> {
  const limits: Record<string, { points: number; durationSeconds: number }> = {};
  for (const entry of String(value ?? '')
    .split(',')
    .filter(Boolean)) {
    const [name, rule] = entry.split('=');
    const [points, seconds] = rule.split('/').map(Number);
    limits[name] = { points, durationSeconds: seconds };
  }
  return limits;
}

/** An IPv4/IPv6 address, optionally with a prefix length. */
const ADDRESS_OR_CIDR = /^([0-9.]+|[0-9a-fA-F:.]+)(\/\d{1,3})?$/;

const schema = Joi.object({
  NODE_ENV: Joi.string().valid('development', 'test', 'production').default('development'),
  ROLE: Joi.string().valid('api', 'worker', 'all').default('all'),
  HOST: Joi.string().hostname().default('127.0.0.1'),
  PORT: port.default(3000),
  PUBLIC_BASE_URL: Joi.string().uri({ scheme: ['http', 'https'] }),
  LOG_LEVEL: Joi.string().valid('error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly').default('info'),
  DATA_DIR: Joi.string().default('.data'),
  DATABASE_URL: Joi.string().uri({ scheme: ['postgres', 'postgresql'] }),
  DATABASE_POOL_SIZE: Joi.number().integer().min(1).max(200).default(20),
  EMBEDDED_PG_FLAGS: Joi.string()
    .pattern(/^(\s*-c\s+[a-z_.]+=\S+)+\s*$/, '-c name=value …')
    .default(''),
  BODY_LIMIT_BYTES: Joi.number().integer().min(1024).max(10_485_760).default(102_400),
  SHUTDOWN_TIMEOUT_MS: Joi.number().integer().min(100).max(600_000).default(10_000),
  HTTP_REQUEST_TIMEOUT_MS: Joi.number().integer().min(1_000).max(600_000).default(30_000),
  HTTP_HEADERS_TIMEOUT_MS: Joi.number().integer().min(1_000).max(600_000).default(10_000),
  HTTP_MAX_CONNECTIONS: Joi.number().integer().min(1).max(1_000_000).default(10_000),
  TRUSTED_PROXIES: Joi.string()
    .custom((value: string, helpers) => {
      for (const entry of value.split(',').map((e) => e.trim()))
        if (!ADDRESS_OR_CIDR.test(entry)) return helpers.error('string.pattern.name', { name: 'IP or CIDR' });
      return value;
    })
    .default(''),
  RATE_LIMITS: rateLimitList.default(''),
  RATE_LIMIT_SCALE: Joi.number().min(0).max(1_000_000).default(1),
  METRICS_TOKEN: Joi.string().min(16),
  NOTIFY_LOG_RETENTION_DAYS: Joi.number().integer().min(1).max(3650).default(180),
  NOTIFY_LOG_UNVERIFIED_RETENTION_DAYS: Joi.number().integer().min(1).max(3650).default(7),
  JOB_HISTORY_RETENTION_DAYS: Joi.number().integer().min(1).max(3650).default(14),
  PII_KEY: Joi.string().base64().length(44),
  SESSION_SECRET: Joi.string().min(32),
  SESSION_TTL_SECONDS: Joi.number()
    .integer()
    .min(60)
    .max(30 * 86_400)
    .default(7 * 86_400),
  ALIPAY_APP_ID: Joi.string().pattern(/^\d{16}$/, '16-digit app id'),
  ALIPAY_PRIVATE_KEY: pemKey,
  ALIPAY_PUBLIC_KEY: pemKey,
  ALIPAY_GATEWAY: Joi.string().uri({ scheme: ['http', 'https'] }),
  ALIPAY_TIMEOUT_MS: Joi.number().integer().min(100).max(60_000).default(5_000),
  ALIPAY_ID_MODE: Joi.string().valid('open_id', 'user_id').default('open_id'),
  CARDSYS_TIMEOUT_MS: Joi.number().integer().min(100).max(60_000).default(5_000),
  GATEWAY_TIMESTAMP_WINDOW_MS: Joi.number().integer().min(1_000).max(3_600_000).default(300_000),
  GATEWAY_CLIENT_CACHE_MS: Joi.number().integer().min(0).max(600_000).default(30_000),
  BENCH_REFERENCE_ROUTES: Joi.boolean().truthy('1').falsy('0').default(false),
  AGREEMENT_QUERY_AFTER_MS: Joi.number().integer().min(0).max(86_400_000).default(10_000),
  AGREEMENT_ABANDON_AFTER_MS: Joi.number()
    .integer()
    .min(0)
    .max(7 * 86_400_000)
    .default(1_800_000),
  WITHHOLDING_CARD_BIND_RETRY_MS: msList.default('5000,30000,120000,600000,1800000,3600000,21600000'),
  DEDUCTION_RETRY_SCALE: Joi.number().min(0.0001).max(100).default(1),
  DEDUCTION_POLL_INTERVAL_MS: Joi.number().integer().min(10).max(60_000).default(4_000),
  DEDUCTION_POLL_WINDOW_MS: Joi.number().integer().min(0).max(600_000).default(60_000),
  DEDUCTION_LEASE_MS: Joi.number().integer().min(1_000).max(3_600_000).default(120_000),
  DEDUCTION_COLLECT_BATCH: Joi.number().integer().min(1).max(1_000).default(64),
  DEDUCTION_COLLECT_CONCURRENCY: Joi.number().integer().min(1).max(256).default(32),
  DEDUCTION_COLLECT_EVERY_MS: Joi.number().integer().min(100).max(3_600_000).default(30_000),
  DEDUCTION_REFUND_RETRY_MS: msList.default('5000,30000,120000,600000,1800000,3600000,21600000'),
  // At most 64 swipes a batch: each is one subtransaction, and PostgreSQL keeps 64 subtransaction ids per
  // backend in shared memory before other sessions' snapshots must look them up on disk (pg_subtrans).
  DEDUCT_BATCH_MAX: Joi.number().integer().min(1).max(64).default(32),
  DEDUCT_BATCH_WINDOW_MS: Joi.number().min(0).max(2).default(0),
  DEDUCT_BATCH_IN_FLIGHT: Joi.number().integer().min(1).max(32).default(2),
  CAMPUS_CODE_BODY_LIMIT_BYTES: Joi.number().integer().min(102_400).max(10_485_760).default(2_097_152),
  CAMPUS_CODE_PAY_BATCH: Joi.number().integer().min(1).max(1_000).default(64),
  CAMPUS_CODE_PAY_CONCURRENCY: Joi.number().integer().min(1).max(256).default(32),
  CAMPUS_CODE_LEASE_MS: Joi.number().integer().min(1_000).max(3_600_000).default(120_000),
  CAMPUS_CODE_PAY_EVERY_MS: Joi.number().integer().min(100).max(3_600_000).default(30_000),
  ALIPAY_APP_AUTH_URL: Joi.string()
    .uri({ scheme: ['http', 'https'] })
    .default('https://openauth.alipay.com/oauth2/appToAppAuth.htm'),
  ISV_LINK_TTL_HOURS: Joi.number().integer().min(1).max(720).default(168),
  ISV_REFRESH_BEFORE_DAYS: Joi.number().integer().min(1).max(180).default(30),
  ISV_REFRESH_EVERY_MS: Joi.number().integer().min(1_000).max(86_400_000).default(3_600_000),
  REPAYMENT_TIMEOUT_MINUTES: Joi.number().integer().min(1).max(1440).default(15),
  MEMBERCARD_TIMEOUT_MS: Joi.number().integer().min(100).max(60_000).default(5_000),
  MEMBERCARD_SYNC_RETRY_MS: msList.default('5000,30000,120000,600000,1800000,3600000,21600000'),
  MEMBERCARD_SYNC_LEASE_MS: Joi.number().integer().min(1_000).max(3_600_000).default(60_000),
  MEMBERCARD_SYNC_EVERY_MS: Joi.number().integer().min(100).max(3_600_000).default(60_000),
  MEMBERCARD_CODE_RETENTION_MS: Joi.number()
    .integer()
    .min(0)
    .max(30 * 86_400_000)
    .default(86_400_000),
  JOBS_PROCESS_EVERY_MS: Joi.number().integer().min(100).max(3_600_000).default(5_000),
  JOBS_MAX_CONCURRENCY: Joi.number().integer().min(1).max(1_000).default(50),
  RECHARGE_TIMEOUT_MINUTES: Joi.number().integer().min(1).max(1440).default(15),
  RECHARGE_SWEEP_EVERY_MS: Joi.number().integer().min(100).max(3_600_000).default(60_000),
  RECHARGE_SWEEP_AFTER_MS: Joi.number().integer().min(0).max(86_400_000).default(180_000),
  RECHARGE_CREDIT_RETRY_MS: msList.default('5000,30000,120000,600000,1800000,3600000,21600000'),
  RECHARGE_CREDIT_BATCH: Joi.number().integer().min(1).max(1_000).default(100),
  RECHARGE_CREDIT_CONCURRENCY: Joi.number().integer().min(1).max(200).default(16),
  RECHARGE_CREDIT_LEASE_MS: Joi.number().integer().min(1_000).max(3_600_000).default(60_000),
  RECHARGE_CREDIT_EVERY_MS: Joi.number().integer().min(100).max(3_600_000).default(30_000),
  RECONCILE_AUTO: Joi.boolean().default(true),
  RECONCILE_EVERY_MS: Joi.number().integer().min(100).max(86_400_000).default(600_000),
  RECONCILE_READY_HOUR: Joi.number().integer().min(0).max(23).default(10),
  RECONCILE_RETRY_MS: Joi.number().integer().min(100).max(86_400_000).default(1_800_000),
  RECONCILE_DOWNLOAD_TIMEOUT_MS: Joi.number().integer().min(1_000).max(3_600_000).default(300_000),
  RECONCILE_VENDOR_CONCURRENCY: Joi.number().integer().min(1).max(32).default(4),
  RECONCILE_VENDOR_MAX_CARDS: Joi.number().integer().min(0).max(1_000_000).default(5_000),
  ALIPAY_MESSAGE_TEMPLATES: Joi.string().custom((value: string, helpers) => {
    try {
      return parseMessageTemplates(value);
    } catch (error) {
      return helpers.message({ custom: (error as Error).message });
    }
  }),
  MESSAGE_RETRY_MS: msList.default('5000,30000,120000,600000,3600000'),
  MESSAGE_SEND_EVERY_MS: Joi.number().integer().min(100).max(3_600_000).default(30_000),
  BALANCE_WATCH_EVERY_MS: Joi.number().integer().min(500).max(86_400_000).default(1_800_000),
  ADMIN_STATS_EVERY_MS: Joi.number().integer().min(100).max(3_600_000).default(30_000),
  ADMIN_STATS_LAG_MS: Joi.number().integer().min(0).max(600_000).default(30_000),
  ROSTER_MAX_BYTES: Joi.number().integer().min(1_024).max(104_857_600).default(20_971_520),
  ROSTER_INLINE_BYTES: Joi.number().integer().min(0).max(104_857_600).default(262_144),
  REFUND_INBOX_AFTER_ATTEMPTS: Joi.number().integer().min(1).max(100).default(7),
  INBOX_STUCK_AFTER_MS: Joi.number().integer().min(0).max(604_800_000).default(1_800_000),
  TERMINAL_CALLBACK_RETRY_MS: msList.default('1000,5000,15000,60000,300000,900000,3600000,10800000'),
  TERMINAL_RETRY_MS: msList.default('5000,30000,120000,600000,1800000,3600000'),
  TERMINAL_SWEEP_EVERY_MS: Joi.number().integer().min(100).max(3_600_000).default(15_000),
  TERMINAL_QUERY_AFTER_MS: Joi.number().integer().min(0).max(3_600_000).default(20_000),
  TERMINAL_PAY_PAGE: Joi.string()
    .pattern(/^pages\/[a-z0-9/-]{1,64}$/, 'mini-program page path')
    .default('pages/terminal-pay/terminal-pay'),
})
  // Alipay settings come as a set: all of them or none (then only sandbox-less parts of the app work).
  .and('ALIPAY_APP_ID', 'ALIPAY_PRIVATE_KEY', 'ALIPAY_PUBLIC_KEY', 'ALIPAY_GATEWAY')
  .unknown(true);

/**
 * ALIPAY_MESSAGE_TEMPLATES: a JSON object, message kind → template id, or → {"id": "…", "longTerm": true} for a
 * long-term template, e.g. {"RECHARGE_CREDITED":"8a1c…","BALANCE_LOW":{"id":"7f2e…","longTerm":true}}.
 */
function parseMessageTemplates(text: string): Record<string, MessageTemplate> {
  const parsed = JSON.parse(text) as unknown;
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new Error('must be a JSON object');
  const templates: Record<string, MessageTemplate> = {};
  for (const [kind, value] of Object.entries(parsed)) {
    if (!/^[A-Z][A-Z_]{1,39}$/.test(kind)) throw new Error(`${kind}: a message kind is UPPER_SNAKE`);
    const template =
      typeof value === 'string' ? { id: value, longTerm: false } : (value as Partial<MessageTemplate>);
    if (typeof template?.id !== 'string' || !/^\S{1,64}$/.test(template.id))
      throw new Error(`${kind}: the template id is missing or malformed`);
    templates[kind] = { id: template.id, longTerm: template.longTerm === true };
  }
  return templates;
}

const FILE_SETTINGS = [
  'PII_KEY',
  'SESSION_SECRET',
  'ALIPAY_PRIVATE_KEY',
  'ALIPAY_PUBLIC_KEY',
  'DATABASE_URL',
];

/** `<NAME>_FILE=/path` reads the value from a file, so keys need not sit in the environment. */
function resolveFileSettings(env: NodeJS.ProcessEnv, problems: string[]): Record<string, string | undefined> {
  const resolved: Record<string, string | undefined> = { ...env };
  for (const name of FILE_SETTINGS) {
    const file = env[`${name}_FILE`];
    if (!file) continue;
    if (env[name]) {
      problems.push(`${name} and ${name}_FILE are both set; set only one`);
      continue;
    }
    try {
      resolved[name] = fs.readFileSync(file, 'utf8').trim();
    } catch (error) {
      problems.push(
        `${name}_FILE: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
  }
  // An empty variable means "unset", as in most shells' `FOO= cmd`.
  for (const [key, value] of Object.entries(resolved)) if (value === '') delete resolved[key];
  return resolved;
}

/**
 * What production refuses even though each value is well-formed: settings that are fine on a laptop and
 * dangerous on the internet. Each problem names its setting.
 */
function productionProblems(value: Record<string, unknown>): string[] {
  const problems: string[] = [];
  for (const name of ['DATABASE_URL', 'PII_KEY', 'SESSION_SECRET', 'ALIPAY_APP_ID', 'PUBLIC_BASE_URL']) {
    if (!value[name]) problems.push(`${name}: is required when NODE_ENV=production`);
  }
  const piiKey = typeof value.PII_KEY === 'string' ? Buffer.from(value.PII_KEY, 'base64') : null;
  if (piiKey && new Set(piiKey).size < 8)
    problems.push(
      'PII_KEY: is not random (too few distinct bytes); generate one with `openssl rand -base64 32`',
    );
  const secret = typeof value.SESSION_SECRET === 'string' ? value.SESSION_SECRET : '';
  if (secret && (new Set(secret).size < 10 || /^(.+?)\1+$/.test(secret)))
    problems.push(
      'SESSION_SECRET: is trivial (repeated or too few distinct characters); use 32 random bytes',
    );
  for (const name of ['ALIPAY_GATEWAY', 'PUBLIC_BASE_URL']) {
    if (typeof value[name] === 'string' && !String(value[name]).startsWith('https://'))
      problems.push(`${name}: must be an https:// URL when NODE_ENV=production`);
  }
  if (value.BENCH_REFERENCE_ROUTES)
    problems.push('BENCH_REFERENCE_ROUTES: benchmark routes write without authentication; not in production');
  return problems;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const resolved = resolveFileSettings(env, problems);
  const { value, error } = schema.validate(resolved, { abortEarly: false, convert: true });
  if (error) {
    for (const detail of error.details)
      problems.push(
        `${detail.path.join('.') || detail.context?.label}: ${detail.message.replace(/^"[^"]*" /, '')}`,
      );
  }
  if (value.NODE_ENV === 'production') problems.push(...productionProblems(value));
  if (problems.length > 0) throw new ConfigError(problems);

  const hostForUrls = value.HOST === '0.0.0.0' ? '127.0.0.1' : value.HOST;
  return {
    env: value.NODE_ENV,
    role: value.ROLE,
    host: value.HOST,
    port: value.PORT,
    // With PORT=0 the port is known only once listening: server.ts fills the default in then.
    publicBaseUrl: (
      value.PUBLIC_BASE_URL ?? (value.PORT === 0 ? '' : `http://${hostForUrls}:${value.PORT}`)
    ).replace(/\/$/, ''),
    logLevel: value.LOG_LEVEL,
    dataDir: path.resolve(value.DATA_DIR),
    databaseUrl: value.DATABASE_URL,
    databasePoolSize: value.DATABASE_POOL_SIZE,
    embeddedPgFlags: String(value.EMBEDDED_PG_FLAGS).split(/\s+/).filter(Boolean),
    bodyLimitBytes: value.BODY_LIMIT_BYTES,
    shutdownTimeoutMs: value.SHUTDOWN_TIMEOUT_MS,
    http: {
      requestTimeoutMs: value.HTTP_REQUEST_TIMEOUT_MS,
      headersTimeoutMs: value.HTTP_HEADERS_TIMEOUT_MS,
      maxConnections: value.HTTP_MAX_CONNECTIONS,
    },
    trustedProxies: String(value.TRUSTED_PROXIES)
      .split(',')
      .map((entry) => entry.trim())
      .filter(Boolean),
    rateLimits: toRateLimits(value.RATE_LIMITS),
    rateLimitScale: value.RATE_LIMIT_SCALE,
    metricsToken: value.METRICS_TOKEN,
    retention: {
      notifyLogDays: value.NOTIFY_LOG_RETENTION_DAYS,
      unverifiedNotifyLogDays: value.NOTIFY_LOG_UNVERIFIED_RETENTION_DAYS,
      jobHistoryDays: value.JOB_HISTORY_RETENTION_DAYS,
    },
    piiKey: value.PII_KEY,
    sessionSecret: value.SESSION_SECRET,
    sessionTtlSeconds: value.SESSION_TTL_SECONDS,
    alipay: value.ALIPAY_APP_ID
      ? {
          appId: value.ALIPAY_APP_ID,
          privateKey: value.ALIPAY_PRIVATE_KEY,
          alipayPublicKey: value.ALIPAY_PUBLIC_KEY,
          gateway: value.ALIPAY_GATEWAY,
          timeoutMs: value.ALIPAY_TIMEOUT_MS,
          idMode: value.ALIPAY_ID_MODE,
        }
      : undefined,
    cardsysTimeoutMs: value.CARDSYS_TIMEOUT_MS,
    gateway: {
      timestampWindowMs: value.GATEWAY_TIMESTAMP_WINDOW_MS,
      clientCacheMs: value.GATEWAY_CLIENT_CACHE_MS,
      benchReferenceRoutes: value.BENCH_REFERENCE_ROUTES,
    },
    jobs: { processEveryMs: value.JOBS_PROCESS_EVERY_MS, maxConcurrency: value.JOBS_MAX_CONCURRENCY },
    recharge: {
      timeoutMinutes: value.RECHARGE_TIMEOUT_MINUTES,
      sweepEveryMs: value.RECHARGE_SWEEP_EVERY_MS,
      sweepAfterMs: value.RECHARGE_SWEEP_AFTER_MS,
      creditRetryMs: toMsList(value.RECHARGE_CREDIT_RETRY_MS),
      creditBatch: value.RECHARGE_CREDIT_BATCH,
      creditConcurrency: value.RECHARGE_CREDIT_CONCURRENCY,
      creditLeaseMs: value.RECHARGE_CREDIT_LEASE_MS,
      creditEveryMs: value.RECHARGE_CREDIT_EVERY_MS,
    },
    withholding: {
      agreementQueryAfterMs: value.AGREEMENT_QUERY_AFTER_MS,
      agreementAbandonAfterMs: value.AGREEMENT_ABANDON_AFTER_MS,
      cardBindRetryMs: toMsList(value.WITHHOLDING_CARD_BIND_RETRY_MS),
    },
    deductions: {
      retryScale: value.DEDUCTION_RETRY_SCALE,
      pollIntervalMs: value.DEDUCTION_POLL_INTERVAL_MS,
      pollWindowMs: value.DEDUCTION_POLL_WINDOW_MS,
      leaseMs: value.DEDUCTION_LEASE_MS,
      collectBatch: value.DEDUCTION_COLLECT_BATCH,
      collectConcurrency: value.DEDUCTION_COLLECT_CONCURRENCY,
      collectEveryMs: value.DEDUCTION_COLLECT_EVERY_MS,
      refundRetryMs: toMsList(value.DEDUCTION_REFUND_RETRY_MS),
      repaymentTimeoutMinutes: value.REPAYMENT_TIMEOUT_MINUTES,
      decisionBatches: {
        maxSwipes: value.DEDUCT_BATCH_MAX,
        windowMs: value.DEDUCT_BATCH_WINDOW_MS,
        inFlight: value.DEDUCT_BATCH_IN_FLIGHT,
      },
    },
    campusCode: {
      bodyLimitBytes: value.CAMPUS_CODE_BODY_LIMIT_BYTES,
      payBatch: value.CAMPUS_CODE_PAY_BATCH,
      payConcurrency: value.CAMPUS_CODE_PAY_CONCURRENCY,
      leaseMs: value.CAMPUS_CODE_LEASE_MS,
      payEveryMs: value.CAMPUS_CODE_PAY_EVERY_MS,
    },
    terminals: {
      callbackRetryMs: toMsList(value.TERMINAL_CALLBACK_RETRY_MS),
      retryMs: toMsList(value.TERMINAL_RETRY_MS),
      sweepEveryMs: value.TERMINAL_SWEEP_EVERY_MS,
      queryAfterMs: value.TERMINAL_QUERY_AFTER_MS,
      payPage: value.TERMINAL_PAY_PAGE,
    },
    isv: {
      authorizeUrl: value.ALIPAY_APP_AUTH_URL,
      linkTtlHours: value.ISV_LINK_TTL_HOURS,
      refreshBeforeDays: value.ISV_REFRESH_BEFORE_DAYS,
      refreshEveryMs: value.ISV_REFRESH_EVERY_MS,
    },
    reconcile: {
      auto: value.RECONCILE_AUTO,
      everyMs: value.RECONCILE_EVERY_MS,
      readyHourBeijing: value.RECONCILE_READY_HOUR,
      retryMs: value.RECONCILE_RETRY_MS,
      downloadTimeoutMs: value.RECONCILE_DOWNLOAD_TIMEOUT_MS,
      vendorConcurrency: value.RECONCILE_VENDOR_CONCURRENCY,
      vendorMaxCards: value.RECONCILE_VENDOR_MAX_CARDS,
    },
    messages: {
      templates: value.ALIPAY_MESSAGE_TEMPLATES ?? {},
      retryMs: toMsList(value.MESSAGE_RETRY_MS),
      sendEveryMs: value.MESSAGE_SEND_EVERY_MS,
      balanceWatchEveryMs: value.BALANCE_WATCH_EVERY_MS,
    },
    admin: {
      statsEveryMs: value.ADMIN_STATS_EVERY_MS,
      statsLagMs: value.ADMIN_STATS_LAG_MS,
      rosterMaxBytes: value.ROSTER_MAX_BYTES,
      rosterInlineBytes: value.ROSTER_INLINE_BYTES,
      refundInboxAfterAttempts: value.REFUND_INBOX_AFTER_ATTEMPTS,
      stuckAfterMs: value.INBOX_STUCK_AFTER_MS,
    },
    membercard: {
      timeoutMs: value.MEMBERCARD_TIMEOUT_MS,
      syncRetryMs: toMsList(value.MEMBERCARD_SYNC_RETRY_MS),
      syncLeaseMs: value.MEMBERCARD_SYNC_LEASE_MS,
      syncEveryMs: value.MEMBERCARD_SYNC_EVERY_MS,
      codeRetentionMs: value.MEMBERCARD_CODE_RETENTION_MS,
    },
  };
}
