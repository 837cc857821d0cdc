import { parseArgs } from 'node:util';
import { beijingDate, reconcileDay } from '../../server/src/domain/reconciliation/reconcile-day.js';
import { dayDetail } from '../../server/src/domain/reconciliation/reconciliation-views.js';
import { formatFen } from '../../shared/money.js';
import { createOperatorContext, type OperatorIo } from '../operator/context.js';

const USAGE =
  'usage: npm run reconcile -- --school <10-digit code> [--date yyyy-MM-dd]   (default: yesterday)';

/**
 * `npm run reconcile -- --school <code> --date yyyy-MM-dd`: (re)runs one school-day of reconciliation now,
 * as the daily job does, and prints the day's summary (stderr, for people) and the day as JSON (stdout).
 * Exit code 0 when the day is balanced, 2 when it has open findings or its bill is not ready, 1 on errors.
 */
export async function runReconcile(argv: string[], io: OperatorIo): Promise<number> {
  let values: { school?: string; date?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { school: { type: 'string' }, date: { type: 'string' }, help: { type: 'boolean' } },
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
    io.stdout(`${JSON.stringify(day)}\n`);
    return day.balanced ? 0 : 2;
  } finally {
    await ctx.close();
  }
}
