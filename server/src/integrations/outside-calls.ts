/**
 * What an integration tells about each call it made to the outside world, for the admins' order timeline
 * (issue 13). Integrations only report; whoever listens (domain/orders/call-recorder.ts, wired in server.ts)
 * decides what to keep, so nothing here knows of the database. A call is reported only when it carries one of
 * our order numbers (`reference`: the out_trade_no, the refund's trade, the agreement's external number, the
 * recharge's flow number).
 */
export interface OutsideCall {
  system: 'ALIPAY' | 'CARDSYS';
  /** `alipay.trade.pay`, `recharge`, … */
  operation: string;
  reference: string;
  /** OK, or how it failed: UNKNOWN, PENDING, RETRYABLE, FINAL. */
  outcome: 'OK' | 'UNKNOWN' | 'PENDING' | 'RETRYABLE' | 'FINAL';
  /** Alipay's code (10000, 40004, NETWORK…) or the card system's error code. */
  code: string | null;
  /** Alipay's sub_code or the card system's reason. */
  subCode: string | null;
  startedAt: Date;
  durationMs: number;
}

/** Called synchronously after each call; must not throw and must not block. */
export type OutsideCallObserver = (call: OutsideCall) => void;
