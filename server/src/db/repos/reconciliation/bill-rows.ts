import { sql } from 'drizzle-orm';
import type pg from 'pg';
import type { Executor } from '../../client.js';
import type { TradeBillRow } from '../../../integrations/alipay/trade-bill.js';

/**
 * The stored detail rows of a day's trade bill. Written in batches through one array-typed INSERT each
 * (one round trip per batch, whatever its size), inside the caller's transaction on `client`.
 */

export async function deleteBillRows(client: pg.PoolClient, schoolId: string, billDate: string) {
  await client.query('delete from bill_rows where school_id = $1 and bill_date = $2', [schoolId, billDate]);
}

export async function insertBillRows(
  client: pg.PoolClient,
  schoolId: string,
  billDate: string,
  rows: readonly TradeBillRow[],
): Promise<void> {
  if (rows.length === 0) return;
  const col = <T>(pick: (r: TradeBillRow) => T) => rows.map(pick);
  await client.query(
    `insert into bill_rows (school_id, bill_date, line_no, trade_no, out_trade_no, is_refund, refund_request_no,
                            subject, amount_fen, received_fen, fee_fen, royalty_fen, finished_at, terminal_id, memo)
     select $1, $2, * from unnest($3::int[], $4::text[], $5::text[], $6::bool[], $7::text[], $8::text[],
                                  $9::int[], $10::int[], $11::int[], $12::int[], $13::timestamptz[], $14::text[], $15::text[])`,
    [
      schoolId,
      billDate,
      col((r) => r.lineNo),
      col((r) => r.tradeNo),
      col((r) => r.outTradeNo),
      col((r) => r.isRefund),
      col((r) => r.refundRequestNo),
      col((r) => r.subject),
      col((r) => r.amountFen),
      col((r) => r.receivedFen),
      col((r) => r.feeFen),
      col((r) => r.royaltyFen),
      col((r) => r.finishedAt),
      col((r) => r.terminalId),
      col((r) => r.memo),
    ],
  );
}

/** The day's stored rows in the bill's order, `limit` at a time after `afterLineNo` (keyset, for exports). */
export async function readBillRows(
  db: Executor,
  schoolId: string,
  billDate: string,
  afterLineNo: number,
  limit: number,
): Promise<TradeBillRow[]> {
  const { rows } = await db.execute(sql`
    select line_no, trade_no, out_trade_no, is_refund, refund_request_no, subject, amount_fen, received_fen,
           fee_fen, royalty_fen, finished_at, terminal_id, memo
      from bill_rows
     where school_id = ${schoolId} and bill_date = ${billDate} and line_no > ${afterLineNo}
     order by line_no limit ${limit}`);
  return rows.map((r) => ({
    lineNo: Number(r.line_no),
    tradeNo: String(r.trade_no),
    outTradeNo: String(r.out_trade_no),
    isRefund: Boolean(r.is_refund),
    refundRequestNo: (r.refund_request_no as string | null) ?? null,
    subject: (r.subject as string | null) ?? '',
    amountFen: Number(r.amount_fen),
    receivedFen: Number(r.received_fen),
    feeFen: Number(r.fee_fen),
    royaltyFen: Number(r.royalty_fen),
    finishedAt: r.finished_at === null ? null : new Date(r.finished_at as string),
    terminalId: (r.terminal_id as string | null) ?? null,
    memo: (r.memo as string | null) ?? null,
  }));
}
