/**
 * `BENCH_STATEMENTS=1`: what PostgreSQL did per unit of work in a measured phase — statements (from
 * pg_stat_statements, loaded only in this mode), transactions, WAL records and WAL flushes, rows inserted and
 * updated per table (and how many updates were HOT: no index entries written) — to tell which queries a
 * figure is spent on. Off by default: the extension itself costs a little on every statement.
 */
import pg from 'pg';
import { round } from './stats.js';

export const statementProfiling = process.env.BENCH_STATEMENTS === '1';

/** pg_stat_statements loaded, counting nested statements (a foreign key's check) and plans. */
export const STATEMENT_PROFILE_FLAGS = [
  '-c',
  'shared_preload_libraries=pg_stat_statements',
  '-c',
  'pg_stat_statements.track=all',
  '-c',
  'pg_stat_statements.track_planning=on',
];

/** Flags for startEmbeddedPostgres in this mode. */
export function statementProfileFlags(): string[] {
  return statementProfiling ? STATEMENT_PROFILE_FLAGS : [];
}

interface Counters {
  commits: number;
  walRecords: number;
  walBytes: number;
  walSyncs: number;
}

/**
 * Rows written per table: an update that is not HOT also writes an entry into every index of its table.
 * Approximate: backends report these counts up to a few seconds late.
 */
type TableWrites = Map<string, { inserts: number; updates: number; hot: number }>;

async function tableWrites(pool: pg.Pool): Promise<TableWrites> {
  const { rows } = await pool.query<{ name: string; inserts: string; updates: string; hot: string }>(
    `select relname as name, n_tup_ins as inserts, n_tup_upd as updates, n_tup_hot_upd as hot
       from pg_stat_user_tables where n_tup_ins + n_tup_upd > 0`,
  );
  return new Map(
    rows.map((row) => [
      row.name,
      { inserts: Number(row.inserts), updates: Number(row.updates), hot: Number(row.hot) },
    ]),
  );
}

async function counters(pool: pg.Pool): Promise<Counters> {
  const db = await pool.query<{ commits: string }>(
    `select sum(xact_commit)::bigint as commits from pg_stat_database`,
  );
  const wal = await pool.query<{ records: string; bytes: string }>(
    `select wal_records as records, wal_bytes as bytes from pg_stat_wal`,
  );
  // PostgreSQL 18 counts WAL writes and flushes in pg_stat_io.
  const io = await pool.query<{ syncs: string | null }>(
    `select sum(fsyncs)::bigint as syncs from pg_stat_io where object = 'wal'`,
  );
  return {
    commits: Number(db.rows[0].commits),
    walRecords: Number(wal.rows[0].records),
    walBytes: Number(wal.rows[0].bytes),
    walSyncs: Number(io.rows[0].syncs ?? 0),
  };
}

export interface StatementProfile {
  /** Prints the profile of everything since start(), per `units` units of work. */
  report(units: number, unitName: string): Promise<void>;
  close(): Promise<void>;
}

/** Resets the statistics and starts counting; a no-op unless BENCH_STATEMENTS=1. */
export async function startStatementProfile(databaseUrl: string): Promise<StatementProfile> {
  if (!statementProfiling) return { report: async () => undefined, close: async () => undefined };
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  await pool.query('create extension if not exists pg_stat_statements');
  await pool.query('select pg_stat_statements_reset()');
  const before = await counters(pool);
  const writesBefore = await tableWrites(pool);
  return {
    async report(units, unitName) {
      const after = await counters(pool);
      const writesAfter = await tableWrites(pool);
      const per = (key: keyof Counters) => round((after[key] - before[key]) / units, 2);
      console.log(
        `         per ${unitName}: ${per('commits')} commits, ${per('walSyncs')} WAL flushes, ${per('walRecords')} WAL records, ${per('walBytes')} WAL bytes`,
      );
      const written = [...writesAfter].flatMap(([name, w]) => {
        const was = writesBefore.get(name) ?? { inserts: 0, updates: 0, hot: 0 };
        const perUnit = (n: number) => round(n / units, 2);
        const [inserts, updates, hot] = [w.inserts - was.inserts, w.updates - was.updates, w.hot - was.hot];
        return inserts + updates > 0
          ? [`${name} ${perUnit(inserts)} ins, ${perUnit(updates)} upd (${perUnit(hot)} HOT)`]
          : [];
      });
      console.log(`         rows per ${unitName}: ${written.join('; ')}`);
      // Planning is counted apart from execution: a statement sent without a prepared plan is planned each time.
      // PostgreSQL 18 tells statements apart by the names their tables are given in the text, not by the
      // tables: every foreign key check on one column (`SELECT 1 FROM ONLY <table> x WHERE "id" = $1 FOR KEY
      // SHARE OF x`) is one row here, shown with the first table it met — "3 calls on schools" per terminal
      // order were the checks on schools, terminals and terminal_orders (one each).
      const { rows } = await pool.query<{
        calls: string;
        ms: number;
        planMs: number;
        plans: string;
        query: string;
      }>(
        `select calls, total_exec_time as ms, total_plan_time as "planMs", plans,
                regexp_replace(query, '\\s+', ' ', 'g') as query
           from pg_stat_statements where query not like '%pg_stat_statements%'
          order by total_exec_time + total_plan_time desc limit 25`,
      );
      const totals = rows.reduce((sum, row) => ({ exec: sum.exec + row.ms, plan: sum.plan + row.planMs }), {
        exec: 0,
        plan: 0,
      });
      console.log(
        `         top statements per ${unitName}: ${round(totals.exec / units, 3)} ms executing, ${round(totals.plan / units, 3)} ms planning`,
      );
      for (const row of rows) {
        console.log(
          `         ${String(round(Number(row.calls) / units, 2)).padStart(6)} calls/${unitName} ${String(round(row.ms / units, 3)).padStart(7)} ms exec ${String(round(row.planMs / units, 3)).padStart(6)} ms plan (${String(round(Number(row.plans) / units, 2))} plans)  ${row.query.slice(0, 150)}`,
        );
      }
    },
    close: () => pool.end(),
  };
}
