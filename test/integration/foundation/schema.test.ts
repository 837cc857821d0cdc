import assert from 'node:assert/strict';
import { eq } from 'drizzle-orm';
import { connectDatabase, type DatabaseHandle } from '../../../server/src/db/client.js';
import { DECLINE_REASONS } from '../../../shared/gateway-api.js';
import {
  bindings,
  CHARGE_STATES,
  DEDUCTION_DECISIONS,
  DEDUCTION_STATUSES,
  deductions,
  gatewayClients,
  CALLBACK_STATUSES,
  DISPENSE_RESULTS,
  rechargeOrders,
  schools,
  SETTLE_STATUSES,
  TERMINAL_ORDER_STATUSES,
  TERMINAL_PAYMENT_CHANNELS,
  TERMINAL_PAYMENT_STATUSES,
  terminalOrders,
  terminalPayments,
  terminals,
  users,
  withholdingAgreements,
} from '../../../server/src/db/schema.js';
import { freshDatabase } from '../../support/db.js';

/** Postgres error code and constraint name of a rejected write. */
async function rejection(write: Promise<unknown>): Promise<{ code: string; constraint?: string }> {
  try {
    await write;
  } catch (error) {
    const cause =
      (error as { cause?: { code: string; constraint?: string } }).cause ??
      (error as { code: string; constraint?: string });
    return { code: cause.code, constraint: cause.constraint };
  }
  assert.fail('the write was accepted');
}

describe('schema constraints that protect money', () => {
  let handle: DatabaseHandle;
  let schoolId: string;
  let userId: string;
  let bindingId: string;

  before(async () => {
    handle = connectDatabase(await freshDatabase());
    const [school] = await handle.db
      .insert(schools)
      .values({
        code: '4132010001',
        name: '示例大学',
        cardsysEndpoint: 'http://x',
        cardsysUsername: 'u',
        cardsysPasswordEnc: 'v1:x',
      })
      .returning();
    schoolId = school.id;
    const [user] = await handle.db.insert(users).values({ alipayOpenId: 'open-1' }).returning();
    userId = user.id;
    const [binding] = await handle.db
      .insert(bindings)
      .values({ schoolId, userId, cardNo: '20260001', holderName: '张三', relation: 'SELF' })
      .returning();
    bindingId = binding.id;
  });
  after(() => handle.close());

  const recharge = (outTradeNo: string, amountFen: number) => ({
    outTradeNo,
    schoolId,
    userId,
    bindingId,
    cardNo: '20260001',
    amountFen,
    expiresAt: new Date(),
  });

  it('keeps out_trade_no unique per table', async () => {
    await handle.db.insert(rechargeOrders).values(recharge('R1', 100));
    const { code, constraint } = await rejection(
      handle.db.insert(rechargeOrders).values(recharge('R1', 100)),
    );
    assert.equal(code, '23505');
    assert.equal(constraint, 'recharge_orders_out_trade_no_key');
  });

  it('refuses zero and negative amounts', async () => {
    for (const amount of [0, -100]) {
      const { constraint } = await rejection(
        handle.db.insert(rechargeOrders).values(recharge(`R-${amount}`, amount)),
      );
      assert.equal(constraint, 'recharge_orders_amount_positive');
    }
  });

  it('refuses a status outside the state machine', async () => {
    const { constraint } = await rejection(
      handle.db.insert(rechargeOrders).values({ ...recharge('R2', 100), status: 'MAYBE' as 'PAID' }),
    );
    assert.equal(constraint, 'recharge_orders_status_valid');
  });

  it('keeps one deduction per (school, txnNo)', async () => {
    const deduction = {
      schoolId,
      txnNo: 'T1',
      cardNo: '20260001',
      amountFen: 500,
      decision: 'APPROVED' as const,
      status: 'PENDING' as const,
    };
    await handle.db.insert(deductions).values({ ...deduction, deductionNo: 'D1' });
    const { constraint } = await rejection(
      handle.db.insert(deductions).values({ ...deduction, deductionNo: 'D2' }),
    );
    assert.equal(constraint, 'deductions_school_txn_key');
  });

  it('requires a decline reason exactly when a deduction is declined', async () => {
    const base = { schoolId, cardNo: '20260001', amountFen: 500, status: 'DECLINED' as const };
    const { constraint } = await rejection(
      handle.db.insert(deductions).values({ ...base, deductionNo: 'D3', txnNo: 'T3', decision: 'DECLINED' }),
    );
    assert.equal(constraint, 'deductions_decline_reason_valid');
  });

  it('refuses a deduction that breaks one of its checks, under that check name', async () => {
    const base = {
      schoolId,
      cardNo: '20260001',
      amountFen: 500,
      decision: 'APPROVED' as const,
      status: 'PENDING' as const,
    };
    const cases = [
      [{ status: 'PENDINGX' as 'PENDING' }, 'deductions_status_valid'],
      [{ decision: 'APPROVE' as 'APPROVED' }, 'deductions_decision_valid'],
      [
        {
          decision: 'DECLINED' as const,
          status: 'DECLINED' as const,
          declineReason: 'NOT_BOUNDX' as 'NOT_BOUND',
        },
        'deductions_decline_reason_valid',
      ],
      [{ chargeState: 'UNKNOWNX' as 'UNKNOWN' }, 'deductions_charge_state_valid'],
      [{ amountFen: 0 }, 'deductions_amount_positive'],
      [{ cardNo: null }, 'deductions_tombstone_shape'],
    ] as const;
    for (const [i, [change, expected]] of cases.entries()) {
      const { code, constraint } = await rejection(
        handle.db.insert(deductions).values({ ...base, ...change, deductionNo: `DX${i}`, txnNo: `TX${i}` }),
      );
      assert.deepEqual({ code, constraint }, { code: '23514', constraint: expected });
    }
  });

  // The checks' lists of values are written in migration 0029's functions: every value the code may write is
  // accepted there.
  it('accepts every deduction status, decision, decline reason and charge state the code knows', async () => {
    const base = { schoolId, cardNo: '20260001', amountFen: 500 };
    const rows = [
      ...DEDUCTION_STATUSES.map((status) => ({ status, decision: 'APPROVED' as const })),
      ...DECLINE_REASONS.map((declineReason) => ({
        status: 'DECLINED' as const,
        decision: 'DECLINED' as const,
        declineReason,
      })),
      ...CHARGE_STATES.map((chargeState) => ({
        status: 'PENDING' as const,
        decision: 'APPROVED' as const,
        chargeState,
      })),
    ];
    assert.deepEqual([...new Set(rows.map((row) => row.decision))].sort(), [...DEDUCTION_DECISIONS].sort());
    await handle.db
      .insert(deductions)
      .values(rows.map((row, i) => ({ ...base, ...row, deductionNo: `DK${i}`, txnNo: `TK${i}` })));
    // A reversal's tombstone: no amount, no card.
    await handle.db.insert(deductions).values({
      schoolId,
      txnNo: 'TK-tombstone',
      deductionNo: 'DK-tombstone',
      decision: 'DECLINED',
      declineReason: 'REVERSED',
      status: 'REVERSED',
    });
  });

  it('keeps one withholding payer per card', async () => {
    const [other] = await handle.db.insert(users).values({ alipayOpenId: 'open-2' }).returning();
    await handle.db.update(bindings).set({ isWithholdingPayer: true });
    const { constraint } = await rejection(
      handle.db.insert(bindings).values({
        schoolId,
        userId: other.id,
        cardNo: '20260001',
        holderName: '张三',
        relation: 'PARENT',
        isWithholdingPayer: true,
      }),
    );
    assert.equal(constraint, 'bindings_one_withholding_payer_per_card');
  });

  it('keeps one active agreement per user and school', async () => {
    const agreement = { schoolId, userId, signScene: 'INDUSTRY|CAMPUS', status: 'ACTIVE' as const };
    await handle.db.insert(withholdingAgreements).values({ ...agreement, externalAgreementNo: 'A1' });
    const { constraint } = await rejection(
      handle.db.insert(withholdingAgreements).values({ ...agreement, externalAgreementNo: 'A2' }),
    );
    assert.equal(constraint, 'withholding_agreements_one_active_per_user');
  });

  it('refuses rows that point at nothing', async () => {
    const { code } = await rejection(
      handle.db.insert(bindings).values({
        schoolId: '00000000-0000-0000-0000-000000000000',
        userId,
        cardNo: '1',
        holderName: 'x',
        relation: 'SELF',
      }),
    );
    assert.equal(code, '23503');
  });

  describe('terminal orders and their payments', () => {
    let terminalRef: string;
    before(async () => {
      await handle.db
        .insert(gatewayClients)
        .values({ id: 'schema-terminal', schoolId, name: 't', secretEnc: 'v1:x', kind: 'TERMINAL' });
      const [terminal] = await handle.db
        .insert(terminals)
        .values({
          schoolId,
          terminalId: 'VM-1',
          kind: 'VENDING',
          name: '售货机',
          gatewayClientId: 'schema-terminal',
        })
        .returning();
      terminalRef = terminal.id;
    });

    const order = (no: string, change: Partial<typeof terminalOrders.$inferInsert> = {}) =>
      handle.db.insert(terminalOrders).values({
        orderNo: no,
        schoolId,
        terminalRef,
        terminalId: 'VM-1',
        outOrderNo: no,
        requestHash: 'h',
        items: [],
        amountFen: 300,
        subject: '可乐',
        expiresAt: new Date(),
        ...change,
      });
    const payment = async (no: string, change: Partial<typeof terminalPayments.$inferInsert> = {}) => {
      const [{ id }] = await order(no).returning({ id: terminalOrders.id });
      return handle.db
        .insert(terminalPayments)
        .values({ orderId: id, schoolId, channel: 'QR', seq: 0, outTradeNo: `${no}Q`, ...change });
    };
    const refused = async (write: Promise<unknown>) => {
      const { code, constraint } = await rejection(write);
      return { code, constraint };
    };

    it("keeps every terminal order at its terminal and its terminal's school (one key for both)", async () => {
      const [otherSchool] = await handle.db
        .insert(schools)
        .values({
          code: '4132010002',
          name: '另一所大学',
          cardsysEndpoint: 'http://x',
          cardsysUsername: 'u',
          cardsysPasswordEnc: 'v1:x',
        })
        .returning();
      const byKey = { code: '23503', constraint: 'terminal_orders_terminal_school_fk' };
      assert.deepEqual(await refused(order('T1', { schoolId: otherSchool.id })), byKey);
      assert.deepEqual(
        await refused(order('T2', { terminalRef: '00000000-0000-0000-0000-000000000000' })),
        byKey,
      );
      await order('T3');
      assert.deepEqual(
        await refused(
          handle.db.update(terminals).set({ schoolId: otherSchool.id }).where(eq(terminals.id, terminalRef)),
        ),
        byKey,
      );
      assert.deepEqual(
        await refused(handle.db.delete(terminals).where(eq(terminals.id, terminalRef))),
        byKey,
      );
      assert.equal(
        (await rejection(handle.db.delete(schools).where(eq(schools.id, schoolId)))).code,
        '23503',
      );
    });

    // The checks' lists of values are written in migration 0032's functions: every value the code may write
    // is accepted there.
    it('accepts every order status, dispense result, callback and settle status, payment channel and status the code knows', async () => {
      const orders = [
        ...TERMINAL_ORDER_STATUSES.map((status) => ({ status })),
        ...DISPENSE_RESULTS.map((dispenseResult) => ({ status: 'PAID' as const, dispenseResult })),
        ...CALLBACK_STATUSES.map((callbackStatus) => ({ status: 'PAID' as const, callbackStatus })),
        ...SETTLE_STATUSES.map((settleStatus) => ({ status: 'PAID' as const, settleStatus })),
        { royaltyFen: 300 },
        { royaltyFen: 1 },
      ];
      for (const [i, change] of orders.entries()) await order(`TK${i}`, change);
      const payments = [
        ...TERMINAL_PAYMENT_CHANNELS.map((channel) => ({ channel })),
        ...TERMINAL_PAYMENT_STATUSES.map((status) => ({ status })),
      ];
      for (const [i, change] of payments.entries()) await payment(`TP${i}`, change);
    });

    it('refuses a terminal order or payment that breaks one of its checks, under that check name', async () => {
      const orders = [
        [{ amountFen: 0 }, 'terminal_orders_amount_positive'],
        [{ status: 'REFUNDED' as 'PAID' }, 'terminal_orders_status_valid'],
        [{ dispenseResult: 'DONE' as 'OK' }, 'terminal_orders_dispense_valid'],
        [{ callbackStatus: 'SENT' as 'PENDING' }, 'terminal_orders_callback_valid'],
        [{ settleStatus: 'DONE' as 'SENT' }, 'terminal_orders_settle_valid'],
        [{ royaltyFen: 301 }, 'terminal_orders_royalty_within_amount'],
        [{ royaltyFen: 0 }, 'terminal_orders_royalty_within_amount'],
      ] as const;
      for (const [i, [change, expected]] of orders.entries())
        assert.deepEqual(await refused(order(`TX${i}`, change)), { code: '23514', constraint: expected });
      const payments = [
        [{ channel: 'CARD' as 'QR' }, 'terminal_payments_channel_valid'],
        [{ status: 'REFUNDED' as 'PAID' }, 'terminal_payments_status_valid'],
      ] as const;
      for (const [i, [change, expected]] of payments.entries())
        assert.deepEqual(await refused(payment(`TY${i}`, change)), { code: '23514', constraint: expected });
      // An update is checked too: a paid order's callback status outside its list.
      const [{ id }] = await order('TZ').returning({ id: terminalOrders.id });
      assert.deepEqual(
        await refused(
          handle.db
            .update(terminalOrders)
            .set({ callbackStatus: 'LOST' as 'PENDING' })
            .where(eq(terminalOrders.id, id)),
        ),
        { code: '23514', constraint: 'terminal_orders_callback_valid' },
      );
    });
  });
});
