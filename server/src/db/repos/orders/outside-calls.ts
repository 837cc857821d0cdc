import { asc, eq, inArray, sql } from 'drizzle-orm';
import type { Executor } from '../../client.js';
import { outsideCalls } from '../../schema.js';

export type OutsideCallRow = typeof outsideCalls.$inferSelect;
export type NewOutsideCall = Omit<OutsideCallRow, 'id'>;

/** Many calls in one statement (the recorder's batches). */
export async function insertOutsideCalls(db: Executor, calls: NewOutsideCall[]): Promise<void> {
  if (calls.length === 0) return;
  const column = <K extends keyof NewOutsideCall>(key: K) => sql.param(calls.map((call) => call[key]));
  await db.execute(sql`
    insert into outside_calls (order_no, system, operation, outcome, code, sub_code, duration_ms, reference, started_at)
    select * from unnest(
      ${column('orderNo')}::text[], ${column('system')}::text[], ${column('operation')}::text[],
      ${column('outcome')}::text[], ${column('code')}::text[], ${column('subCode')}::text[],
      ${column('durationMs')}::integer[], ${column('reference')}::text[], ${column('startedAt')}::timestamptz[]
    )`);
}

/** The calls made for these order numbers, oldest first. */
export async function listOutsideCalls(db: Executor, orderNos: string[]): Promise<OutsideCallRow[]> {
  if (orderNos.length === 0) return [];
  return db
    .select()
    .from(outsideCalls)
    .where(
      orderNos.length === 1 ? eq(outsideCalls.orderNo, orderNos[0]) : inArray(outsideCalls.orderNo, orderNos),
    )
    .orderBy(asc(outsideCalls.startedAt), asc(outsideCalls.id));
}
