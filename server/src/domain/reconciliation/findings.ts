import type { NewFinding } from '../../db/repos/reconciliation/days.js';
import type { PaymentMismatch, RefundMismatch } from '../../db/repos/reconciliation/matching.js';
import { ORDER_PREFIXES } from '../../lib/ids.js';
import { recordSource } from './record-sources.js';

/**
 * What a difference between Alipay's bill, our records and the vendor's means, and what to do about it
 * (issue 17). Actions:
 * - APPLY_PAYMENT: Alipay has the payment and we missed it (a lost notification): settle it through the code
 *   the notification and the sweep use (repair `apply-payment`);
 * - RECREDIT: paid and credited here, no credit at the vendor: credit again with the same flow number, which
 *   the vendor credits once whatever happens (repair `re-credit`);
 * - INVESTIGATE: we hold money Alipay does not, or the amounts (or the operator's royalty share) differ: a
 *   person looks; never reversed by the platform, royalty included (repair `mark-handled`, with what was done);
 * - ESCALATE: the vendor credited twice or another amount: the card vendor must correct its books
 *   (repair `mark-handled`, with the vendor's ticket).
 */
export const FINDING_KINDS = {
  PAID_NOT_RECORDED: { action: 'APPLY_PAYMENT', title: '支付宝已收款，平台未记账' },
  UNKNOWN_TRADE: { action: 'INVESTIGATE', title: '支付宝账单中有平台不认识的交易' },
  UNKNOWN_DEDUCTION: {
    action: 'INVESTIGATE',
    title: '支付宝有代扣交易，平台没有这笔刷卡扣款（可能多扣了学生的钱）',
  },
  MISSING_AT_ALIPAY: { action: 'INVESTIGATE', title: '平台已收款，支付宝账单中没有' },
  AMOUNT_DIFFERS: { action: 'INVESTIGATE', title: '支付宝金额与平台不一致' },
  ROYALTY_DIFFERS: { action: 'INVESTIGATE', title: '分润金额不一致' },
  SUPERSEDED_PAID: {
    action: 'INVESTIGATE',
    title: '已撤销的扣款单号在支付宝收了款，且未退回（可能重复扣款）',
  },
  REFUND_UNKNOWN: { action: 'INVESTIGATE', title: '支付宝有退款，平台没有成功的退款' },
  REFUND_MISSING_AT_ALIPAY: { action: 'INVESTIGATE', title: '平台已退款，支付宝账单中没有' },
  REFUND_AMOUNT_DIFFERS: { action: 'INVESTIGATE', title: '退款金额不一致' },
  REFUND_ROYALTY_DIFFERS: { action: 'INVESTIGATE', title: '退款退回的分润金额不一致' },
  NOT_CREDITED: { action: 'RECREDIT', title: '已收款，一卡通没有这笔充值' },
  CREDITED_TWICE: { action: 'ESCALATE', title: '一卡通重复入账' },
  VENDOR_AMOUNT_DIFFERS: { action: 'ESCALATE', title: '一卡通入账金额不一致' },
} as const;

export type FindingKind = keyof typeof FINDING_KINDS;
export type FindingAction = (typeof FINDING_KINDS)[FindingKind]['action'];

/** The repairs an admin can run, by the action a finding calls for. */
export const REPAIRS_BY_ACTION: Record<FindingAction, readonly string[]> = {
  APPLY_PAYMENT: ['apply-payment', 'mark-handled'],
  RECREDIT: ['re-credit', 'mark-handled'],
  INVESTIGATE: ['mark-handled'],
  ESCALATE: ['mark-handled'],
};

function finding(
  base: { schoolId: string; billDate: string },
  kind: FindingKind,
  fields: Omit<NewFinding, 'schoolId' | 'billDate' | 'kind' | 'action' | 'ref'> & { ref?: string },
): NewFinding {
  return {
    ...base,
    kind,
    action: FINDING_KINDS[kind].action,
    ref: fields.ref ?? fields.outTradeNo,
    ...fields,
  };
}

/** Our withholding charges' out_trade_nos: the deduction's number (newOrderNo), renumbered `_<k>`. */
const DEDUCTION_TRADE_NO = new RegExp(`^${ORDER_PREFIXES.deduction}\\d{30}(_\\d+)?$`);

export function paymentFinding(base: { schoolId: string; billDate: string }, m: PaymentMismatch): NewFinding {
  const common = {
    outTradeNo: m.outTradeNo,
    tradeNo: m.tradeNo,
    cardNo: m.cardNo,
    recordKind: m.recordKind ?? 'UNKNOWN',
    oursFen: m.oursFen,
    alipayFen: m.alipayFen,
  };
  if (m.side === 'OURS') return finding(base, 'MISSING_AT_ALIPAY', common);
  if (m.recordKind === null) {
    // A number of the form we give withholding charges, that no deduction of ours carries: Alipay took a
    // student's money for a swipe we do not have.
    return DEDUCTION_TRADE_NO.test(m.outTradeNo)
      ? finding(base, 'UNKNOWN_DEDUCTION', { ...common, recordKind: 'DEDUCTION' })
      : finding(base, 'UNKNOWN_TRADE', common);
  }
  // An earlier number of a renumbered charge that Alipay kept (a cancelled one given back is no finding).
  if (m.status === 'SUPERSEDED') return finding(base, 'SUPERSEDED_PAID', common);
  if (!m.isPaid) {
    // Only kinds with a settling path get APPLY_PAYMENT; the others are looked at by a person.
    const canApply = recordSource(m.recordKind)?.applyPayment !== undefined;
    return canApply
      ? finding(base, 'PAID_NOT_RECORDED', common)
      : { ...finding(base, 'PAID_NOT_RECORDED', common), action: 'INVESTIGATE' };
  }
  if (m.oursFen !== m.alipayFen) return finding(base, 'AMOUNT_DIFFERS', common);
  // Same amount, another royalty: the amounts of the finding are the operator's shares.
  return finding(base, 'ROYALTY_DIFFERS', {
    ...common,
    oursFen: m.oursRoyaltyFen,
    alipayFen: m.alipayRoyaltyFen,
  });
}

export function refundFinding(base: { schoolId: string; billDate: string }, m: RefundMismatch): NewFinding {
  const common = {
    ref: `${m.outTradeNo}/${m.outRequestNo}`,
    outTradeNo: m.outTradeNo,
    tradeNo: m.tradeNo,
    cardNo: null,
    recordKind: 'REFUND',
    oursFen: m.oursFen,
    alipayFen: m.alipayFen,
  };
  if (m.side === 'OURS') return finding(base, 'REFUND_MISSING_AT_ALIPAY', common);
  if (m.status !== 'SUCCEEDED') return finding(base, 'REFUND_UNKNOWN', common);
  if (m.oursFen !== m.alipayFen) return finding(base, 'REFUND_AMOUNT_DIFFERS', common);
  return finding(base, 'REFUND_ROYALTY_DIFFERS', {
    ...common,
    oursFen: m.oursRoyaltyFen,
    alipayFen: m.alipayRoyaltyFen,
  });
}

export function vendorFinding(
  base: { schoolId: string; billDate: string },
  order: { outTradeNo: string; cardNo: string; amountFen: number },
  credits: readonly number[],
): NewFinding | null {
  const common = {
    outTradeNo: order.outTradeNo,
    tradeNo: null,
    cardNo: order.cardNo,
    recordKind: 'RECHARGE',
    oursFen: order.amountFen,
    alipayFen: order.amountFen,
    vendorFen: credits.reduce((sum, fen) => sum + fen, 0),
  };
  if (credits.length === 0) return finding(base, 'NOT_CREDITED', common);
  if (credits.length > 1) return finding(base, 'CREDITED_TWICE', common);
  if (credits[0] !== order.amountFen) return finding(base, 'VENDOR_AMOUNT_DIFFERS', common);
  return null;
}

export function findingKey(f: Pick<NewFinding, 'kind' | 'ref'>): string {
  return `${f.kind}|${f.ref}`;
}
