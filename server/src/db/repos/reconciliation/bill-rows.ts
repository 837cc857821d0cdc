import { sql } from 'drizzle-orm';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Executor } from '../../client.js';
import type { TradeBillRow } from '../../../integrations/alipay/trade-bill.js';

/**
 * The stored detail rows of a day's trade bill. Written with `COPY … FROM STDIN` as the rows stream in, inside
 * the caller's transaction on `client`: each row becomes a line of COPY's text format at once and is sent in
 * chunks of about 64 KB as the connection drains, so nothing per row outlives its chunk (with batched
 * INSERTs a batch's rows and their array parameters lived until the batch was written, and the process's
 * peak memory grew with the bill: README "Performance").
 */

export async function deleteBillRows(client: pg.PoolClient, schoolId: string, billDate: string) {
  await client.query('delete from bill_rows where school_id = $1 and bill_date = $2', [schoolId, billDate]);
}

const COPY_BILL_ROWS = `copy bill_rows (school_id, bill_date, line_no, trade_no, out_trade_no, is_refund,
  refund_request_no, subject, amount_fen, received_fen, fee_fen, royalty_fen, finished_at, terminal_id, memo)
  from stdin`;

/** Characters of COPY text a chunk gathers before it is written. */
const CHUNK_CHARS = 64 * 1024;

/** Streams `rows` into the day's bill_rows; returns how many. */
export async function copyBillRows(
  client: pg.PoolClient,
  schoolId: string,
  billDate: string,
  rows: AsyncIterable<TradeBillRow>,
): Promise<number> {
  let count = 0;
  const prefix = `${copyText(schoolId)}\t${copyText(billDate)}\t`;
  const time = lastIsoString();
  async function* lines(source: AsyncIterable<TradeBillRow>) {
    let chunk = '';
    for await (const r of source) {
      chunk +=
        `${prefix}${r.lineNo}\t${copyText(r.tradeNo)}\t${copyText(r.outTradeNo)}\t${r.isRefund ? 't' : 'f'}\t` +
        `${copyText(r.refundRequestNo)}\t${copyText(r.subject)}\t${r.amountFen}\t${r.receivedFen}\t` +
        `${r.feeFen}\t${r.royaltyFen}\t${time(r.finishedAt)}\t${copyText(r.terminalId)}\t${copyText(r.memo)}\n`;
      count += 1;
      if (chunk.length >= CHUNK_CHARS) {
        yield chunk;
        chunk = '';
      }
    }
    if (chunk !== '') yield chunk;
  }
  await pipeline(rows, lines, client.query(copyFrom(COPY_BILL_ROWS)));
  return count;
}

const COPY_SPECIAL = /[\\\t\n\r]/;
const COPY_SPECIALS = /[\\\t\n\r]/g;
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** A value as COPY's text format writes it: null is \N; backslash, tab and line breaks escaped. */
function copyText(value: string | null): string {
  if (value === null) return '\\N';
  return COPY_SPECIAL.test(value) ? value.replace(COPY_SPECIALS, (ch) => COPY_ESCAPES[ch]) : value;
}

/** Date → ISO text, remembering the last one (the parser hands the rows of one second the same Date). */
function lastIsoString(): (at: Date | null) => string {
  let last: Date | null = null;
  let text = '\\N';
  return (at) => {
    if (at === null) return '\\N';
    if (at !== last) {
      last = at;
      text = at.toISOString();
    }
    return text;
  };
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
