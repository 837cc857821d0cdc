import { randomUUID } from 'node:crypto';

/**
 * Faults injected through the control API. A rule fires for the next `times` matching calls, or for a `rate`
 * (0..1) of them (at most `times` when both are given); with neither it fires once.
 * Faults are taken only by requests that passed the gateway's own checks (app id, params, signature).
 */

export interface FaultSelector {
  /** Apply to the next N matching calls. */
  times?: number;
  /** Apply to this fraction of matching calls (0..1). */
  rate?: number;
  /** Makes `rate` reproducible. */
  seed?: number;
}

export interface ApiErrorFault {
  /** Public code; derived from sub_code when absent (ACQ.* → 40004, isp.unknow-error → 20000, …). */
  code?: string;
  msg?: string;
  subCode: string;
  subMsg?: string;
}

export interface ApiFaultSpec extends FaultSelector {
  /** Gateway method, e.g. `alipay.trade.pay`, or `*` for every method. */
  method: string;
  /** Added before the answer (ms). Combines with the other effects. */
  latencyMs?: number;
  /** Answer with this error instead of the real outcome. */
  error?: ApiErrorFault;
  /** Hold the request this long (ms) and then drop the connection without an answer: set it past the SDK timeout. */
  hangMs?: number;
  /**
   * With `error` or `hangMs`: carry out the call first, so that the money moves although the caller sees a
   * failure — the "unknown outcome" of ALIPAY.md §4.16 that must be resolved with a query.
   */
  applyEffect?: boolean;
  /**
   * `alipay.trade.pay` only: answer 10003 (' order success pay inprocess') with a trade_no and leave the trade
   * WAIT_BUYER_PAY. With `completeAfterMs` the buyer "confirms" after that many ms: the trade then succeeds
   * (or closes, with outcome `close`) and the notification is sent.
   */
  payInProcess?: { completeAfterMs?: number; outcome?: 'success' | 'close' };
}

export type NotifyFaultAction = 'duplicate' | 'reorder' | 'delay' | 'drop' | 'tamper';

export interface NotifyFaultSpec extends FaultSelector {
  /** `trade_status_sync`, `dut_user_sign`, `dut_user_unsign`, or `*` (default). */
  notifyType?: string;
  action: NotifyFaultAction;
  /** duplicate: copies of the first attempt sent at once (default 2). */
  copies?: number;
  /** delay: real ms before the first attempt. */
  delayMs?: number;
  /** reorder: longest real ms to hold the notification while waiting for a later one to overtake it (default 2000). */
  holdMs?: number;
  /** drop / tamper: how many attempts are affected, counted from the first (default: all of them). */
  attempts?: number;
}

interface RuleState extends FaultSelector {
  id: string;
  remaining?: number;
  hits: number;
  random: () => number;
}

export type ApiFaultRule = ApiFaultSpec & RuleState;
export type NotifyFaultRule = NotifyFaultSpec & RuleState;

/** mulberry32: a tiny seeded PRNG, so that a rate fault can be replayed exactly. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function ruleState(spec: FaultSelector): RuleState {
  const remaining = spec.times ?? (spec.rate === undefined ? 1 : undefined);
  return {
    id: randomUUID(),
    remaining,
    hits: 0,
    random: spec.seed === undefined ? Math.random : seededRandom(spec.seed),
  };
}

function fires(rule: RuleState): boolean {
  if (rule.remaining !== undefined && rule.remaining <= 0) return false;
  if (rule.rate !== undefined && rule.random() >= rule.rate) return false;
  if (rule.remaining !== undefined) rule.remaining--;
  rule.hits++;
  return true;
}

export class FaultBook {
  private apiRules: ApiFaultRule[] = [];
  private notifyRules: NotifyFaultRule[] = [];

  addApiFault(spec: ApiFaultSpec): ApiFaultRule {
    const rule: ApiFaultRule = { ...spec, ...ruleState(spec) };
    this.apiRules.push(rule);
    return rule;
  }

  addNotifyFault(spec: NotifyFaultSpec): NotifyFaultRule {
    const rule: NotifyFaultRule = { ...spec, ...ruleState(spec) };
    this.notifyRules.push(rule);
    return rule;
  }

  /** The first rule for this method that fires now, if any. Cheap when no faults are set. */
  takeApiFault(method: string): ApiFaultRule | undefined {
    if (this.apiRules.length === 0) return undefined;
    const rule = this.apiRules.find((r) => (r.method === method || r.method === '*') && fires(r));
    this.apiRules = this.apiRules.filter((r) => r.remaining === undefined || r.remaining > 0);
    return rule;
  }

  takeNotifyFault(notifyType: string): NotifyFaultRule | undefined {
    if (this.notifyRules.length === 0) return undefined;
    const rule = this.notifyRules.find(
      (r) => (r.notifyType === undefined || r.notifyType === '*' || r.notifyType === notifyType) && fires(r),
    );
    this.notifyRules = this.notifyRules.filter((r) => r.remaining === undefined || r.remaining > 0);
    return rule;
  }

  list(): { api: ApiFaultRule[]; notify: NotifyFaultRule[] } {
    return { api: [...this.apiRules], notify: [...this.notifyRules] };
  }

  remove(id: string): boolean {
    const before = this.apiRules.length + this.notifyRules.length;
    this.apiRules = this.apiRules.filter((r) => r.id !== id);
    this.notifyRules = this.notifyRules.filter((r) => r.id !== id);
    return this.apiRules.length + this.notifyRules.length < before;
  }

  clear(): void {
    this.apiRules = [];
    this.notifyRules = [];
  }
}
