import { sql } from 'drizzle-orm';
import type { Executor, Tx } from '../../client.js';

/**
 * The daily statistics behind the admins' dashboard (schema: school_daily_stats). Two sources are folded,
 * each exactly once, in one transaction with their watermarks:
 *   deductions   by their time-ordered ids (uuidv7, made by decide_swipe at insert): every id below
 *                the bound of `upTo`; ids made before that have committed long since (a batch of decisions
 *                is one statement). Reversal tombstones (random v4 ids, no decision) are not swipes and are left out.
 *   status changes (order_status_changes) by the writing transaction's id: every row whose transaction is
 *                older than the oldest one still running has committed or rolled back, so nothing is missed
 *                and nothing is counted twice, however long a transaction took.
 * Days are Beijing calendar days.
 */

const DEDUCTIONS = 'deductions';
const STATUS_CHANGES = 'order_status_changes';
const BEIJING_DAY = (column: string) =>
  sql.raw(`to_char(${column} at time zone 'Asia/Shanghai', 'YYYY-MM-DD')`);

async function watermark(tx: Tx, source: string, initial: string, now: Date): Promise<string> {
  await tx.execute(sql`
    insert into stats_watermarks (source, position, folded_at) values (${source}, ${initial}, ${now})
    on conflict (source) do nothing`);
  const { rows } = await tx.execute<{ position: string }>(
    sql`select position from stats_watermarks where source = ${source} for update`,
  );
  return rows[0].position;
}

async function moveWatermark(tx: Tx, source: string, position: string, now: Date): Promise<void> {
  await tx.execute(
    sql`update stats_watermarks set position = ${position}, folded_at = ${now} where source = ${source}`,
  );
}

const ADD = sql`on conflict (school_id, day, metric) do update set
  count = school_daily_stats.count + excluded.count,
  amount_fen = school_daily_stats.amount_fen + excluded.amount_fen`;

/** Folds what is new in both sources; returns how many rows of each were read. */
export async function foldDailyStats(
  tx: Tx,
  opts: { swipesUpTo: Date; now: Date },
): Promise<{ deductions: number; statusChanges: number }> {
  const lowId = await watermark(tx, DEDUCTIONS, '00000000-0000-0000-0000-000000000000', opts.now);
  // The smallest uuidv7 of the millisecond `swipesUpTo`: 48 bits of Unix ms, then version 7, variant 10.
  const ms = opts.swipesUpTo.getTime().toString(16).padStart(12, '0');
  const highId = `${ms.slice(0, 8)}-${ms.slice(8, 12)}-7000-8000-000000000000`;
  let deductions = 0;
  if (highId > lowId) {
    const { rows } = await tx.execute<{ n: number }>(sql`
      with folded as (
        insert into school_daily_stats (school_id, day, metric, count, amount_fen)
        select school_id, ${BEIJING_DAY('created_at')},
               case when decision = 'APPROVED' then 'deduction.APPROVED' else 'deduction.DECLINED.' || decline_reason end,
               count(*), coalesce(sum(amount_fen), 0)
        from deductions
        where id >= ${lowId}::uuid and id < ${highId}::uuid and uuid_extract_version(id) = 7
        group by 1, 2, 3
        ${ADD}
        returning count
      )
      select coalesce(sum(count), 0)::int as n from folded`);
    deductions = Number(rows[0]?.n ?? 0);
    await moveWatermark(tx, DEDUCTIONS, highId, opts.now);
  }

  const fromTxid = await watermark(tx, STATUS_CHANGES, '0', opts.now);
  const { rows: horizon } = await tx.execute<{ xmin: string }>(
    sql`select pg_snapshot_xmin(pg_current_snapshot())::text as xmin`,
  );
  const toTxid = horizon[0].xmin;
  let statusChanges = 0;
  if (BigInt(toTxid) > BigInt(fromTxid)) {
    const { rows } = await tx.execute<{ n: number }>(sql`
      with folded as (
        insert into school_daily_stats (school_id, day, metric, count, amount_fen)
        select school_id, ${BEIJING_DAY('changed_at')}, lower(order_kind) || '.' || to_status,
               count(*), coalesce(sum(amount_fen), 0)
        from order_status_changes
        where txid >= ${fromTxid}::bigint and txid < ${toTxid}::bigint
        group by 1, 2, 3
        ${ADD}
        returning count
      )
      select coalesce(sum(count), 0)::int as n from folded`);
    statusChanges = Number(rows[0]?.n ?? 0);
    await moveWatermark(tx, STATUS_CHANGES, toTxid, opts.now);
  }
  return { deductions, statusChanges };
}

export interface DailyStatRow {
  day: string;
  metric: string;
  count: number;
  amountFen: number;
}

/** The school's statistics from `fromDay` (yyyy-MM-dd, Beijing) on. */
export async function schoolDailyStats(
  db: Executor,
  schoolId: string,
  fromDay: string,
): Promise<DailyStatRow[]> {
  const { rows } = await db.execute<{ day: string; metric: string; count: number; amount_fen: number }>(sql`
    select day, metric, count, amount_fen from school_daily_stats
    where school_id = ${schoolId} and day >= ${fromDay}`);
  return rows.map((r) => ({
    day: r.day,
    metric: r.metric,
    count: Number(r.count),
    amountFen: Number(r.amount_fen),
  }));
}

/** When the statistics were last folded (the dashboard says "as of"). */
export async function lastFoldedAt(db: Executor): Promise<Date | null> {
  const { rows } = await db.execute<{ at: Date | null }>(
    sql`select min(folded_at) as at from stats_watermarks`,
  );
  return rows[0]?.at ? new Date(rows[0].at) : null;
}
