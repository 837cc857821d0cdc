import { sql, type SQL } from 'drizzle-orm';
import { findRechargeByOutTradeNo } from '../../db/repos/recharge/recharges.js';
import { findRepaymentByOutTradeNo } from '../../db/repos/withholding/repayments.js';
import type { Deps } from '../../deps.js';
import { reconcileUnpaidRecharge } from '../recharge/recharge.js';
import { applyMissedTerminalPayment } from '../terminals/lifecycle.js';
import { reconcileRepayment } from '../withholding/debts.js';

/**
 * Our records of money collected through Alipay, one source per kind of trade we create (issue 17). Each
 * gives, for one school, a select with the columns
 *
 *   kind, out_trade_no, trade_no, amount_fen, paid_at, is_paid, status, card_no, royalty_fen
 *
 * where `is_paid` says whether we hold the trade as paid at Alipay, `paid_at` when we learnt it and
 * `royalty_fen` the operator's share (分润) we hold as split off the trade, as Alipay's bill shows it on the
 * payment's row (0 for kinds without royalty). The
 * matching (matching.ts) joins the bill's rows to the union of these by out_trade_no, so a new kind of
 * trade is reconciled by adding its source here and, when the kind has a sweep that settles a trade whose
 * notification was lost, `applyPayment` (the repair of a PAID_NOT_RECORDED finding). Refunds of every kind
 * are matched from the `refunds` table (with the royalty each took back). A kind
 * charged with trade.pay under renumbered out_trade_nos (payments/trade-pay-charge.ts) adds its earlier
 * numbers with `supersededCharges` (status SUPERSEDED).
 */
export interface RecordSource {
  kind: string;
  select(schoolId: string): SQL;
  /** Settles a payment Alipay has and we missed, through the code a notification or the sweep uses. */
  applyPayment?(deps: Deps, outTradeNo: string): Promise<boolean>;
}

/**
 * The earlier out_trade_nos of charges that were renumbered: `<no>`, `<no>_2` … before the current
 * `<no>_<k>`. Each was closed or cancelled before the next went out (payments/trade-pay-charge.ts), so it
 * is ours and unpaid: status SUPERSEDED. Alipay can still show one as paid and given back (a buyer who
 * confirmed just before our cancel: Alipay's cancel then refunds the trade), which is no difference when
 * the refund is in the same bill (matching.ts), and a finding (SUPERSEDED_PAID) when it is not.
 * `table` and `numberColumn` are this file's constants, never input.
 */
function supersededCharges(
  kind: string,
  table: string,
  numberColumn: string,
  cardNo: SQL,
  schoolId: string,
): SQL {
  const no = sql.raw(`t.${numberColumn}`);
  return sql`
      select ${kind}::text as kind, n.out_trade_no, null::text as trade_no, t.amount_fen, null::timestamptz as paid_at,
             false as is_paid, 'SUPERSEDED' as status, ${cardNo} as card_no, 0 as royalty_fen
      from ${sql.raw(table)} t
      cross join lateral (
        select ${no} as out_trade_no
        union all
        select ${no} || '_' || i
          from generate_series(2, substring(t.out_trade_no from '_([0-9]+)$')::int - 1) i) n
      where t.school_id = ${schoolId} and t.out_trade_no is distinct from ${no}
        and starts_with(t.out_trade_no, ${no} || '_') and t.out_trade_no ~ '_[0-9]+$'`;
}

export const RECORD_SOURCES: readonly RecordSource[] = [
  {
    kind: 'RECHARGE',
    select: (schoolId) => sql`
      select 'RECHARGE' as kind, out_trade_no, alipay_trade_no as trade_no, amount_fen, paid_at,
             status in ('PAID', 'CREDITED', 'CREDIT_FAILED', 'REFUNDED') as is_paid, status, card_no,
             0 as royalty_fen
      from recharge_orders where school_id = ${schoolId}`,
    async applyPayment(deps, outTradeNo) {
      const order = await findRechargeByOutTradeNo(deps.db, outTradeNo);
      if (!order) return false;
      await reconcileUnpaidRecharge(deps, order);
      const after = await findRechargeByOutTradeNo(deps.db, outTradeNo);
      return after !== undefined && after.status !== 'CREATED' && after.status !== 'CLOSED';
    },
  },
  {
    kind: 'REPAYMENT',
    select: (schoolId) => sql`
      select 'REPAYMENT' as kind, out_trade_no, alipay_trade_no as trade_no, amount_fen, paid_at,
             status = 'PAID' as is_paid, status, null::text as card_no, 0 as royalty_fen
      from repayments where school_id = ${schoolId}`,
    async applyPayment(deps, outTradeNo) {
      const repayment = await findRepaymentByOutTradeNo(deps.db, outTradeNo);
      if (!repayment) return false;
      await reconcileRepayment(deps, repayment);
      return (await findRepaymentByOutTradeNo(deps.db, outTradeNo))?.status === 'PAID';
    },
  },
  {
    // Withholding: the collector settles unknown charges itself by query (deduction-collection.ts), so a
    // deduction Alipay collected and we did not is investigated, not applied from here.
    kind: 'DEDUCTION',
    select: (schoolId) => sql`
      select 'DEDUCTION' as kind, out_trade_no, alipay_trade_no as trade_no, amount_fen,
             collected_at as paid_at, collected_at is not null as is_paid, status, card_no, 0 as royalty_fen
      from deductions where school_id = ${schoolId} and out_trade_no is not null
      union all
      ${supersededCharges('DEDUCTION', 'deductions', 'deduction_no', sql`t.card_no`, schoolId)}`,
  },
  {
    // Terminal orders (issue 15): each way of paying is its own trade (the QR, each mini-program payer), so
    // the payments are the records, for the order's amount. A restricted-collection terminal's trades are
    // the operator's (seller_id): they are in the operator's bill, not the school's, and are left out.
    // Royalty: every paid trade of an ON_PAYMENT order carried royalty_info for the order's share (a late
    // payment's is given back by its refund); an AFTER_DISPENSE share is split off the order's own trade by
    // the settle, once it SUCCEEDED (a settle still SENT shows as a difference until a rerun).
    kind: 'TERMINAL',
    select: (schoolId) => sql`
      select 'TERMINAL' as kind, p.out_trade_no, p.alipay_trade_no as trade_no, o.amount_fen, p.paid_at,
             p.status = 'PAID' as is_paid, p.status, p.card_no,
             case when p.status <> 'PAID' then 0
                  when o.royalty_timing = 'ON_PAYMENT' then coalesce(o.royalty_fen, 0)
                  when o.paid_payment_id = p.id and o.settle_status = 'SUCCEEDED' then coalesce(o.settle_fen, 0)
                  else 0 end as royalty_fen
      from terminal_payments p join terminal_orders o on o.id = p.order_id
      where p.school_id = ${schoolId} and o.seller_id is null`,
    applyPayment: (deps, outTradeNo) => applyMissedTerminalPayment(deps, outTradeNo),
  },
  {
    kind: 'CAMPUS_CODE',
    select: (schoolId) => sql`
      select 'CAMPUS_CODE' as kind, out_trade_no, alipay_trade_no as trade_no, amount_fen, paid_at,
             paid_at is not null as is_paid, status, null::text as card_no, 0 as royalty_fen
      from campus_code_payments where school_id = ${schoolId} and out_trade_no is not null
      union all
      ${supersededCharges('CAMPUS_CODE', 'campus_code_payments', 'payment_no', sql`null::text`, schoolId)}`,
  },
];

export function recordSource(kind: string): RecordSource | undefined {
  return RECORD_SOURCES.find((source) => source.kind === kind);
}

/**
 * The union of every source for one school, restricted by `where`, a condition on the columns of `s` (one
 * source's rows). Keep it free of `or` over subqueries: PostgreSQL runs such a condition once per record
 * unless the subquery's rows fit in work_mem (matching.ts joins instead).
 */
export function ourRecords(schoolId: string, where: SQL): SQL {
  const parts = RECORD_SOURCES.map(
    (source) => sql`select s.* from (${source.select(schoolId)}) s where ${where}`,
  );
  return sql.join(parts, sql` union all `);
}
