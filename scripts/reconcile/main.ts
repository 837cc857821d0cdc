import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { prepareDayWorkbook } from '../../server/src/domain/reconciliation/day-workbook.js';
import { beijingDate, reconcileDay } from '../../server/src/domain/reconciliation/reconcile-day.js';
import { dayDetail } from '../../server/src/domain/reconciliation/reconciliation-views.js';
import { formatFen } from '../../shared/money.js';
import { createOperatorContext, type OperatorIo } from '../operator/context.js';

const USAGE =
  'usage: npm run reconcile -- --school <10-digit code> [--date yyyy-MM-dd] [--xlsx <file>]   (default date: yesterday)';

/**
 * `npm run reconcile -- --school <code> --date yyyy-MM-dd [--xlsx <file>]`: (re)runs one school-day of
 * reconciliation now, as the daily job does, and prints the day's summary (stderr, for people) and the day
 * as JSON (stdout); with --xlsx it also writes the day's workbook for the finance office (day-workbook.ts).
 * Exit code 0 when the day is balanced, 2 when it has open findings or its bill is not ready, 1 on errors.
 */
export async function runReconcile(argv: string[], io: OperatorIo): Promise<number> {
  let values: { school?: string; date?: string; xlsx?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        school: { type: 'string' },
        date: { type: 'string' },
        xlsx: { type: 'string' },
        help: { type: 'boolean' },
      },
    }));
  } catch (error) {
    io.stderr(`${(error as Error).message}\n${USAGE}\n`);
    return 1;
  }
  if (values.help || !values.school) {
    io.stderr(`${USAGE}\n`);
    return values.help ? 0 : 1;
  }
  if (values.date !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(values.date)) {
    io.stderr(`--date: yyyy-MM-dd, got ${values.date}\n${USAGE}\n`);
    return 1;
  }
  const ctx = await createOperatorContext(io);
  try {
    const school = await ctx.school(values.school);
    const billDate = values.date ?? beijingDate(new Date(ctx.deps.clock.now().getTime() - 86_400_000));
    const outcome = await reconcileDay(ctx.deps, school, billDate);
    if (outcome.status === 'WAITING_FOR_BILL') {
      ctx.say(`${school.code} ${billDate}: Alipay's bill is not ready yet; the daily job tries again later`);
      io.stdout(`${JSON.stringify({ billDate, status: outcome.status })}\n`);
      return 2;
    }
    const day = await dayDetail(ctx.deps, school.id, billDate);
    ctx.say(
      `${school.code} ${school.name} ${billDate}: ${day.billRows} bill rows, ${day.balanced ? 'BALANCED' : 'NOT BALANCED'}`,
    );
    for (const k of day.totals?.kinds ?? []) {
      const vendor = k.vendorFen === null ? '' : `  vendor ${formatFen(k.vendorFen)}`;
      ctx.say(
        `  ${k.kind.padEnd(12)} ours ${formatFen(k.oursFen)}  alipay ${formatFen(k.alipayFen)}${vendor}  difference ${formatFen(k.differenceFen)}  fees ${formatFen(k.feeFen)}`,
      );
    }
    for (const f of day.findingList) {
      ctx.say(
        `  [${f.status}] ${f.kind} ${f.outTradeNo} → ${f.action}${f.resolution ? ` (${f.resolution})` : ''}`,
      );
    }
    if (values.xlsx) {
      const workbook = await prepareDayWorkbook(ctx.deps, school.id, billDate);
      // Resolves once the file stream has finished.
      await workbook.write(fs.createWriteStream(values.xlsx));
      ctx.say(`  workbook written to ${values.xlsx}`);
    }
    io.stdout(`${JSON.stringify(day)}\n`);
    return day.balanced ? 0 : 2;
  } finally {
    await ctx.close();
  }
}
