import type { AlipayKeyPair } from './keys.js';
import type { SandboxClock } from './clock.js';
import type { FaultBook } from './faults.js';
import type { SandboxLogger } from './logger.js';
import type { Notifier } from './notify/notifier.js';
import type { SandboxState } from './state/store.js';
import type { TimerRegistry } from './timers.js';
import type { BillDownloads } from './bill/bill-downloads.js';

/** Rules that tests may want to tighten; defaults follow ALIPAY.md. */
export interface SandboxSettings {
  /** After this long a paid trade becomes TRADE_FINISHED and refunds give ACQ.TRADE_HAS_FINISHED (§3.2: 3–12 months). */
  refundWindowMs: number;
  /** trade.cancel refunds a paid trade only this long after payment, then ACQ.TRADE_CANCEL_TIME_OUT (§4.7). */
  cancelWindowMs: number;
  /** Default life of a my.getAuthCode code (§4.1: 3 minutes to 24 hours). */
  userAuthCodeTtlMs: number;
  /** Default life of a campus-code payment code (seed 001: uploads up to 10 days late). */
  paymentCodeTtlMs: number;
  /** How long trade.pay takes a campus code after it was made (seed 001 §4: at most 10 days). */
  campusCodePayableMs: number;
  /** Life of a bill download URL (§4.14: about 30 s). */
  billUrlTtlMs: number;
  /** A day's bill exists from this hour (Beijing) of the next day (§4.14: "usually by 09:00"). */
  billReadyHourBeijing: number;
  /** Alipay's service fee on each payment, per mille (the standard rate 0.6% = 6), shown as 服务费. */
  billFeePermille: number;
}

/** What every part of the sandbox shares. Built once in server.ts. */
export interface SandboxContext {
  state: SandboxState;
  settings: SandboxSettings;
  clock: SandboxClock;
  keys: AlipayKeyPair;
  notifier: Notifier;
  faults: FaultBook;
  timers: TimerRegistry;
  logger: SandboxLogger;
  bills: BillDownloads;
  /** http://host:port of this sandbox, for URLs it hands out (bill downloads). */
  baseUrl(): string;
}
