import type {
  KindTotal,
  PaymentMismatch,
  RechargeToCheck,
  RefundMismatch,
} from '../../db/repos/reconciliation/matching.js';

/**
 * A day's totals per kind (issue 17): ours, Alipay's, the vendor's (recharges only), and the difference.
 * Ours = our amounts for the bill's rows we hold as paid, plus what we hold as paid that day and no bill
 * has; so every fen of difference is a row of one side without its twin, and has a finding. Refunds are
 * positive amounts. Fees (服务费, negative) are Alipay's figures, shown as charged (the platform holds no fee
 * of its own to compare them with). Royalty (分润) is shown both ways, signed as the bill signs it (refund
 * rows: negative, taken back from the operator); each row whose royalty differs has a finding.
 */
export interface KindFigures {
  kind: string;
  rows: number;
  oursFen: number;
  alipayFen: number;
  /** Recharges: what the vendor credited for them; null for kinds the vendor does not see. */
  vendorFen: number | null;
  differenceFen: number;
  feeFen: number;
  /** Alipay's royalty (分润) and ours, for the same rows plus ours missing from the bill. */
  royaltyFen: number;
  oursRoyaltyFen: number;
}

export interface DayTotals {
  kinds: KindFigures[];
  all: {
    oursFen: number;
    alipayFen: number;
    differenceFen: number;
    feeFen: number;
    royaltyFen: number;
    oursRoyaltyFen: number;
  };
  vendor: { oursFen: number; vendorFen: number; differenceFen: number; uncheckedCards: number };
}

export function dayTotals(input: {
  byKind: readonly KindTotal[];
  missingAtAlipay: ReadonlyArray<PaymentMismatch | RefundMismatch>;
  refundsMissing: readonly RefundMismatch[];
  recharges: readonly RechargeToCheck[];
  vendorCredits: ReadonlyMap<string, number[]>;
  uncheckedCards: number;
}): DayTotals {
  const kinds = new Map<string, KindFigures>();
  const figures = (kind: string) => {
    let entry = kinds.get(kind);
    if (!entry) {
      entry = {
        kind,
        rows: 0,
        oursFen: 0,
        alipayFen: 0,
        vendorFen: null,
        differenceFen: 0,
        feeFen: 0,
        royaltyFen: 0,
        oursRoyaltyFen: 0,
      };
      kinds.set(kind, entry);
    }
    return entry;
  };
  for (const t of input.byKind) {
    const entry = figures(t.isRefund ? 'REFUND' : t.kind);
    const sign = t.isRefund ? -1 : 1;
    entry.rows += t.rows;
    entry.alipayFen += sign * t.alipayFen;
    entry.oursFen += sign * t.oursMatchedFen;
    entry.feeFen += t.feeFen;
    entry.royaltyFen += t.royaltyFen;
    entry.oursRoyaltyFen += t.oursRoyaltyFen;
  }
  const refundKeys = new Set(input.refundsMissing.map((m) => `${m.outTradeNo}/${m.outRequestNo}`));
  for (const m of input.missingAtAlipay) {
    const isRefund = 'outRequestNo' in m && refundKeys.has(`${m.outTradeNo}/${m.outRequestNo}`);
    const kind = isRefund ? 'REFUND' : ((m as PaymentMismatch).recordKind ?? 'UNKNOWN');
    figures(kind).oursFen += m.oursFen ?? 0;
    figures(kind).oursRoyaltyFen += (isRefund ? -1 : 1) * (m.oursRoyaltyFen ?? 0);
  }
  const vendorOurs = input.recharges.reduce((sum, r) => sum + r.amountFen, 0);
  let vendorFen = 0;
  for (const r of input.recharges)
    for (const fen of input.vendorCredits.get(r.outTradeNo) ?? []) vendorFen += fen;
  if (input.recharges.length > 0) figures('RECHARGE').vendorFen = vendorFen;
  const list = [...kinds.values()].sort((a, b) => a.kind.localeCompare(b.kind));
  for (const entry of list) entry.differenceFen = entry.oursFen - entry.alipayFen;
  const sum = (pick: (k: KindFigures) => number, only = (k: KindFigures) => k.kind !== 'REFUND') =>
    list.filter(only).reduce((total, k) => total + pick(k), 0);
  const refund = kinds.get('REFUND');
  const oursFen = sum((k) => k.oursFen) - (refund?.oursFen ?? 0);
  const alipayFen = sum((k) => k.alipayFen) - (refund?.alipayFen ?? 0);
  return {
    kinds: list,
    all: {
      oursFen,
      alipayFen,
      differenceFen: oursFen - alipayFen,
      feeFen: sum(
        (k) => k.feeFen,
        () => true,
      ),
      royaltyFen: sum(
        (k) => k.royaltyFen,
        () => true,
      ),
      oursRoyaltyFen: sum(
        (k) => k.oursRoyaltyFen,
        () => true,
      ),
    },
    vendor: {
      oursFen: vendorOurs,
      vendorFen,
      differenceFen: vendorOurs - vendorFen,
      uncheckedCards: input.uncheckedCards,
    },
  };
}
