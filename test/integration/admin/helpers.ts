import assert from 'node:assert/strict';
import type { Stack } from '../../support/stack.js';
import { userWithCard, waitForRecharge } from '../student/helpers.js';
import { sale, waitForDeduction, type Gateway } from '../withholding/helpers.js';

/** What lands in the exceptions inbox, made the way it happens (issue 13): shared by the API and page tests. */

/** A paid recharge the card system refused for good (a frozen card): CREDIT_FAILED. */
export async function creditFailedRecharge(stack: Stack, amountFen = 1_500, timeoutMs = 10_000) {
  const payer = await userWithCard(stack);
  await stack.cardsys.control.setStatus(stack.school.code, payer.card.cardNo, 'FROZEN');
  const created = await payer.api.post('/api/v1/recharges', { bindingId: payer.bindingId, amountFen });
  assert.equal(created.status, 201, created.text);
  await stack.alipay.control.payTrade({ tradeNO: created.body.tradeNo, userId: payer.user.userId });
  await waitForRecharge(payer.api, created.body.id, 'CREDIT_FAILED', timeoutMs);
  const { rows } = await stack.app.deps.pool.query('select out_trade_no from recharge_orders where id = $1', [
    created.body.id,
  ]);
  return {
    ...payer,
    orderId: created.body.id as string,
    tradeNo: created.body.tradeNo as string,
    outTradeNo: rows[0].out_trade_no as string,
  };
}

/** A swipe of `payer` (signed for withholding, nothing to pay with) that Alipay could not charge through the whole retry schedule: ARREARS. */
export async function arrearsOf(
  stack: Stack,
  gateway: Gateway,
  payer: { card: { cardNo: string } },
  amountFen: number,
) {
  const res = await gateway.deduct(sale(payer.card.cardNo, amountFen));
  assert.equal(res.body.decision, 'APPROVED', res.text);
  await waitForDeduction(gateway, res.body.txnNo, 'ARREARS');
  const { rows } = await stack.app.deps.pool.query(
    'select id from deductions where school_id = $1 and txn_no = $2',
    [stack.school.id, res.body.txnNo],
  );
  return {
    txnNo: res.body.txnNo as string,
    deductionNo: res.body.deductionId as string,
    id: rows[0].id as string,
  };
}
