import {
  findRefundOfCard,
  findRepaymentOfCard,
  listApprovedDeductionsOfCard,
  listRefundsOfCard,
  listRepaymentsOfCard,
  type CardRepayment,
} from '../../db/repos/withholding/card-records.js';
import { findDeduction, listAttempts, type DeductionRow } from '../../db/repos/withholding/deductions.js';
import type { RefundRow } from '../../db/repos/withholding/refunds.js';
import type { Deps } from '../../deps.js';
import { placeNames } from '../cards/statement/places.js';
import { isUuid, step, type SourcedEntry, type StatementSource } from '../cards/statement/sources.js';

/**
 * Withholding on a card's statement: the swipes the platform approved (paid from Alipay, not the card
 * balance) with their collection state; the repayments that settled them; refunds of reversed swipes.
 */

async function swipeEntries(deps: Deps, rows: DeductionRow[]): Promise<SourcedEntry[]> {
  const place = await placeNames(deps.db, rows);
  return rows.map((row) => ({
    id: `deduction:${row.id}`,
    occurredAt: (row.occurredAt ?? row.createdAt).toISOString(),
    kind: 'WITHHOLDING',
    amountFen: -(row.amountFen ?? 0),
    balanceAfterFen: null,
    place: place(row),
    status: row.status,
    orderNo: row.deductionNo,
    // The POS records the sale under its txnNo.
    references: [row.txnNo],
  }));
}

export const withholdingStatementSource: StatementSource = {
  name: 'deduction',

  async entries(deps, card, window) {
    return swipeEntries(deps, await listApprovedDeductionsOfCard(deps.db, card, window.from, window.to));
  },

  async receipt(deps, card, key) {
    const row = isUuid(key) ? await findDeduction(deps.db, key) : undefined;
    if (!row || row.schoolId !== card.schoolId || row.cardNo !== card.cardNo || row.decision !== 'APPROVED')
      return null;
    const [entry] = await swipeEntries(deps, [row]);
    const attempts = await listAttempts(deps.db, row.id);
    // A repaid swipe was in arrears first (a repayment takes only owed swipes): when its last attempt failed.
    const wentIntoArrears = row.status === 'ARREARS' || row.settledAt !== null;
    const lastAttempt = attempts[attempts.length - 1];
    return {
      ...entry,
      alipayTradeNo: row.alipayTradeNo,
      vendorSerial: null,
      reference: row.txnNo,
      timeline: [
        ...step('APPROVED', row.createdAt),
        ...attempts.map((a) => ({
          at: a.createdAt.toISOString(),
          event: 'ATTEMPT',
          detail: a.alipaySubCode ?? a.alipayCode ?? a.outcome,
        })),
        ...step('COLLECTED', row.collectedAt),
        ...(wentIntoArrears
          ? step('ARREARS', lastAttempt?.createdAt ?? row.updatedAt, row.lastErrorCode)
          : []),
        ...step('SETTLED', row.settledAt),
        ...step('REVERSED', row.reversedAt),
        ...step('REFUNDED', row.refundedAt),
      ],
    };
  },
};

function repaymentEntry(row: CardRepayment): SourcedEntry {
  return {
    id: `repayment:${row.id}`,
    occurredAt: (row.paidAt ?? row.createdAt).toISOString(),
    kind: 'REPAYMENT',
    // This card's part: what the payer paid for its swipes that Alipay could not collect at the time.
    amountFen: row.cardFen,
    balanceAfterFen: null,
    place: '支付宝还款',
    status: row.status,
    orderNo: row.outTradeNo,
  };
}

export const repaymentStatementSource: StatementSource = {
  name: 'repayment',

  async entries(deps, card, window) {
    return (await listRepaymentsOfCard(deps.db, card, window.from, window.to)).map(repaymentEntry);
  },

  async receipt(deps, card, key) {
    const row = isUuid(key) ? await findRepaymentOfCard(deps.db, card, key) : undefined;
    if (!row) return null;
    return {
      ...repaymentEntry(row),
      alipayTradeNo: row.alipayTradeNo,
      vendorSerial: null,
      reference: null,
      timeline: [...step('CREATED', row.createdAt), ...step('PAID', row.paidAt)],
    };
  },
};

function refundEntry(row: RefundRow): SourcedEntry {
  return {
    id: `refund:${row.id}`,
    occurredAt: (row.completedAt ?? row.createdAt).toISOString(),
    kind: 'REFUND',
    amountFen: row.amountFen,
    balanceAfterFen: null,
    place: '退回支付宝',
    status: row.status,
    orderNo: row.outTradeNo,
  };
}

export const refundStatementSource: StatementSource = {
  name: 'refund',

  async entries(deps, card, window) {
    return (await listRefundsOfCard(deps.db, card, window.from, window.to)).map(refundEntry);
  },

  async receipt(deps, card, key) {
    const row = isUuid(key) ? await findRefundOfCard(deps.db, card, key) : undefined;
    if (!row) return null;
    return {
      ...refundEntry(row),
      alipayTradeNo: null,
      vendorSerial: null,
      reference: row.outRequestNo,
      timeline: [
        ...step('REFUND_REQUESTED', row.createdAt),
        ...(row.status === 'SUCCEEDED' ? step('REFUNDED', row.completedAt) : []),
        ...(row.status === 'FAILED' ? step('FAILED', row.completedAt, row.lastError) : []),
      ],
    };
  },
};
