import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import pg from 'pg';
import { copyBillRows, deleteBillRows } from '../../../server/src/db/repos/reconciliation/bill-rows.js';
import type { TradeBillRow } from '../../../server/src/integrations/alipay/trade-bill.js';
import { freshDatabase } from '../../support/db.js';

/**
 * The bill's rows go into PostgreSQL with COPY as they are parsed (issue 17, memory that does not grow
 * with the bill): every value arrives as the parser read it, whatever characters it holds, and a bill
 * that fails halfway leaves the day's stored rows as they were.
 */
describe('bill rows streamed into PostgreSQL with COPY', function () {
  this.timeout(60_000);
  let pool: pg.Pool;
  const schoolId = crypto.randomUUID();

  before(async () => {
    pool = new pg.Pool({ connectionString: await freshDatabase(), max: 2 });
  });
  after(() => pool?.end());

  function row(lineNo: number, fields: Partial<TradeBillRow> = {}): TradeBillRow {
    return {
      lineNo,
      tradeNo: `2026120522001${String(lineNo).padStart(15, '0')}`,
      outTradeNo: `R${String(lineNo).padStart(31, '0')}`,
      isRefund: false,
      refundRequestNo: null,
      subject: '对账示范大学 校园卡充值',
      amountFen: 1_000 + lineNo,
      receivedFen: 1_000 + lineNo,
      feeFen: -6,
      royaltyFen: 0,
      finishedAt: new Date('2026-12-05T04:30:00.000Z'),
      terminalId: null,
      memo: null,
      ...fields,
    };
  }

  async function* streamOf(rows: TradeBillRow[], failAfter?: number) {
    for (const [i, r] of rows.entries()) {
      if (i === failAfter) throw new Error('line 3: 业务类型 "冻结" is neither 交易 nor 退款');
      yield r;
    }
  }

  /** The day's rows replaced in one transaction, as the reconciliation stores them. */
  async function store(billDate: string, rows: AsyncIterable<TradeBillRow>): Promise<number> {
    const client = await pool.connect();
    try {
      await client.query('begin');
      await deleteBillRows(client, schoolId, billDate);
      const count = await copyBillRows(client, schoolId, billDate, rows);
      await client.query('commit');
      return count;
    } catch (error) {
      await client.query('rollback');
      throw error;
    } finally {
      client.release();
    }
  }

  async function stored(billDate: string) {
    const { rows } = await pool.query(
      `select line_no, trade_no, out_trade_no, is_refund, refund_request_no, subject, amount_fen, received_fen,
              fee_fen, royalty_fen, finished_at, terminal_id, memo
         from bill_rows where school_id = $1 and bill_date = $2 order by line_no`,
      [schoolId, billDate],
    );
    return rows;
  }

  it('stores every value as parsed: text with tabs, backslashes and line breaks, empty cells, refunds', async () => {
    const awkward = row(1, {
      subject: 'C:\\饭卡\\充值\t第二列\n第二行\r回车 \\N 不是空',
      memo: '\\',
      terminalId: 'POS\\01',
    });
    const refund = row(2, {
      isRefund: true,
      refundRequestNo: 'RQ20261205000000000000000000001',
      amountFen: -700,
      receivedFen: -700,
      feeFen: 4,
      royaltyFen: -270,
      subject: '',
      finishedAt: null,
    });
    assert.equal(await store('2026-12-05', streamOf([awkward, refund])), 2);
    const [a, b] = await stored('2026-12-05');
    assert.deepEqual(
      [a.subject, a.memo, a.terminal_id, a.refund_request_no, a.is_refund],
      [awkward.subject, '\\', 'POS\\01', null, false],
    );
    assert.equal(a.finished_at.toISOString(), '2026-12-05T04:30:00.000Z');
    assert.deepEqual(
      [b.is_refund, b.refund_request_no, b.amount_fen, b.received_fen, b.fee_fen, b.royalty_fen],
      [true, refund.refundRequestNo, -700, -700, 4, -270],
    );
    assert.deepEqual([b.subject, b.finished_at, b.memo], ['', null, null]);
  });

  it('stores a bill of many chunks whole, in order', async () => {
    const rows = Array.from({ length: 5_000 }, (_, i) => row(i + 1));
    assert.equal(await store('2026-12-06', streamOf(rows)), 5_000);
    const { rows: sums } = await pool.query(
      `select count(*)::int as n, sum(amount_fen)::int as fen, min(line_no) as first, max(line_no) as last
         from bill_rows where school_id = $1 and bill_date = $2`,
      [schoolId, '2026-12-06'],
    );
    assert.deepEqual(sums[0], {
      n: 5_000,
      fen: rows.reduce((s, r) => s + r.amountFen, 0),
      first: 1,
      last: 5_000,
    });
  });

  it('leaves the stored day as it was when the bill fails halfway, and the connection usable', async () => {
    const before = await stored('2026-12-05');
    const rows = Array.from({ length: 3_000 }, (_, i) => row(i + 1));
    await assert.rejects(store('2026-12-05', streamOf(rows, 2_500)), /neither 交易 nor 退款/);
    assert.deepEqual(await stored('2026-12-05'), before);
    // Both pooled connections still answer (the aborted COPY left none in a bad state).
    const clients = [await pool.connect(), await pool.connect()];
    try {
      for (const client of clients) assert.equal((await client.query('select 1 as one')).rows[0].one, 1);
    } finally {
      for (const client of clients) client.release();
    }
  });
});
