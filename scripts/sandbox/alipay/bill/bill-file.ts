import iconv from 'iconv-lite';
import JSZip from 'jszip';
import { formatBeijing } from '../beijing-time.js';
import { yuanText } from '../domain/amounts.js';
import { maskLogonId } from '../domain/accounts.js';
import type { BillCorruption, Merchant, Trade } from '../state/types.js';

/**
 * Bill files in Alipay's layout (ALIPAY.md §4.14): a zip named `<PID>0156_<date>.csv.zip` holding GBK CSVs
 * with `#` comment lines around the table, the summary file first, cells with long numbers ending in `\t`.
 * Entry names are GBK too (Chinese Windows zips), with an Info-ZIP Unicode Path field that JSZip reads.
 */

export interface BillPeriod {
  /** yyyyMMdd or yyyyMM, as in the file name. */
  label: string;
  from: Date;
  to: Date;
}

const LINE = '\r\n';
const DASHES = '-'.repeat(41);

const DETAIL_COLUMNS = [
  '支付宝交易号',
  '商户订单号',
  '业务类型',
  '商品名称',
  '创建时间',
  '完成时间',
  '门店编号',
  '门店名称',
  '操作员',
  '终端号',
  '对方账户',
  '订单金额（元）',
  '商家实收（元）',
  '支付宝红包（元）',
  '集分宝（元）',
  '支付宝优惠（元）',
  '商家优惠（元）',
  '券核销金额（元）',
  '券名称',
  '商家红包消费金额（元）',
  '卡消费金额（元）',
  '退款批次号/请求号',
  '服务费（元）',
  '分润（元）',
  '备注',
];

const SUMMARY_COLUMNS = [
  '门店编号',
  '门店名称',
  '交易订单总笔数',
  '退款订单总笔数',
  '订单金额（元）',
  '商家实收（元）',
  '支付宝优惠（元）',
  '商家优惠（元）',
  '卡消费金额（元）',
  '服务费（元）',
  '分润（元）',
  '实收净额（元）',
];

const ACCOUNT_COLUMNS = [
  '账务流水号',
  '业务流水号',
  '商户订单号',
  '商品名称',
  '发生时间',
  '对方账号',
  '收入金额（+元）',
  '支出金额（-元）',
  '账户余额（元）',
  '交易渠道',
  '业务类型',
  '备注',
];

function chineseTime(date: Date): string {
  const t = formatBeijing(date);
  return `${t.slice(0, 4)}年${t.slice(5, 7)}月${t.slice(8, 10)}日 ${t.slice(11)}`;
}

/** CSV cell: quoted only when it has to be; long numbers get the trailing tab Alipay uses. */
function cell(value: string, isLongNumber = false): string {
  const text = isLongNumber && value ? `${value}\t` : value;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function header(title: string, merchant: Merchant, period: BillPeriod, list: string): string[] {
  return [
    `#${title}`,
    `#账号：[${merchant.pid}0156]`,
    `#起始日期：[${chineseTime(period.from)}]   终止日期：[${chineseTime(period.to)}]`,
    `#${DASHES}${list}${DASHES}`,
  ];
}

function within(date: Date | undefined, period: BillPeriod): boolean {
  return (
    date !== undefined && date.getTime() >= period.from.getTime() && date.getTime() < period.to.getTime()
  );
}

interface DetailRow {
  at: number;
  tradeNo: string;
  outTradeNo: string;
  isRefund: boolean;
  subject: string;
  createdAt: Date;
  finishedAt: Date;
  storeId: string;
  operatorId: string;
  terminalId: string;
  counterparty: string;
  /** Negative on refund rows, as in Alipay's file. */
  amountFen: number;
  requestNo: string;
  /** 服务费: negative on trade rows (charged), positive on refund rows (given back). */
  feeFen: number;
  /**
   * 分润, per row like the fee: on the trade row what was split off the trade for the receivers (royalty_info
   * and settles, before any refund took part back), on a refund row minus what that refund took back.
   */
  royaltyFen: number;
  memo: string;
}

/** Alipay's fee on a payment, rounded to the fen (the sandbox's rate is a setting, per mille). */
export function serviceFeeFen(amountFen: number, feePermille: number): number {
  return Math.round((amountFen * feePermille) / 1000);
}

/** Royalty refunds took back from the trade's receivers, by out_request_no. */
function royaltyReturnedBy(trade: Trade): Map<string, number> {
  const returned = new Map<string, number>();
  for (const r of trade.royaltyReturns ?? [])
    returned.set(r.outRequestNo, (returned.get(r.outRequestNo) ?? 0) + r.amountFen);
  return returned;
}

function tradeRows(trades: Iterable<Trade>, period: BillPeriod, feePermille: number): DetailRow[] {
  const rows: DetailRow[] = [];
  for (const trade of trades) {
    const returned = trade.royaltyReturns ? royaltyReturnedBy(trade) : undefined;
    let returnedFen = 0;
    for (const fen of returned?.values() ?? []) returnedFen += fen;
    const base = {
      tradeNo: trade.tradeNo,
      outTradeNo: trade.outTradeNo,
      subject: trade.subject,
      createdAt: trade.createdAt,
      storeId: trade.storeId ?? '',
      operatorId: trade.operatorId ?? '',
      terminalId: trade.terminalId ?? '',
      counterparty: trade.buyer ? maskLogonId(trade.buyer.logonId) : '',
    };
    if (trade.paidAt && within(trade.paidAt, period)) {
      rows.push({
        ...base,
        at: trade.paidAt.getTime(),
        finishedAt: trade.paidAt,
        isRefund: false,
        amountFen: trade.totalFen,
        requestNo: '',
        feeFen: -serviceFeeFen(trade.totalFen, feePermille),
        royaltyFen: trade.settledFen + returnedFen,
        memo: trade.body ?? '',
      });
    }
    for (const refund of trade.refunds.values()) {
      if (!within(refund.refundedAt, period)) continue;
      rows.push({
        ...base,
        at: refund.refundedAt.getTime(),
        finishedAt: refund.refundedAt,
        isRefund: true,
        amountFen: -refund.amountFen,
        requestNo: refund.outRequestNo,
        feeFen: serviceFeeFen(refund.amountFen, feePermille),
        royaltyFen: -(returned?.get(refund.outRequestNo) ?? 0),
        memo: refund.reason ?? '',
      });
    }
  }
  return rows.sort((a, b) => a.at - b.at);
}

/** The corruptions asked for this bill, applied to its rows. */
function corrupted(
  rows: DetailRow[],
  corruptions: readonly BillCorruption[],
  merchant: Merchant,
  period: BillPeriod,
): DetailRow[] {
  let result = rows;
  for (const c of corruptions) {
    if (c.sellerPid !== merchant.pid || c.billDate.replaceAll('-', '') !== period.label) continue;
    // With outRequestNo a corruption is of that refund row only; refund rows' amounts (and the royalty they
    // took back) are negative.
    const hit = (r: DetailRow) =>
      r.outTradeNo === c.outTradeNo &&
      (c.outRequestNo === undefined ? c.kind === 'DROP' || !r.isRefund : r.requestNo === c.outRequestNo);
    if (c.kind === 'DROP') result = result.filter((r) => !hit(r));
    if (c.kind === 'AMOUNT') {
      result = result.map((r) =>
        hit(r)
          ? {
              ...r,
              amountFen: c.amountFen === undefined ? r.amountFen : r.isRefund ? -c.amountFen : c.amountFen,
            }
          : r,
      );
    }
    if (c.kind === 'ROYALTY') {
      result = result.map((r) =>
        hit(r) ? { ...r, royaltyFen: r.isRefund ? -(c.amountFen ?? 0) : (c.amountFen ?? 0) } : r,
      );
    }
    if (c.kind === 'STRANGER') {
      // A payment nobody made, or (with outRequestNo) a refund of outTradeNo nobody asked for.
      const isRefund = c.outRequestNo !== undefined;
      const at = new Date(period.from.getTime() + 12 * 3_600_000);
      const amountFen = c.amountFen ?? 100;
      result = [
        ...result,
        {
          at: at.getTime(),
          tradeNo: `2099${c.id.replace(/\D/g, '').padEnd(24, '0').slice(0, 24)}`,
          outTradeNo: c.outTradeNo ?? `STRANGER${c.id}`,
          isRefund,
          subject: isRefund ? '陌生退款' : '陌生交易',
          createdAt: at,
          finishedAt: at,
          storeId: '',
          operatorId: '',
          terminalId: '',
          counterparty: 'str***@example.com',
          amountFen: isRefund ? -amountFen : amountFen,
          requestNo: c.outRequestNo ?? '',
          feeFen: 0,
          royaltyFen: 0,
          memo: '',
        },
      ];
    }
  }
  return result;
}

function detailCells(r: DetailRow): string {
  return [
    cell(r.tradeNo, true),
    cell(r.outTradeNo, true),
    r.isRefund ? '退款' : '交易',
    cell(r.subject),
    formatBeijing(r.createdAt),
    formatBeijing(r.finishedAt),
    cell(r.storeId, true),
    '',
    cell(r.operatorId),
    cell(r.terminalId, true),
    cell(r.counterparty),
    yuanText(r.amountFen),
    yuanText(r.amountFen),
    '0.00',
    '0.00',
    '0.00',
    '0.00',
    '0.00',
    '',
    '0.00',
    '0.00',
    cell(r.requestNo, true),
    yuanText(r.feeFen),
    yuanText(r.royaltyFen),
    cell(r.memo),
  ].join(',');
}

function tradeDetailCsv(merchant: Merchant, period: BillPeriod, rows: DetailRow[], exportedAt: Date): string {
  const sales = rows.filter((r) => !r.isRefund);
  const refunds = rows.filter((r) => r.isRefund);
  const sum = (list: DetailRow[]) => list.reduce((total, r) => total + r.amountFen, 0);
  return [
    ...header('支付宝业务明细查询', merchant, period, '业务明细列表'),
    DETAIL_COLUMNS.join(','),
    ...rows.map(detailCells),
    `#${DASHES}业务明细列表结束${DASHES}`,
    `#交易合计：${sales.length}笔，商家实收共${yuanText(sum(sales))}元，商家优惠共0.00元`,
    `#退款合计：${refunds.length}笔，商家实收共${yuanText(sum(refunds))}元，商家优惠共0.00元`,
    `#导出时间：[${chineseTime(exportedAt)}]`,
    '',
  ].join(LINE);
}

function tradeSummaryCsv(
  merchant: Merchant,
  period: BillPeriod,
  rows: DetailRow[],
  exportedAt: Date,
): string {
  const sales = rows.filter((r) => !r.isRefund);
  const refunds = rows.filter((r) => r.isRefund);
  const netFen = rows.reduce((total, r) => total + r.amountFen, 0);
  const feeFen = rows.reduce((total, r) => total + r.feeFen, 0);
  const royaltyFen = rows.reduce((total, r) => total + r.royaltyFen, 0);
  const totals = [
    String(sales.length),
    String(refunds.length),
    yuanText(netFen),
    yuanText(netFen),
    '0.00',
    '0.00',
    '0.00',
    yuanText(feeFen),
    yuanText(royaltyFen),
    yuanText(netFen + feeFen - royaltyFen),
  ];
  return [
    ...header('支付宝业务汇总查询', merchant, period, '业务汇总列表'),
    SUMMARY_COLUMNS.join(','),
    ['', '', ...totals].join(','),
    ['合计', '', ...totals].join(','),
    `#${DASHES}业务汇总列表结束${DASHES}`,
    `#导出时间：[${chineseTime(exportedAt)}]`,
    '',
  ].join(LINE);
}

function accountCsv(merchant: Merchant, period: BillPeriod, exportedAt: Date): string {
  const entries = merchant.accountEntries.filter((e) => within(e.at, period));
  const income = entries.filter((e) => e.amountFen >= 0);
  const expense = entries.filter((e) => e.amountFen < 0);
  const rows = entries.map((e) =>
    [
      cell(e.entryNo, true),
      cell(e.bizNo, true),
      cell(e.outTradeNo, true),
      cell(e.subject),
      formatBeijing(e.at),
      cell(e.counterparty),
      e.amountFen >= 0 ? yuanText(e.amountFen) : '',
      e.amountFen < 0 ? yuanText(e.amountFen) : '',
      yuanText(e.balanceAfterFen),
      '支付宝',
      e.bizType === '交易' ? '在线支付' : e.bizType === '退款' ? '交易退款' : '分账',
      cell(e.memo),
    ].join(','),
  );
  const sum = (list: typeof entries) => yuanText(list.reduce((total, e) => total + e.amountFen, 0));
  return [
    ...header('支付宝账务明细查询', merchant, period, '账务明细列表'),
    ACCOUNT_COLUMNS.join(','),
    ...rows,
    `#${DASHES}账务明细列表结束${DASHES}`,
    `#支出合计：${expense.length}笔，共${sum(expense)}元`,
    `#收入合计：${income.length}笔，共${sum(income)}元`,
    `#导出时间：[${chineseTime(exportedAt)}]`,
    '',
  ].join(LINE);
}

export function billZipName(merchant: Merchant, period: BillPeriod): string {
  return `${merchant.pid}0156_${period.label}.csv.zip`;
}

export interface BillOptions {
  /** Alipay's service fee on payments, per mille (0.6% = 6). */
  feePermille: number;
  corruptions: readonly BillCorruption[];
}

export async function buildBillZip(
  billType: 'trade' | 'signcustomer',
  merchant: Merchant,
  trades: Iterable<Trade>,
  period: BillPeriod,
  exportedAt: Date,
  options: BillOptions = { feePermille: 0, corruptions: [] },
): Promise<Buffer> {
  const zip = new JSZip();
  const prefix = `${merchant.pid}0156_${period.label}`;
  // JSZip stamps entries with UTC fields; shift so the archive shows Beijing time like Alipay's.
  const date = new Date(exportedAt.getTime() + 8 * 3_600_000);
  const gbk = (text: string) => iconv.encode(text, 'gbk');
  if (billType === 'trade') {
    const rows = corrupted(
      tradeRows(trades, period, options.feePermille),
      options.corruptions,
      merchant,
      period,
    );
    zip.file(`${prefix}_业务明细(汇总).csv`, gbk(tradeSummaryCsv(merchant, period, rows, exportedAt)), {
      date,
    });
    zip.file(`${prefix}_业务明细.csv`, gbk(tradeDetailCsv(merchant, period, rows, exportedAt)), { date });
  } else {
    zip.file(`${prefix}_账务明细.csv`, gbk(accountCsv(merchant, period, exportedAt)), { date });
  }
  return zip.generateAsync({
    type: 'nodebuffer',
    compression: 'DEFLATE',
    // A "binary string" (one char per byte) is what JSZip writes as-is.
    encodeFileName: (name) => iconv.encode(name, 'gbk').toString('latin1'),
  });
}
