import { findStalePendingAgreements } from '../../db/repos/withholding/agreements.js';
import { findBindingsOutOfStep } from '../../db/repos/withholding/agreement-cards.js';
import { findUnrefundedReversals } from '../../db/repos/withholding/deductions.js';
import { findRepaymentsToSweep } from '../../db/repos/withholding/repayments.js';
import type { Deps } from '../../deps.js';
import { reconcileRepayment } from '../../domain/withholding/debts.js';
import { refundReversedDeduction } from '../../domain/withholding/deduction-refunds.js';
import { enqueueSync, resolvePendingAgreement } from '../../domain/withholding/agreements.js';
import type { JobDefinition } from '../runner.js';

const BATCH = 100;
/** A reversal whose refund has not gone through after this long lost its job (crash between steps). */
const LOST_REFUND_GRACE_MS = 10 * 60_000;
/**
 * A binding whose card is still out of step with its coverage this long after its last change has lost its sync
 * job (a crash, or retries used up while the card system was down): start it again. Longer than the first
 * retries of WITHHOLDING_CARD_BIND_RETRY_MS, so a job still on its way is not doubled.
 */
const LOST_CARD_STEP_GRACE_MS = 10 * 60_000;

/**
 * What notifications and wake-ups can miss, found again on the recharge sweep's rhythm: unpaid
 * repayments (paid → settled; expired → closed, debts let go), reversed swipes still waiting for their
 * refund, agreements still PENDING (lost dut_user_sign, or abandoned sign pages), and bindings whose card is
 * not bound (or unbound) at the card system as their coverage says.
 */
export function withholdingSweepJob(deps: Pick<Deps, 'config'>): JobDefinition {
  return {
    name: 'withholding.sweep',
    every: deps.config.recharge.sweepEveryMs,
    concurrency: 1,
    async run(_data, deps) {
      if (!deps.alipay) return;
      const now = deps.clock.now().getTime();
      const soon = (what: string, key: string) => (error: unknown) =>
        deps.logger.warn(`sweep could not settle ${what}; next sweep will retry`, {
          key,
          error: (error as Error).message,
        });
      for (const repayment of await findRepaymentsToSweep(
        deps.db,
        new Date(now - deps.config.recharge.sweepAfterMs),
        BATCH,
      ))
        await reconcileRepayment(deps, repayment).catch(soon('a repayment', repayment.outTradeNo));
      for (const deduction of await findUnrefundedReversals(
        deps.db,
        new Date(now - LOST_REFUND_GRACE_MS),
        BATCH,
      ))
        await refundReversedDeduction(deps, deduction).catch(soon('a refund', deduction.deductionNo));
      for (const agreement of await findStalePendingAgreements(
        deps.db,
        new Date(now - deps.config.withholding.agreementQueryAfterMs),
        BATCH,
      ))
        await resolvePendingAgreement(deps, agreement).catch(
          soon('an agreement', agreement.externalAgreementNo),
        );
      for (const bindingId of await findBindingsOutOfStep(
        deps.db,
        new Date(now - LOST_CARD_STEP_GRACE_MS),
        BATCH,
      ))
        await enqueueSync(deps, bindingId);
    },
  };
}
