import http from 'node:http';
import https from 'node:https';
import { generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { formatBeijing } from '../beijing-time.js';
import type { FaultBook, NotifyFaultRule } from '../faults.js';
import { newNotifyId } from '../ids.js';
import type { SandboxLogger } from '../logger.js';
import { notifySignContent, signText } from '../protocol/sign-content.js';
import type { SandboxClock } from '../clock.js';
import type { TimerRegistry } from '../timers.js';
import { RETRY_OFFSETS_MINUTES, attemptOffsetMs } from './schedule.js';

export type NotifyType =
  | 'trade_status_sync'
  | 'dut_user_sign'
  | 'dut_user_unsign'
  | 'open_app_auth_notify'
  /** Message-style (msg_method) notifications: ALIPAY-M2.md §0. */
  | 'alipay.open.auth.appauth.cancelled'
  | 'alipay.trade.order.settle.notify';

/** Sent as a message (`msg_method`, `utc_timestamp`) rather than a classic notification (`notify_type`). */
const MESSAGE_METHODS: ReadonlySet<NotifyType> = new Set([
  'alipay.open.auth.appauth.cancelled',
  'alipay.trade.order.settle.notify',
]);

export interface NotificationAttempt {
  /** 1-based attempt number in the schedule. */
  attempt: number;
  /** For a duplicated attempt, which copy (1-based). */
  copy?: number;
  /** Planned offset from the first attempt, real ms (schedule ÷ notifyTimeScale). */
  plannedOffsetMs: number;
  scheduledAt: string;
  sentAt?: string;
  durationMs?: number;
  httpStatus?: number;
  /** What the receiver answered (first 200 characters). */
  answer?: string;
  error?: string;
  acknowledged: boolean;
  dropped?: boolean;
  tampered?: boolean;
}

export interface NotificationRecord {
  notifyId: string;
  notifyType: NotifyType;
  notifyUrl: string;
  appId: string;
  outTradeNo?: string;
  tradeNo?: string;
  agreementNo?: string;
  /** The genuine signed form fields. */
  fields: Record<string, string>;
  createdAt: string;
  /** pending: attempts left; held: waiting to be overtaken (reorder); acknowledged: got `success`; failed: schedule exhausted; dropped: never sent. */
  status: 'pending' | 'held' | 'acknowledged' | 'failed' | 'dropped';
  faults: string[];
  attempts: NotificationAttempt[];
}

export interface NotificationInput {
  notifyType: NotifyType;
  notifyUrl: string;
  appId: string;
  outTradeNo?: string;
  tradeNo?: string;
  agreementNo?: string;
  /** Business fields; notify_id, notify_time, notify_type, charset, version, sign_type and sign are added here. */
  fields: Record<string, string | undefined>;
}

interface Delivery {
  record: NotificationRecord;
  fault?: NotifyFaultRule;
  firstAtMs: number;
}

const ANSWER_LIMIT = 200;

/**
 * Sends signed form POSTs to notify_url and retries on Alipay's schedule until the exact body `success`
 * comes back (ALIPAY.md §3.4), with injected faults. Keep-alive agents keep hundreds per second cheap.
 */
export class Notifier {
  readonly records: NotificationRecord[] = [];
  private held: Delivery[] = [];
  private readonly httpAgent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  private readonly httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 256 });
  private readonly inFlight = new Set<http.ClientRequest>();
  private tamperKey?: Promise<KeyObject>;

  constructor(
    private readonly deps: {
      privateKey: KeyObject;
      clock: SandboxClock;
      faults: FaultBook;
      timers: TimerRegistry;
      logger: SandboxLogger;
      timeScale: number;
      attemptTimeoutMs: number;
    },
  ) {}

  send(input: NotificationInput): NotificationRecord {
    const now = this.deps.clock.now();
    const fields: Record<string, string> = {};
    for (const [key, value] of Object.entries(input.fields))
      if (value !== undefined && value !== '') fields[key] = value;
    fields.notify_id = newNotifyId(now);
    if (MESSAGE_METHODS.has(input.notifyType)) {
      // ALIPAY-M2.md §0 "Message-type notifications": dispatched on msg_method, timed in UTC ms.
      fields.msg_method = input.notifyType;
      fields.utc_timestamp = String(now.getTime());
      fields.msg_type ??= 'sys';
      fields.msg_app_id ??= input.appId;
      fields.version ??= '1.1';
    } else {
      fields.notify_type = input.notifyType;
      fields.notify_time = formatBeijing(now);
      fields.version ??= '1.0';
    }
    fields.charset ??= 'utf-8';
    fields.sign_type = 'RSA2';
    fields.sign = signText(notifySignContent(fields), this.deps.privateKey);

    const record: NotificationRecord = {
      notifyId: fields.notify_id,
      notifyType: input.notifyType,
      notifyUrl: input.notifyUrl,
      appId: input.appId,
      outTradeNo: input.outTradeNo,
      tradeNo: input.tradeNo,
      agreementNo: input.agreementNo,
      fields,
      createdAt: new Date().toISOString(),
      status: 'pending',
      faults: [],
      attempts: [],
    };
    this.records.push(record);

    const fault = this.deps.faults.takeNotifyFault(input.notifyType);
    if (fault) record.faults.push(fault.action);
    const delivery: Delivery = { record, fault, firstAtMs: Date.now() };

    if (fault?.action === 'drop' && fault.attempts === undefined) {
      record.status = 'dropped';
      return record;
    }
    if (fault?.action === 'reorder') {
      record.status = 'held';
      this.held.push(delivery);
      this.deps.timers.after(fault.holdMs ?? 2000, () => this.release(delivery));
      return record;
    }
    this.start(delivery, fault?.action === 'delay' ? (fault.delayMs ?? 1000) : 0);
    return record;
  }

  /** Forgets the history and stops pending retries (control reset). */
  reset(): void {
    // Retries already in flight see a final status and stop.
    for (const record of this.records)
      if (record.status === 'pending' || record.status === 'held') record.status = 'failed';
    this.records.length = 0;
    this.held = [];
  }

  close(): void {
    for (const request of this.inFlight) request.destroy();
    this.inFlight.clear();
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  private release(delivery: Delivery): void {
    if (!this.held.includes(delivery)) return;
    this.held = this.held.filter((d) => d !== delivery);
    delivery.record.status = 'pending';
    this.start(delivery, 0);
  }

  private start(delivery: Delivery, delayMs: number): void {
    delivery.firstAtMs = Date.now() + delayMs;
    this.scheduleAttempt(delivery, 0);
  }

  private scheduleAttempt(delivery: Delivery, index: number): void {
    const plannedOffsetMs = attemptOffsetMs(index, this.deps.timeScale);
    const dueMs = delivery.firstAtMs + plannedOffsetMs;
    this.deps.timers.after(dueMs - Date.now(), () => {
      void this.attempt(delivery, index, plannedOffsetMs, dueMs);
    });
  }

  private async attempt(
    delivery: Delivery,
    index: number,
    plannedOffsetMs: number,
    dueMs: number,
  ): Promise<void> {
    const { record, fault } = delivery;
    if (record.status !== 'pending' || this.deps.timers.isClosed) return;
    const affected = fault && (fault.attempts === undefined || index < fault.attempts);
    const base = { attempt: index + 1, plannedOffsetMs, scheduledAt: new Date(dueMs).toISOString() };

    let acknowledged = false;
    if (affected && fault.action === 'drop') {
      record.attempts.push({ ...base, acknowledged: false, dropped: true });
    } else {
      const tampered = affected && fault.action === 'tamper';
      const body = new URLSearchParams(
        tampered ? await this.tampered(record.fields) : record.fields,
      ).toString();
      const copies = index === 0 && fault?.action === 'duplicate' ? Math.max(2, fault.copies ?? 2) : 1;
      const results = await Promise.all(
        Array.from({ length: copies }, async (_, copy) => {
          const outcome = await this.post(record.notifyUrl, body);
          const entry: NotificationAttempt = { ...base, ...outcome, acknowledged: outcome.acknowledged };
          if (copies > 1) entry.copy = copy + 1;
          if (tampered) entry.tampered = true;
          record.attempts.push(entry);
          return outcome.acknowledged;
        }),
      );
      acknowledged = results.some(Boolean);
    }
    if (index === 0) this.releaseHeld(delivery);
    if (this.deps.timers.isClosed) return;
    if (acknowledged) {
      record.status = 'acknowledged';
    } else if (index + 1 < RETRY_OFFSETS_MINUTES.length) {
      this.scheduleAttempt(delivery, index + 1);
    } else {
      record.status = 'failed';
      this.deps.logger.warn('alipay sandbox gave up on a notification after the whole retry schedule', {
        notifyId: record.notifyId,
        notifyType: record.notifyType,
        notifyUrl: record.notifyUrl,
      });
    }
  }

  /** A later notification has gone out: what was held back for reordering follows it now. */
  private releaseHeld(after: Delivery): void {
    if (this.held.length === 0) return;
    for (const delivery of [...this.held]) if (delivery !== after) this.release(delivery);
  }

  /** The same fields with a signature that is well-formed but made with a key Alipay never had. */
  private async tampered(fields: Record<string, string>): Promise<Record<string, string>> {
    this.tamperKey ??= promisify(generateKeyPair)('rsa', { modulusLength: 2048 }).then(
      (pair) => pair.privateKey,
    );
    return { ...fields, sign: signText(notifySignContent(fields), await this.tamperKey) };
  }

  private post(
    url: string,
    body: string,
  ): Promise<Omit<NotificationAttempt, 'attempt' | 'plannedOffsetMs' | 'scheduledAt'>> {
    const sentAtMs = Date.now();
    const sentAt = new Date(sentAtMs).toISOString();
    return new Promise((resolve) => {
      const finish = (result: { httpStatus?: number; answer?: string; error?: string }) => {
        const acknowledged = result.httpStatus === 200 && result.answer === 'success';
        resolve({ sentAt, durationMs: Date.now() - sentAtMs, acknowledged, ...result });
      };
      let target: URL;
      try {
        target = new URL(url);
        if (target.protocol !== 'http:' && target.protocol !== 'https:') throw new TypeError('not http(s)');
      } catch {
        finish({ error: `invalid notify_url: ${JSON.stringify(url)}` });
        return;
      }
      const isHttps = target.protocol === 'https:';
      const request = (isHttps ? https : http).request(target, {
        method: 'POST',
        agent: isHttps ? this.httpsAgent : this.httpAgent,
        timeout: this.deps.attemptTimeoutMs,
        headers: {
          'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
          'content-length': Buffer.byteLength(body),
          'user-agent': 'Mozilla/4.0',
        },
      });
      this.inFlight.add(request);
      request.on('response', (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          if (size < ANSWER_LIMIT * 4) chunks.push(chunk);
          size += chunk.length;
        });
        response.on('end', () => {
          this.inFlight.delete(request);
          const answer = Buffer.concat(chunks).toString('utf8');
          // Only the exact 7 characters count (ALIPAY.md §3.4); a redirect or any other body is a failure.
          finish({ httpStatus: response.statusCode, answer: answer.slice(0, ANSWER_LIMIT) });
        });
        response.on('error', (error) => {
          this.inFlight.delete(request);
          finish({ httpStatus: response.statusCode, error: error.message });
        });
      });
      request.on('timeout', () =>
        request.destroy(new Error(`no answer within ${this.deps.attemptTimeoutMs} ms`)),
      );
      request.on('error', (error) => {
        this.inFlight.delete(request);
        finish({ error: error.message });
      });
      request.end(body);
      if (this.deps.timers.isClosed) request.destroy();
    });
  }
}
