import type { BindingView, RechargeView, SchoolView } from '../../../../shared/api.js';
import type { BindingWithSchool } from '../../db/repos/cards/bindings.js';
import type { RechargeRow } from '../../db/repos/recharge/recharges.js';
import type { SchoolRow } from '../../db/repos/schools/schools.js';

/** Rows → the shapes of shared/api.ts. Secrets and internal columns never leave through here. */

export function schoolView(school: SchoolRow, hasRoster: boolean): SchoolView {
  return {
    id: school.id,
    code: school.code,
    name: school.name,
    rechargeMinFen: school.rechargeMinFen,
    rechargeMaxFen: school.rechargeMaxFen,
    withholdingEnabled: school.withholdingEnabled,
    txnLimitFen: school.txnLimitFen,
    dailyLimitFen: school.dailyLimitFen,
    bindProof: hasRoster ? 'ROSTER' : 'STUDENT_NO',
  };
}

export function bindingView(binding: BindingWithSchool): BindingView {
  return {
    id: binding.id,
    school: { id: binding.schoolId, name: binding.schoolName },
    cardNo: binding.cardNo,
    holderName: binding.holderName,
    identity: binding.identity === 'STUDENT' || binding.identity === 'STAFF' ? binding.identity : null,
    relation: binding.relation,
    status: binding.status,
    approval: binding.approval,
    proof: binding.proof,
    isWithholdingPayer: binding.isWithholdingPayer,
    lowBalanceFen: binding.lowBalanceFen,
    createdAt: binding.createdAt.toISOString(),
  };
}

export function rechargeView(order: RechargeRow): RechargeView {
  return {
    id: order.id,
    outTradeNo: order.outTradeNo,
    tradeNo: order.alipayTradeNo,
    bindingId: order.bindingId,
    cardNo: order.cardNo,
    amountFen: order.amountFen,
    status: order.status,
    createdAt: order.createdAt.toISOString(),
    paidAt: order.paidAt?.toISOString() ?? null,
    creditedAt: order.creditedAt?.toISOString() ?? null,
  };
}
