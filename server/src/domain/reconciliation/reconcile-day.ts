import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql, type SQL } from 'drizzle-orm';
import { connectBesidePool } from '../../db/client.js';
import { copyBillRows, deleteBillRows } from '../../db/repos/reconciliation/bill-rows.js';
import {
  clearVanishedFindings,
  countFindings,
  insertFindings,
  saveDay,
  type NewFinding,
  type ReconciliationDayRow,
} from '../../db/repos/reconciliation/days.js';
import {
  billTotals,
  creditedRechargesInBill,
  paymentMismatches,
  refundMismatches,
  type DayWindow,
} from '../../db/repos/reconciliation/matching.js';
import type { SchoolRow } from '../../db/repos/schools/schools.js';
import type { Deps } from '../../deps.js';
import {
  downloadBill,
  openDetailCsv,
  readTradeBillRows,
  type TradeBillRow,
} from '../../integrations/alipay/trade-bill.js';
import { DomainError } from '../errors.js';
import { requireAlipay } from '../outside-errors.js';
import { dayTotals, type DayTotals } from './day-totals.js';
import { findingKey, paymentFinding, refundFinding, vendorFinding } from './findings.js';
import { ourRecords } from './record-sources.js';
import { vendorCredits as checkVendor } from './vendor-check.js';

/**
 * One school-day of reconciliation (issue 17, DESIGN §7.7):
 * 1. ask Alipay for the day's trade bill; not there yet → WAITING_FOR_BILL, tried again later;
 * 2. download it to a temporary file and store its detail rows, streamed from the zip into COPY (a rerun
 *    replaces them);
 * 3. match both ways by out_trade_no (payments) and out_request_no (refunds), and the day's credited
 *    recharges against the vendor's records;
 * 4. each mismatch is a finding (idempotent: the same difference on a rerun is the same row), open findings
 *    whose difference went away are CLEARED, and the day's totals and balance are saved.
 * Two runs of one day never overlap: a session advisory lock is held for the whole run.
 */

export interface DayOutcome {
  status: ReconciliationDayRow['status'];
  billRows: number;
  newFindings: number;
  openFindings: number;
  balanced: boolean;
  totals: DayTotals | null;
}

/** The job that runs one school-day (jobs/reconciliation/reconcile.ts). */
export const RECONCILE_DAY_JOB = 'reconcile.day';

const DAY_MS = 86_400_000;
const BEIJING_OFFSET_MS = 8 * 3_600_000;

/** [from, to) of a Beijing calendar day. */
export function beijingDayWindow(billDate: string): { from: Date; to: Date } {
  const [y, m, d] = billDate.split('-').map(Number);
  const from = new Date(Date.UTC(y, m - 1, d) - BEIJING_OFFSET_MS);
  return { from, to: new Date(from.getTime() + DAY_MS) };
}

/** yyyy-MM-dd of the Beijing day `at` falls in. */
export function beijingDate(at: Date): string {
  return new Date(at.getTime() + BEIJING_OFFSET_MS).toISOString().slice(0, 10);
}

export async function reconcileDay(deps: Deps, school: SchoolRow, billDate: string): Promise<DayOutcome> {
  // The lock is held by a connection of its own for the whole run (the bill's download included): held on a
  // pooled one, it was missing for requests all that time, and the run's own queries then waited for a second
  // pooled connection — forever once every connection was such a lock (two runs at once, DATABASE_POOL_SIZE=2).
  const lock = await connectBesidePool(deps.pool, 'campus-card-reconcile-lock');
  // A lost connection ends the run's lock; the run's own queries (on the pool) report their own failures.
  lock.on('error', (error) =>
    deps.logger.warn('reconciliation lock lost', { school: school.code, billDate, error }),
  );
  try {
    const { rows } = await lock.query<{ locked: boolean }>(
      'select pg_try_advisory_lock(hashtext($1)) as locked',
      [`reconcile:${school.id}:${billDate}`],
    );
    if (!rows[0].locked) throw new DomainError('RECONCILIATION_RUNNING');
    return await runDay(deps, school, billDate);
  } finally {
    // Ending the session releases its advisory lock.
    await lock.end().catch(() => undefined);
  }
}

async function runDay(deps: Deps, school: SchoolRow, billDate: string): Promise<DayOutcome> {
  const alipay = requireAlipay(deps);
  const now = deps.clock.now();
  const url = await alipay.tradeBillUrl({ billDate, appAuthToken: deps.schools.appAuthToken(school) });
  if (!url) {
    const day = await saveDay(
      deps.db,
      school.id,
      billDate,
      {
        status: 'WAITING_FOR_BILL',
        nextAttemptAt: new Date(now.getTime() + deps.config.reconcile.retryMs),
        lastError: 'BILL_NOT_EXIST: the bill is not generated yet',
        attempts: await attemptsSoFar(deps, school.id, billDate),
      },
      now,
    );
    deps.logger.info('bill not ready; the day will be tried again', { school: school.code, billDate });
    return {
      status: day.status,
      billRows: 0,
      newFindings: 0,
      openFindings: 0,
      balanced: false,
      totals: null,
    };
  }
  // The zip goes to a file and is read back as a stream: memory does not grow with the bill.
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'trade-bill-'));
  let name: string;
  let billRows: number;
  try {
    const file = path.join(dir, 'bill.zip');
    await downloadBill(url, file, deps.config.reconcile.downloadTimeoutMs);
    const detail = await openDetailCsv(file);
    name = detail.name;
    try {
      billRows = await storeBillRows(deps, school.id, billDate, readTradeBillRows(detail.stream));
    } finally {
      detail.stream.destroy();
    }
  } finally {
    await fs.promises.rm(dir, { recursive: true, force: true });
  }

  const day: DayWindow = { schoolId: school.id, billDate, ...beijingDayWindow(billDate) };
  const ours = (where: SQL) => ourRecords(school.id, where);
  const base = { schoolId: school.id, billDate };
  // One snapshot for the four comparisons, and no nested loops: the joins are of CTEs (no statistics),
  // and a nested loop chosen on a wrong estimate is quadratic.
  const [payments, refunds, totalsByKind, recharges] = await deps.db.transaction(
    async (tx) => {
      await tx.execute(sql`set local enable_nestloop = off`);
      // Room for the hash joins and aggregates of a 200,000-row day in memory rather than in batches on disk.
      await tx.execute(sql`set local work_mem = '256MB'`);
      return [
        await paymentMismatches(tx, day, ours),
        await refundMismatches(tx, day, ours),
        await billTotals(tx, day, ours),
        await creditedRechargesInBill(tx, day),
      ] as const;
    },
    { isolationLevel: 'repeatable read', accessMode: 'read only' },
  );
  const findings: NewFinding[] = [
    ...payments.map((m) => paymentFinding(base, m)),
    ...refunds.map((m) => refundFinding(base, m)),
  ];
  const vendor = await vendorCredits(deps, school, recharges, day);
  for (const order of recharges) {
    const f = vendorFinding(base, order, vendor.credits.get(order.outTradeNo) ?? []);
    if (f) findings.push(f);
  }

  const totals = dayTotals({
    byKind: totalsByKind,
    missingAtAlipay: [...payments, ...refunds].filter((m) => m.side === 'OURS'),
    refundsMissing: refunds.filter((m) => m.side === 'OURS'),
    recharges,
    vendorCredits: vendor.credits,
    uncheckedCards: vendor.uncheckedCards,
  });
  const attempts = await attemptsSoFar(deps, school.id, billDate);
  const saved = await deps.db.transaction(async (tx) => {
    const added = await insertFindings(tx, findings);
    await clearVanishedFindings(tx, school.id, billDate, findings.map(findingKey), now);
    const counts = await countFindings(tx, school.id, billDate);
    const balanced = counts.open === 0 && totals.vendor.uncheckedCards === 0;
    await saveDay(
      tx,
      school.id,
      billDate,
      {
        status: 'MATCHED',
        attempts,
        nextAttemptAt: null,
        lastError: null,
        billFile: name,
        billRows,
        totals,
        findings: counts.total,
        openFindings: counts.open,
        balanced,
        matchedAt: now,
      },
      now,
    );
    return { added, counts, balanced };
  });
  deps.logger.info('day reconciled', {
    school: school.code,
    billDate,
    billRows,
    newFindings: saved.added,
    openFindings: saved.counts.open,
    balanced: saved.balanced,
  });
  return {
    status: 'MATCHED',
    billRows,
    newFindings: saved.added,
    openFindings: saved.counts.open,
    balanced: saved.balanced,
    totals,
  };
}

async function attemptsSoFar(deps: Deps, schoolId: string, billDate: string): Promise<number> {
  const { rows } = await deps.pool.query<{ attempts: number }>(
    'select attempts from reconciliation_days where school_id = $1 and bill_date = $2',
    [schoolId, billDate],
  );
  return (rows[0]?.attempts ?? 0) + 1;
}

/**
 * Replaces the day's stored rows with the bill's, in one transaction, streamed in with COPY as they are
 * parsed (bill-rows.ts): memory stays the same whatever the bill's size.
 */
async function storeBillRows(
  deps: Deps,
  schoolId: string,
  billDate: string,
  rows: AsyncIterable<TradeBillRow>,
): Promise<number> {
  const client = await deps.pool.connect();
  try {
    await client.query('begin');
    await deleteBillRows(client, schoolId, billDate);
    const count = await copyBillRows(client, schoolId, billDate, rows);
    await client.query('commit');
    // Fresh statistics: the matching joins these rows, and a plan made for "no rows" is a nested loop
    // (measured: two minutes instead of a second for 20,000 rows).
    await client.query('analyze bill_rows');
    return count;
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** The vendor's records of the day's credited recharges, a day either side of it (vendor clocks drift). */
async function vendorCredits(
  deps: Deps,
  school: SchoolRow,
  recharges: Parameters<typeof checkVendor>[1],
  day: DayWindow,
) {
  if (recharges.length === 0)
    return { credits: new Map<string, number[]>(), checkedCards: 0, uncheckedCards: 0 };
  // Not clamped to now: the vendor's clock may be ahead, and its window ends are whole seconds (a credit
  // made in the current second would fall outside a window that ends "now").
  return checkVendor(
    deps.schools.cardSystem(school),
    recharges,
    { from: new Date(day.from.getTime() - DAY_MS), to: new Date(day.to.getTime() + DAY_MS) },
    {
      concurrency: deps.config.reconcile.vendorConcurrency,
      maxCards: deps.config.reconcile.vendorMaxCards,
    },
  );
}
