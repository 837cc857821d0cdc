import type { DashboardDay, DashboardResponse, OpenWork } from '../../../../shared/admin-api.js';
import { lastFoldedAt, schoolDailyStats, type DailyStatRow } from '../../db/repos/dashboard/daily-stats.js';
import {
  activeBindingCount,
  dueWork,
  openAgreements,
  openDeductionDebts,
  openRecharges,
  openRefunds,
  type OpenCount,
} from '../../db/repos/dashboard/school-state.js';
import type { Deps } from '../../deps.js';
import { inboxCount } from '../inbox/inbox.js';

/**
 * The school admins' dashboard (issue 13, DESIGN §1): today and the six days before from the daily
 * statistics (folded from new swipes and status changes by `admin.stats`, domain/dashboard/daily-stats.ts),
 * and what stands open now from partial indexes over unfinished rows. Nothing here reads a school's history
 * row by row, so it stays fast at millions of orders (bench:admin).
 */

const DAY_MS = 86_400_000;
const BEIJING_MS = 8 * 3_600_000;

/** yyyy-MM-dd of the Beijing day `daysBack` days before `now`'s. */
export function beijingDay(now: Date, daysBack = 0): string {
  return new Date(now.getTime() + BEIJING_MS - daysBack * DAY_MS).toISOString().slice(0, 10);
}

function emptyDay(day: string): DashboardDay {
  return {
    day,
    recharges: { paidCount: 0, paidFen: 0, creditedCount: 0, creditFailedCount: 0 },
    deductions: {
      approvedCount: 0,
      approvedFen: 0,
      declinedCount: 0,
      declinedByReason: {},
      collectedCount: 0,
      collectedFen: 0,
      arrearsCount: 0,
      waivedCount: 0,
      waivedFen: 0,
    },
    refunds: { succeededCount: 0, succeededFen: 0 },
  };
}

/** One statistic into its day. Unknown metrics (another kind's) are left for whoever shows them. */
function addStat(day: DashboardDay, stat: DailyStatRow): void {
  const { metric, count, amountFen } = stat;
  if (metric.startsWith('deduction.DECLINED.')) {
    const reason = metric.slice('deduction.DECLINED.'.length);
    day.deductions.declinedCount += count;
    day.deductions.declinedByReason[reason] = (day.deductions.declinedByReason[reason] ?? 0) + count;
    return;
  }
  switch (metric) {
    case 'recharge.PAID':
      day.recharges.paidCount += count;
      day.recharges.paidFen += amountFen;
      break;
    case 'recharge.CREDITED':
      day.recharges.creditedCount += count;
      break;
    case 'recharge.CREDIT_FAILED':
      day.recharges.creditFailedCount += count;
      break;
    case 'deduction.APPROVED':
      day.deductions.approvedCount += count;
      day.deductions.approvedFen += amountFen;
      break;
    case 'deduction.COLLECTED':
      day.deductions.collectedCount += count;
      day.deductions.collectedFen += amountFen;
      break;
    case 'deduction.ARREARS':
      day.deductions.arrearsCount += count;
      break;
    case 'deduction.WAIVED':
      day.deductions.waivedCount += count;
      day.deductions.waivedFen += amountFen;
      break;
    case 'refund.SUCCEEDED':
      day.refunds.succeededCount += count;
      day.refunds.succeededFen += amountFen;
      break;
  }
}

function open(counts: OpenCount[], status: string): OpenWork {
  const row = counts.find((c) => c.status === status);
  return {
    count: row?.count ?? 0,
    amountFen: row?.amountFen ?? 0,
    oldestAt: row?.oldest?.toISOString() ?? null,
  };
}

export async function schoolDashboard(deps: Deps, schoolId: string): Promise<DashboardResponse> {
  const now = deps.clock.now();
  const dayKeys = Array.from({ length: 7 }, (_, back) => beijingDay(now, back));
  const [stats, debts, recharges, refunds, bindings, agreements, due, inbox, asOf] = await Promise.all([
    schoolDailyStats(deps.db, schoolId, dayKeys[6]),
    openDeductionDebts(deps.db, schoolId),
    openRecharges(deps.db, schoolId),
    openRefunds(deps.db, schoolId),
    activeBindingCount(deps.db, schoolId),
    openAgreements(deps.db, schoolId),
    dueWork(deps.db, schoolId, now),
    inboxCount(deps, schoolId),
    lastFoldedAt(deps.db),
  ]);
  const days = new Map(dayKeys.map((key) => [key, emptyDay(key)]));
  for (const stat of stats) {
    const day = days.get(stat.day);
    if (day) addStat(day, stat);
  }
  return {
    days: dayKeys.map((key) => days.get(key)!),
    now: {
      recharges: {
        unpaid: open(recharges, 'CREATED'),
        waitingCredit: open(recharges, 'PAID'),
        creditFailed: open(recharges, 'CREDIT_FAILED'),
      },
      deductions: { retrying: open(debts, 'RETRYING'), arrears: open(debts, 'ARREARS') },
      refunds: { pending: open(refunds, 'PENDING'), failed: open(refunds, 'FAILED') },
      activeBindings: bindings,
      activeAgreements: open(agreements, 'ACTIVE').count,
      pendingAgreements: open(agreements, 'PENDING').count,
      backlog: {
        deductionsDue: due.deductionsDue,
        oldestDeductionDueAt: due.oldestDeductionDue?.toISOString() ?? null,
        creditsDue: due.creditsDue,
        oldestCreditDueAt: due.oldestCreditDue?.toISOString() ?? null,
      },
      inboxCount: inbox,
    },
    statsAsOf: asOf?.toISOString() ?? null,
  };
}
