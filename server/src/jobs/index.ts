import type { Deps } from '../deps.js';
import { dailyStatsJob } from './admin/daily-stats.js';
import { rosterImportJob } from './admin/roster-import.js';
import { campusCodePayJob } from './campus-code/campus-code-pay.js';
import { deductionCollectJob } from './withholding/deduction-collect.js';
import { deductionRefundJob } from './withholding/deduction-refund.js';
import { balanceWatchJob } from './messages/balance-watch.js';
import { messageSendJob } from './messages/message-send.js';
import { walletSyncJob } from './membercard/wallet-sync.js';
import { rechargeCreditJob } from './recharge/recharge-credit.js';
import { rechargeRefundJob } from './recharge/recharge-refund.js';
import { rechargeSweepJob } from './recharge/recharge-sweep.js';
import { reconcileDayJob, reconcileScheduleJob } from './reconciliation/reconcile.js';
import { retentionJob } from './retention.js';
import { cardSystemWarmup } from './schools/card-system-warmup.js';
import { isvRefreshJob } from './schools/isv-refresh.js';
import {
  terminalCallbackJob,
  terminalRefundJob,
  terminalSettleJob,
  terminalSweepJob,
} from './terminals/terminal-jobs.js';
import { withholdingSyncCardJob } from './withholding/withholding-card.js';
import { withholdingSweepJob } from './withholding/withholding-sweep.js';
import type { BackgroundWork, JobDefinition } from './runner.js';

/** Every job the worker runs. One file per job. */
export function allJobs(deps: Deps): JobDefinition<never>[] {
  return [
    retentionJob(deps),
    rechargeCreditJob(deps),
    rechargeSweepJob(deps),
    deductionCollectJob(deps),
    deductionRefundJob,
    withholdingSyncCardJob,
    withholdingSweepJob(deps),
    campusCodePayJob(deps),
    isvRefreshJob(deps),
    reconcileScheduleJob(deps),
    reconcileDayJob,
    messageSendJob(deps),
    balanceWatchJob(deps),
    rechargeRefundJob,
    dailyStatsJob(deps),
    rosterImportJob,
    walletSyncJob(deps),
    terminalCallbackJob(deps),
    terminalRefundJob,
    terminalSettleJob,
    terminalSweepJob(deps),
  ] as JobDefinition<never>[];
}

/** What a process that runs jobs keeps going beside them, whatever jobs it runs. */
export function processBackground(deps: Deps): BackgroundWork[] {
  return [cardSystemWarmup(deps)];
}
