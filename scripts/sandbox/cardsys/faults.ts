/**
 * Faults injected on demand into the SOAP endpoint, matched per school and operation. A rule fires for
 * its next `times` matching calls, or for every call until cleared when `times` is absent.
 */
import type { CardServiceOperation } from './wsdl.js';

export type FaultKind =
  /** Answer with a SOAP fault instead of running the operation. */
  | 'SOAP_FAULT'
  /** Run the operation, then hold the answer for `latencyMs` (the effect happens even if the caller gives up). */
  | 'LATENCY'
  /** Answer HTTP 503 with an HTML page, as a load balancer in front of a dead vendor would. */
  | 'HTTP_503'
  /** Accept the request and never answer. */
  | 'HANG'
  /** Drop the connection without an answer (the caller sees a reset / socket hang up). */
  | 'RESET';

export interface FaultSpec {
  /** Absent: every school. */
  schoolCode?: string;
  /** Absent or '*': every operation. */
  operation?: CardServiceOperation | '*';
  kind: FaultKind;
  /** Absent: until cleared. */
  times?: number;
  latencyMs?: number;
  /** SOAP_FAULT only: soap:Server (default) or soap:Client. */
  faultCode?: 'soap:Server' | 'soap:Client';
  /** SOAP_FAULT only: the vendor error code in the fault detail (default SYSTEM_BUSY). */
  vendorCode?: string;
  message?: string;
}

export interface FaultRule extends Required<Pick<FaultSpec, 'kind' | 'operation'>> {
  id: string;
  schoolCode: string | null;
  remaining: number | null;
  latencyMs: number;
  faultCode: 'soap:Server' | 'soap:Client';
  vendorCode: string;
  message: string;
  hits: number;
}

export class FaultBook {
  private rules: FaultRule[] = [];
  private seq = 0;

  add(spec: FaultSpec): FaultRule {
    const rule: FaultRule = {
      id: `F${++this.seq}`,
      schoolCode: spec.schoolCode ?? null,
      operation: spec.operation ?? '*',
      kind: spec.kind,
      remaining: spec.times ?? null,
      latencyMs: spec.latencyMs ?? 0,
      faultCode: spec.faultCode ?? 'soap:Server',
      vendorCode: spec.vendorCode ?? 'SYSTEM_BUSY',
      message: spec.message ?? '系统繁忙，请稍后再试',
      hits: 0,
    };
    this.rules.push(rule);
    return { ...rule };
  }

  list(): FaultRule[] {
    return this.rules.map((rule) => ({ ...rule }));
  }

  remove(id: string): boolean {
    const before = this.rules.length;
    this.rules = this.rules.filter((rule) => rule.id !== id);
    return this.rules.length < before;
  }

  clear(): void {
    this.rules = [];
  }

  /** The first live rule for this call, consumed by one. Exhausted rules are dropped. */
  take(schoolCode: string, operation: string): FaultRule | undefined {
    const rule = this.rules.find(
      (r) =>
        (r.schoolCode === null || r.schoolCode === schoolCode) &&
        (r.operation === '*' || r.operation === operation) &&
        (r.remaining === null || r.remaining > 0),
    );
    if (!rule) return undefined;
    rule.hits += 1;
    if (rule.remaining !== null) {
      rule.remaining -= 1;
      if (rule.remaining === 0) this.remove(rule.id);
    }
    return { ...rule };
  }
}
