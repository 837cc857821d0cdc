import { allocate } from '../../../../shared/money.js';

/**
 * The operator's share of a terminal's money (seed 002 "分润"; README "Terminals"), computed in one place and
 * always through `allocate`, so that no fen is lost or invented. Rounding rule: the operator gets the floor
 * of its share, the remainder stays with the school.
 *
 * - A basis-point rule gives floor(amount × bps / 10000); a fixed rule gives the fixed fen, at most the whole
 *   amount.
 * - When part of an order is refunded, the operator's share shrinks in proportion: after `refundedFen` of
 *   `amountFen` came back, the operator has returned floor(share × refunded / amount) in all — the same
 *   proportional rule Alipay itself applies to 当面付 refunds (ALIPAY-M2.md §2), so our records and Alipay's
 *   agree to the fen, and a whole refund returns the whole share.
 */

export interface RoyaltyRule {
  bps: number | null;
  fixedFen: number | null;
}

const SCHOOL = 1;

/** The operator's share of an order of `amountFen`; 0 when the rule gives nothing. */
export function royaltyShareOf(amountFen: number, rule: RoyaltyRule): number {
  if (rule.bps === 10_000) return amountFen;
  if (rule.bps !== null)
    return allocate(amountFen, [rule.bps, 10_000 - rule.bps], { remainderTo: [SCHOOL] })[0];
  if (rule.fixedFen !== null) return Math.min(rule.fixedFen, amountFen);
  return 0;
}

/** Of a share `shareFen` of `amountFen`, what the operator keeps when only `keptFen` of the order stays paid. */
export function shareOfKept(shareFen: number, amountFen: number, keptFen: number): number {
  // Stryker disable next-line ConditionalExpression,LogicalOperator: equivalent — a shortcut: allocate gives a share of 0 nothing and splits 0 kept fen into 0s, and a share of the whole order returns before allocate (next line)
  if (shareFen === 0 || keptFen === 0) return 0;
  if (shareFen === amountFen) return keptFen;
  return allocate(keptFen, [shareFen, amountFen - shareFen], { remainderTo: [SCHOOL] })[0];
}

/**
 * How much of the operator's share a refund must take back, when `refundedBeforeFen` was refunded earlier and
 * this refund adds `refundFen`: the cumulative proportional share minus what earlier refunds already took.
 */
export function shareToReturn(
  shareFen: number,
  amountFen: number,
  refundedBeforeFen: number,
  refundFen: number,
): number {
  const returnedBy = (refundedFen: number) =>
    shareFen - shareOfKept(shareFen, amountFen, amountFen - refundedFen);
  return returnedBy(refundedBeforeFen + refundFen) - returnedBy(refundedBeforeFen);
}
