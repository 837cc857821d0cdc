import { fileURLToPath } from 'node:url';
import { is, Placeholder } from 'drizzle-orm';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { ensureJobTables } from '../jobs/runner.js';
import * as schema from './schema.js';

export type Database = NodePgDatabase<typeof schema>;
/** A transaction handle; repositories accept either so callers can compose them in one transaction. */
export type Tx = Parameters<Parameters<Database['transaction']>[0]>[0];
export type Executor = Database | Tx;

export interface DatabaseHandle {
  pool: pg.Pool;
  db: Database;
  close(): Promise<void>;
}

// bigint (int8) columns such as counts and sums come back as strings by default; our sums are of fen
// and stay far below 2^53, so parse them as numbers.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export function connectDatabase(
  url: string,
  options: { poolSize?: number; applicationName?: string; keepOpen?: number } = {},
): DatabaseHandle {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 20,
    // Connections beyond these close after 30 s idle; these stay (a burst after a quiet minute finds them).
    min: options.keepOpen ?? 0,
    application_name: options.applicationName ?? 'campus-card',
    idleTimeoutMillis: 30_000,
  });
  // An idle client that loses its connection must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  const db = drizzle(pool, { schema });
  return { pool, db, close: () => pool.end() };
}

/**
 * A query of a hot path built once per database handle and run as a named prepared statement: drizzle
 * renders its SQL once instead of on every call, and PostgreSQL parses and plans it once per connection.
 * Values go in as placeholders (`sql.placeholder('name')`, given to `execute`). Runs on the pool, never in
 * a caller's transaction.
 */
export function preparedPerDatabase<Query>(build: (db: Database) => Query): (db: Database) => Query {
  const built = new WeakMap<Database, Query>();
  return (db) => {
    let query = built.get(db);
    if (!query) built.set(db, (query = build(db)));
    return query;
  };
}

/** A statement rendered once by drizzle, run by `rawStatement`'s `execute`. */
export interface RawStatement {
  /** Runs it on the database's pool with `values` for its placeholders: its rows, each as an array. */
  execute(db: Database, values: Record<string, unknown>): Promise<unknown[][]>;
}

/**
 * A hot path's statement as drizzle renders it (the same text, `sql.placeholder`s as its only parameters),
 * run on the pool as a named prepared statement with none of drizzle's per-call work — filling the
 * placeholders through its entity checks, tracing spans, the cache hook, mapping each row through every
 * column's decoder. Measured (this process's CPU per execution, a one-row select of the paying statement's
 * 17 order columns, on embedded PostgreSQL): drizzle's prepared execute ≈ 100 µs, this ≈ 85 µs. Its rows
 * come as arrays in the select's order, with pg's own parsers (timestamptz as a Date, json and jsonb
 * parsed: what drizzle's decoders make of them). Build it inside `preparedPerDatabase`.
 */
export function rawStatement(
  name: string,
  query: { toSQL(): { sql: string; params: unknown[] } },
): RawStatement {
  const { sql: text, params } = query.toSQL();
  const names = params.map((param) => {
    if (!is(param, Placeholder)) throw new Error(`statement ${name}: every parameter must be a placeholder`);
    return param.name;
  });
  return {
    async execute(db, values) {
      // The pool (or client) the handle was made on: connectDatabase's drizzle(pool).
      const { $client } = db as Database & { $client: pg.Pool | pg.Client };
      const result = await $client.query<unknown[]>({
        name,
        text,
        values: names.map((key) => values[key]),
        rowMode: 'array',
      });
      return result.rows;
    },
  };
}

export const MIGRATIONS_FOLDER = fileURLToPath(new URL('./migrations', import.meta.url));

/**
 * Applies committed migrations, then Agenda's own tables; an advisory lock keeps several processes that
 * start at once (an API and its workers) from racing each other's DDL.
 */
export async function applyMigrations(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, application_name: 'campus-card-migrate' });
  await client.connect();
  try {
    await client.query('select pg_advisory_lock(7355608)');
    await migrate(drizzle(client), { migrationsFolder: MIGRATIONS_FOLDER });
    await ensureJobTables(url);
  } finally {
    await client.query('select pg_advisory_unlock(7355608)').catch(() => undefined);
    await client.end();
  }
}

/**
 * Opens `count` of the pool's connections now, in the background, rather than in the first burst of work
 * (a connection is a new PostgreSQL backend: a fork and its caches). A failure is left to the first query.
 */
export function openConnections(pool: pg.Pool, count: number): void {
  for (let i = 0; i < count; i++)
    void pool.connect().then(
      (client) => client.release(),
      () => undefined,
    );
}

/**
 * A connection of its own, beside the pool (same server and settings), for what holds one for a long time: a
 * LISTEN, a session lock held for a whole run. Taken from the pool, such a client is missing for requests and
 * jobs for as long as it is held, and one that then waits for a second pooled connection waits forever once
 * every connection is held that way: with DATABASE_POOL_SIZE=6 a ROLE=all process's six LISTEN clients took
 * the whole pool and it never answered /readyz. The caller ends it, and listens for its 'error' (a lost
 * connection), or a loss would crash the process.
 */
export async function connectBesidePool(pool: pg.Pool, applicationName: string): Promise<pg.Client> {
  // pg-pool keeps the password as a non-enumerable property of its options: copied by name.
  const client = new pg.Client({
    ...pool.options,
    password: pool.options.password,
    application_name: applicationName,
  });
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
  return client;
}

export async function isDatabaseReachable(pool: pg.Pool): Promise<boolean> {
  try {
    await pool.query('select 1');
    return true;
  } catch {
    return false;
  }
}
