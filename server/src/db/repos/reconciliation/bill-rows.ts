import type pg from 'pg';
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
