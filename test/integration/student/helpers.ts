import assert from 'node:assert/strict';
import { findBinding } from '../../../server/src/db/repos/cards/bindings.js';
import { insertRecharge } from '../../../server/src/db/repos/recharge/recharges.js';
import type { rechargeOrders } from '../../../server/src/db/schema.js';
import { newOrderNo } from '../../../server/src/lib/ids.js';
import { eventually } from '../../support/http.js';
import type { Stack, StackUser } from '../../support/stack.js';

export type Api = Awaited<ReturnType<StackUser['login']>>;

/** A logged-in user with one bound card of the stack's school (or of `school`). */
export async function userWithCard(
  stack: Stack,
  options: { balanceFen?: number; cardBalanceFen?: number; school?: { id: string; code: string } } = {},
) {
  const school = options.school ?? stack.school;
  const user = await stack.createUser(options.balanceFen ?? 100_000);
  const api = await user.login();
  const card = await stack.createCard({
    balanceFen: options.cardBalanceFen ?? 1_000,
    schoolCode: school.code,
  });
  const res = await api.post('/api/v1/bindings', {
    schoolId: school.id,
    cardNo: card.cardNo,
    name: card.holderName,
    relation: 'SELF',
    studentNo: card.studentNo,
  });
  assert.equal(res.status, 201, res.text);
  return { user, api, card, bindingId: res.body.id as string };
}

export async function rechargeStatus(api: Api, orderId: string): Promise<string> {
  return (await api.get(`/api/v1/recharges/${orderId}`)).body.status;
}

export async function waitForRecharge(api: Api, orderId: string, status: string, timeoutMs = 10_000) {
  return eventually(
    async () => {
      const res = await api.get(`/api/v1/recharges/${orderId}`);
      return res.body.status === status ? res.body : undefined;
    },
    { timeoutMs, message: `recharge ${orderId} never became ${status}` },
  );
}

/** The card system's recharge records for one of our order numbers: exactly one means credited once. */
export async function vendorCreditsFor(stack: Stack, cardNo: string, outTradeNo: string) {
  const records = await stack.cardsys.control.getRecords(stack.school.code, cardNo);
  return records.filter((r) => r.type === 'RECHARGE' && r.refNo === outTradeNo);
}

/**
 * A recharge order of the binding's card written straight into the table, its status and times chosen by the
 * test (the statements that move orders in batches, asked directly).
 */
export async function insertedRecharge(
  stack: Stack,
  bindingId: string,
  order: Omit<
    typeof rechargeOrders.$inferInsert,
    'outTradeNo' | 'schoolId' | 'userId' | 'bindingId' | 'cardNo'
  >,
) {
  const binding = (await findBinding(stack.app.deps.db, bindingId))!;
  return insertRecharge(stack.app.deps.db, {
    outTradeNo: newOrderNo('recharge'),
    schoolId: binding.schoolId,
    userId: binding.userId,
    bindingId,
    cardNo: binding.cardNo,
    ...order,
  });
}
