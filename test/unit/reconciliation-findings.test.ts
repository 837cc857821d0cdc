import assert from 'node:assert/strict';
import type { PaymentMismatch, RefundMismatch } from '../../server/src/db/repos/reconciliation/matching.js';
import {
  FINDING_KINDS,
  findingKey,
  paymentFinding,
  refundFinding,
  REPAIRS_BY_ACTION,
  vendorFinding,
} from '../../server/src/domain/reconciliation/findings.js';

const base = { schoolId: 'school-1', billDate: '2026-12-06' };
const DEDUCTION_NO = `D${'1'.repeat(30)}`;

function payment(fields: Partial<PaymentMismatch>): PaymentMismatch {
  return {
    side: 'BILL',
    outTradeNo: 'R202612060000000000000000000001',
    tradeNo: '2026120622001',
    recordKind: 'RECHARGE',
    status: 'PAID',
    isPaid: true,
    oursFen: 1_000,
    alipayFen: 1_000,
    cardNo: '100200',
    oursRoyaltyFen: null,
    alipayRoyaltyFen: null,
    ...fields,
  };
}

function refund(fields: Partial<RefundMismatch>): RefundMismatch {
  return {
    side: 'BILL',
    outTradeNo: 'T1Q',
    outRequestNo: 'T1D',
    tradeNo: '2026120622002',
    status: 'SUCCEEDED',
    oursFen: 300,
    alipayFen: 300,
    oursRoyaltyFen: 90,
    alipayRoyaltyFen: 90,
    ...fields,
  };
}

/**
 * What each difference of the daily reconciliation means and which repair it takes (issue 17; issue 20's
 * mutation testing): the platform never reverses money on its own, so everything but a lost payment and a
 * missing credit is for a person.
 */
describe('reconciliation findings: what a difference means and what repairs it', () => {
  it('takes apply-payment only for a lost payment, re-credit only for a missing credit, mark-handled always', () => {
    assert.deepEqual(REPAIRS_BY_ACTION, {
      APPLY_PAYMENT: ['apply-payment', 'mark-handled'],
      RECREDIT: ['re-credit', 'mark-handled'],
      INVESTIGATE: ['mark-handled'],
      ESCALATE: ['mark-handled'],
    });
    const actions = Object.fromEntries(Object.entries(FINDING_KINDS).map(([kind, k]) => [kind, k.action]));
    assert.deepEqual(actions, {
      PAID_NOT_RECORDED: 'APPLY_PAYMENT',
      UNKNOWN_TRADE: 'INVESTIGATE',
      UNKNOWN_DEDUCTION: 'INVESTIGATE',
      MISSING_AT_ALIPAY: 'INVESTIGATE',
      AMOUNT_DIFFERS: 'INVESTIGATE',
      ROYALTY_DIFFERS: 'INVESTIGATE',
      SUPERSEDED_PAID: 'INVESTIGATE',
      REFUND_UNKNOWN: 'INVESTIGATE',
      REFUND_MISSING_AT_ALIPAY: 'INVESTIGATE',
      REFUND_AMOUNT_DIFFERS: 'INVESTIGATE',
      REFUND_ROYALTY_DIFFERS: 'INVESTIGATE',
      NOT_CREDITED: 'RECREDIT',
      CREDITED_TWICE: 'ESCALATE',
      VENDOR_AMOUNT_DIFFERS: 'ESCALATE',
    });
    // The admins read each kind by its title: one of its own for every kind.
    const titles = Object.values(FINDING_KINDS).map((k) => k.title);
    assert.ok(
      titles.every((t) => /[\u4e00-\u9fff]/.test(t)),
      'every title says it in Chinese',
    );
    assert.equal(new Set(titles).size, titles.length);
  });

  it('calls a payment only we hold MISSING_AT_ALIPAY, with both amounts and the record', () => {
    const f = paymentFinding(base, payment({ side: 'OURS', alipayFen: null, tradeNo: null }));
    assert.deepEqual(f, {
      ...base,
      kind: 'MISSING_AT_ALIPAY',
      action: 'INVESTIGATE',
      ref: 'R202612060000000000000000000001',
      outTradeNo: 'R202612060000000000000000000001',
      tradeNo: null,
      cardNo: '100200',
      recordKind: 'RECHARGE',
      oursFen: 1_000,
      alipayFen: null,
    });
  });

  it('calls a trade of Alipay nobody here made UNKNOWN_DEDUCTION when it bears a withholding number, else UNKNOWN_TRADE', () => {
    const unknown = payment({ recordKind: null, status: null, isPaid: null, oursFen: null });
    assert.deepEqual(
      [
        paymentFinding(base, { ...unknown, outTradeNo: DEDUCTION_NO }).kind,
        paymentFinding(base, { ...unknown, outTradeNo: DEDUCTION_NO }).recordKind,
      ],
      ['UNKNOWN_DEDUCTION', 'DEDUCTION'],
    );
    for (const renumbered of [`${DEDUCTION_NO}_2`, `${DEDUCTION_NO}_12`])
      assert.equal(paymentFinding(base, { ...unknown, outTradeNo: renumbered }).kind, 'UNKNOWN_DEDUCTION');
    for (const other of [
      `${DEDUCTION_NO}X`,
      `X${DEDUCTION_NO}`,
      `D${'1'.repeat(29)}`,
      `${DEDUCTION_NO}_`,
      'P1',
    ]) {
      const f = paymentFinding(base, { ...unknown, outTradeNo: other });
      assert.deepEqual([f.kind, f.recordKind], ['UNKNOWN_TRADE', 'UNKNOWN'], other);
    }
  });

  it('calls a renumbered charge Alipay kept SUPERSEDED_PAID, before asking whether it is paid', () => {
    const f = paymentFinding(base, payment({ recordKind: 'DEDUCTION', status: 'SUPERSEDED', isPaid: false }));
    assert.equal(f.kind, 'SUPERSEDED_PAID');
  });

  it('offers apply-payment for a payment we missed only where its kind can settle it', () => {
    const missed = paymentFinding(base, payment({ isPaid: false, status: 'CREATED' }));
    assert.deepEqual([missed.kind, missed.action], ['PAID_NOT_RECORDED', 'APPLY_PAYMENT']);
    const terminal = paymentFinding(base, payment({ isPaid: false, recordKind: 'TERMINAL' }));
    assert.equal(terminal.action, 'APPLY_PAYMENT');
    // A campus-code payment is charged by us; a paid trade we do not hold as paid is for a person.
    const campus = paymentFinding(base, payment({ isPaid: false, recordKind: 'CAMPUS_CODE' }));
    assert.deepEqual([campus.kind, campus.action], ['PAID_NOT_RECORDED', 'INVESTIGATE']);
    // A kind no source knows cannot be settled either.
    const unknownKind = paymentFinding(base, payment({ isPaid: false, recordKind: 'SOMETHING_ELSE' }));
    assert.deepEqual([unknownKind.kind, unknownKind.action], ['PAID_NOT_RECORDED', 'INVESTIGATE']);
  });

  it('calls other amounts AMOUNT_DIFFERS, and the same amount with another royalty ROYALTY_DIFFERS in royalty fen', () => {
    const amount = paymentFinding(base, payment({ oursFen: 1_000, alipayFen: 1_001 }));
    assert.deepEqual([amount.kind, amount.oursFen, amount.alipayFen], ['AMOUNT_DIFFERS', 1_000, 1_001]);
    const royalty = paymentFinding(
      base,
      payment({ recordKind: 'TERMINAL', oursRoyaltyFen: 360, alipayRoyaltyFen: 300 }),
    );
    assert.deepEqual([royalty.kind, royalty.oursFen, royalty.alipayFen], ['ROYALTY_DIFFERS', 360, 300]);
  });

  it('names refunds by trade and request number, and tells their differences apart', () => {
    const missing = refundFinding(base, refund({ side: 'OURS' }));
    assert.deepEqual(missing, {
      ...base,
      kind: 'REFUND_MISSING_AT_ALIPAY',
      action: 'INVESTIGATE',
      ref: 'T1Q/T1D',
      outTradeNo: 'T1Q',
      tradeNo: '2026120622002',
      cardNo: null,
      recordKind: 'REFUND',
      oursFen: 300,
      alipayFen: 300,
    });
    assert.equal(refundFinding(base, refund({ status: 'PENDING' })).kind, 'REFUND_UNKNOWN');
    assert.equal(refundFinding(base, refund({ status: null, oursFen: null })).kind, 'REFUND_UNKNOWN');
    const amount = refundFinding(base, refund({ alipayFen: 299 }));
    assert.deepEqual([amount.kind, amount.oursFen, amount.alipayFen], ['REFUND_AMOUNT_DIFFERS', 300, 299]);
    const royalty = refundFinding(base, refund({ oursRoyaltyFen: 90, alipayRoyaltyFen: 89 }));
    assert.deepEqual([royalty.kind, royalty.oursFen, royalty.alipayFen], ['REFUND_ROYALTY_DIFFERS', 90, 89]);
  });

  it('compares a credited recharge with the vendor’s credits: none, twice, another amount, or fine', () => {
    const order = { outTradeNo: 'R1', cardNo: '100200', amountFen: 5_000 };
    const none = vendorFinding(base, order, []);
    assert.deepEqual(none, {
      ...base,
      kind: 'NOT_CREDITED',
      action: 'RECREDIT',
      ref: 'R1',
      outTradeNo: 'R1',
      tradeNo: null,
      cardNo: '100200',
      recordKind: 'RECHARGE',
      oursFen: 5_000,
      alipayFen: 5_000,
      vendorFen: 0,
    });
    const twice = vendorFinding(base, order, [5_000, 5_000]);
    assert.deepEqual([twice?.kind, twice?.action, twice?.vendorFen], ['CREDITED_TWICE', 'ESCALATE', 10_000]);
    const other = vendorFinding(base, order, [4_999]);
    assert.deepEqual([other?.kind, other?.vendorFen], ['VENDOR_AMOUNT_DIFFERS', 4_999]);
    assert.equal(vendorFinding(base, order, [5_000]), null);
  });

  it('keys a finding by kind and reference, so a rerun finds it again', () => {
    assert.equal(findingKey({ kind: 'NOT_CREDITED', ref: 'R1' }), 'NOT_CREDITED|R1');
  });
});
