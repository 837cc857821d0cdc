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
    ],
  },
];
