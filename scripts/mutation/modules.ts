/**
 * The money modules under mutation testing (issue 20), each with the test files that exercise it: Stryker
 * runs only these (perTest coverage narrows each mutant to the tests that reach it). A module that
 * milestone 2 adds joins this list as it lands, with the same bar.
 */
export interface MoneyModule {
  name: string;
  mutate: string[];
  tests: string[];
}

const W = 'test/integration/withholding';
const S = 'test/integration/student';
const T = 'test/integration/terminals';
const C = 'test/integration/campus-code';
const R = 'test/integration/reconciliation';

export const MONEY_MODULES: MoneyModule[] = [
  {
    name: 'notifications',
    mutate: ['server/src/domain/notify/notifications.ts'],
    tests: [`${S}/notify.test.ts`, `${S}/recharge-rules.test.ts`],
  },
  {
    name: 'recharge',
    mutate: ['server/src/domain/recharge/recharge.ts'],
    tests: [
      `${S}/recharge.test.ts`,
      `${S}/recharge-rules.test.ts`,
      `${S}/sweep.test.ts`,
      `${S}/credit-unknown.test.ts`,
      `${S}/recharge-credit-schedule.test.ts`,
      `${S}/recharge-edges.test.ts`,
      `${S}/recharge-messages.test.ts`,
    ],
  },
  {
    name: 'deductions',
    mutate: [
      'server/src/domain/withholding/deductions.ts',
      'server/src/db/repos/withholding/deductions.ts',
      // The batched decision path (issue 18): which swipes share a transaction, and what a failed one answers.
      'server/src/db/repos/withholding/decision-batches.ts',
    ],
    tests: [
      `${W}/gateway.test.ts`,
      `${W}/decision-rules.test.ts`,
      `${W}/decision-batches.test.ts`,
      `${W}/decide-concurrency.test.ts`,
      `${W}/reversal.test.ts`,
      `${W}/swipes.test.ts`,
      `${W}/never-sent.test.ts`,
      `${W}/deduction-detail.test.ts`,
      `${W}/decision-failures.test.ts`,
      `${W}/reversal-held.test.ts`,
      // The answer to a swipe by dynamic code: the card it stood for, never for a refused code.
      'test/integration/membercard/dynamic-codes.test.ts',
      // The inbox's actions on deductions: collect now, waive, retry a reversal's refund.
      'test/integration/admin/exceptions-inbox.test.ts',
    ],
  },
  {
    name: 'collection',
    mutate: [
      'server/src/domain/withholding/deduction-collection.ts',
      'server/src/domain/withholding/deduction-refunds.ts',
      // The trade.pay charge rules the collector shares with campus-code payments (issue 14).
      'server/src/domain/payments/trade-pay-charge.ts',
    ],
    tests: [
      `${W}/collection.test.ts`,
      `${W}/alipay-answers.test.ts`,
      `${W}/reversal.test.ts`,
      `${W}/never-sent.test.ts`,
      `${W}/collector-crash.test.ts`,
      // What an attempt leaves in the cases the main paths miss (an open charge or a reversal with no agreement
      // left, a debt held for authorization, the last error shown, a refund that went through before a crash).
      `${W}/collection-leftovers.test.ts`,
      // The charge's rules one by one (every answer of pay, query and cancel), with scripted calls: no stack.
      'test/unit/trade-pay-charge.test.ts',
    ],
  },
  // Milestone 2's money modules (issue 20, same bar). A pure rule (the royalty split, what a finding calls
  // for) is its own module with its unit tests, so that its run needs no stack; the rest are exercised
  // through the stack by test files whose tests each stand alone (perTest runs a test without the ones
  // before it).
  {
    // The operator's royalty: floor of its share, the remainder the school's, taken back in proportion.
    name: 'terminal-royalty',
    mutate: ['server/src/domain/terminals/royalty.ts'],
    tests: ['test/unit/money.test.ts'],
  },
  {
    // Terminal orders, the money given back: the failed items' refund (their part, once, `<order no>D`), the
    // operator's ON_PAYMENT royalty taken back first, each refund's attempts and schedule.
    name: 'terminal-refunds',
    mutate: ['server/src/domain/terminals/refunds.ts', 'server/src/domain/terminals/dispense.ts'],
    tests: [`${T}/money-rules.test.ts`],
  },
  {
    // Terminal orders, the money taken: which payment pays an order (notification or the sweep's query, the
    // amount and the account checked), the others closed, one the order did not want (paid after another,
    // or after the close) refunded whole; the operator's split after dispensing (settle, its retries and
    // Alipay's message).
    name: 'terminal-payments',
    mutate: [
      'server/src/domain/terminals/payments.ts',
      'server/src/domain/terminals/lifecycle.ts',
      'server/src/domain/terminals/settle.ts',
    ],
    // payment-rules: the survivors' answers (session 8), in their own file so that money-rules' results are reused.
    tests: [`${T}/money-rules.test.ts`, `${T}/payment-rules.test.ts`],
  },
  {
    // Repayments of arrears and of refused campus-code payments: the amount, the debts a repayment takes,
    // PAID → SETTLED, CLOSED → owed again.
    name: 'repayments',
    mutate: ['server/src/domain/withholding/debts.ts', 'server/src/db/repos/withholding/repayments.ts'],
    tests: [`${W}/repayments.test.ts`, `${C}/student.test.ts`],
  },
  {
    // Campus-code payments: which uploads are taken (once per code and txnNo, late, expired), and the charge
    // at Alipay (retry schedule, the code's 10 days, a school without authorization held).
    name: 'campus-code',
    mutate: ['server/src/domain/campus-code/payment-charging.ts', 'server/src/domain/campus-code/uploads.ts'],
    tests: [
      `${C}/uploads.test.ts`,
      `${C}/paying.test.ts`,
      `${C}/pos-scans.test.ts`,
      `${C}/recording.test.ts`,
      `${C}/charging-rules.test.ts`,
      // What an attempt leaves in the cases charging-rules does not reach (the last error while a charge is open).
      `${C}/charging-leftovers.test.ts`,
    ],
  },
  {
    // What each reconciliation finding means and which repair it takes.
    name: 'reconciliation-findings',
    mutate: ['server/src/domain/reconciliation/findings.ts'],
    tests: ['test/unit/reconciliation-findings.test.ts'],
  },
  {
    // Reconciliation's repairs, each applied once. (Not reconciliation.test.ts: its tests build on each other.)
    name: 'reconciliation-repairs',
    mutate: ['server/src/domain/reconciliation/repairs.ts'],
    tests: [`${R}/repairs.test.ts`],
  },
];
