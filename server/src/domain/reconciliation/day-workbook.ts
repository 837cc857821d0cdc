import type { Writable } from 'node:stream';
import ExcelJS from 'exceljs';
import {
  FINDING_ACTION_LABELS_ZH,
  FINDING_RESOLUTION_LABELS_ZH,
  dayStateLabel,
  reconciliationKindLabel,
} from '../../../../shared/reconciliation.js';
import { readBillRows } from '../../db/repos/reconciliation/bill-rows.js';
import { findSchool } from '../../db/repos/schools/schools.js';
import type { Deps } from '../../deps.js';
import { DomainError } from '../errors.js';
import { dayDetail } from './reconciliation-views.js';

/**
 * One reconciled day as an XLSX workbook for the school's finance office (issue 17): 汇总 (the day and its
 * totals per kind: ours, Alipay's, the vendor's, the difference, fees, royalty), 差异 (every finding, open or
 * resolved, with what was done) and 账单明细 (the bill's rows as Alipay sent them). Amounts are yuan numbers
 * formatted to the fen, so the office can sum them; times are Beijing time. Written as a stream (exceljs'
 * WorkbookWriter) and the bill's rows read a page at a time, so a 200,000-row day does not sit in memory.
 */

const YUAN = '#,##0.00';
const PAGE_ROWS = 5_000;

const yuan = (fen: number | null | undefined) =>
  fen === null || fen === undefined ? null : Math.round(fen) / 100;

function beijingText(at: Date | string | null): string {
  if (at === null) return '';
  const shifted = new Date(new Date(at).getTime() + 8 * 3_600_000).toISOString();
  return `${shifted.slice(0, 10)} ${shifted.slice(11, 19)}`;
}

export interface DayWorkbook {
  /** What the office sees: 对账_<school code>_<date>.xlsx. */
  fileName: string;
  /** Streams the workbook to `out` and resolves once it is all written. */
  write(out: Writable): Promise<void>;
}

/**
 * Checks that the day was reconciled (RECONCILIATION_DAY_NOT_FOUND otherwise) before anything is written, so
 * an HTTP caller can still answer 404; the workbook itself is written by `write`.
 */
export async function prepareDayWorkbook(
  deps: Pick<Deps, 'db'>,
  schoolId: string,
  billDate: string,
  options: { maskCard?: (cardNo: string) => string } = {},
): Promise<DayWorkbook> {
  const found = await findSchool(deps.db, schoolId);
  if (!found) throw new DomainError('SCHOOL_NOT_FOUND');
  const school = found;
  const day = await dayDetail(deps, school.id, billDate, {
    findingLimit: 100_000,
    maskCard: options.maskCard,
  });
  const fileName = `对账_${school.code}_${billDate}.xlsx`;
  return { fileName, write: (out) => writeWorkbook(out) };

  async function writeWorkbook(out: Writable): Promise<void> {
    const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useStyles: true });
    workbook.creator = 'Campus Card × Alipay';

    const summary = workbook.addWorksheet('汇总');
    summary.columns = [
      { header: '类型', key: 'kind', width: 18 },
      { header: '笔数', key: 'rows', width: 10 },
      { header: '平台（元）', key: 'ours', width: 16, style: { numFmt: YUAN } },
      { header: '支付宝（元）', key: 'alipay', width: 16, style: { numFmt: YUAN } },
      { header: '一卡通（元）', key: 'vendor', width: 16, style: { numFmt: YUAN } },
      { header: '差额（元）', key: 'difference', width: 16, style: { numFmt: YUAN } },
      { header: '服务费（元）', key: 'fee', width: 16, style: { numFmt: YUAN } },
      { header: '支付宝分润（元）', key: 'royalty', width: 16, style: { numFmt: YUAN } },
      { header: '平台分润（元）', key: 'oursRoyalty', width: 16, style: { numFmt: YUAN } },
    ];
    for (const k of day.totals?.kinds ?? []) {
      summary
        .addRow({
          kind: reconciliationKindLabel(k.kind),
          rows: k.rows,
          ours: yuan(k.oursFen),
          alipay: yuan(k.alipayFen),
          vendor: yuan(k.vendorFen),
          difference: yuan(k.differenceFen),
          fee: yuan(k.feeFen),
          royalty: yuan(k.royaltyFen),
          // Empty for days reconciled before royalty was compared (no figure of ours was saved).
          oursRoyalty: yuan(k.oursRoyaltyFen),
        })
        .commit();
    }
    if (day.totals) {
      const all = day.totals.all;
      summary
        .addRow({
          kind: '合计（收款减退款）',
          rows: day.billRows,
          ours: yuan(all.oursFen),
          alipay: yuan(all.alipayFen),
          vendor: yuan(day.totals.vendor.vendorFen),
          difference: yuan(all.differenceFen),
          fee: yuan(all.feeFen),
          royalty: yuan(all.royaltyFen),
          oursRoyalty: yuan(all.oursRoyaltyFen),
        })
        .commit();
    }
    summary.addRow([]).commit();
    const facts: Array<[string, string | number]> = [
      ['学校', `${school.name}（${school.code}）`],
      ['账单日期', day.billDate],
      ['对账结果', dayStateLabel(day)],
      ['账单行数', day.billRows],
      ['差异', day.findings],
      ['待处理差异', day.openFindings],
      ['一卡通未核对的卡', day.totals?.vendor.uncheckedCards ?? 0],
      ['对账时间', beijingText(day.matchedAt)],
    ];
    for (const fact of facts) summary.addRow(fact).commit();
    summary.commit();

    const findings = workbook.addWorksheet('差异');
    findings.columns = [
      { header: '差异', key: 'title', width: 34 },
      { header: '差异代码', key: 'kind', width: 24 },
      { header: '处理方式', key: 'action', width: 14 },
      { header: '交易类型', key: 'recordKind', width: 12 },
      { header: '商户订单号', key: 'outTradeNo', width: 30 },
      { header: '支付宝交易号', key: 'tradeNo', width: 32 },
      { header: '卡号', key: 'cardNo', width: 16 },
      { header: '平台（元）', key: 'ours', width: 14, style: { numFmt: YUAN } },
      { header: '支付宝（元）', key: 'alipay', width: 14, style: { numFmt: YUAN } },
      { header: '一卡通（元）', key: 'vendor', width: 14, style: { numFmt: YUAN } },
      { header: '状态', key: 'status', width: 10 },
      { header: '处理结果', key: 'resolution', width: 22 },
      { header: '处理人', key: 'resolvedBy', width: 24 },
      { header: '处理时间', key: 'resolvedAt', width: 20 },
      { header: '说明', key: 'note', width: 30 },
    ];
    for (const f of day.findingList) {
      findings
        .addRow({
          title: f.title,
          kind: f.kind,
          action: FINDING_ACTION_LABELS_ZH[f.action] ?? f.action,
          recordKind: reconciliationKindLabel(f.recordKind),
          outTradeNo: f.outTradeNo,
          tradeNo: f.tradeNo ?? '',
          cardNo: f.cardNo ?? '',
          ours: yuan(f.oursFen),
          alipay: yuan(f.alipayFen),
          vendor: yuan(f.vendorFen),
          status: f.status === 'OPEN' ? '待处理' : '已处理',
          resolution: f.resolution ? (FINDING_RESOLUTION_LABELS_ZH[f.resolution] ?? f.resolution) : '',
          resolvedBy: f.resolvedBy ?? '',
          resolvedAt: beijingText(f.resolvedAt),
          note: f.note ?? '',
        })
        .commit();
    }
    findings.commit();

    const bill = workbook.addWorksheet('账单明细');
    bill.columns = [
      { header: '行号', key: 'lineNo', width: 8 },
      { header: '支付宝交易号', key: 'tradeNo', width: 32 },
      { header: '商户订单号', key: 'outTradeNo', width: 30 },
      { header: '业务类型', key: 'type', width: 10 },
      { header: '退款请求号', key: 'refundRequestNo', width: 30 },
      { header: '商品名称', key: 'subject', width: 28 },
      { header: '完成时间', key: 'finishedAt', width: 20 },
      { header: '订单金额（元）', key: 'amount', width: 14, style: { numFmt: YUAN } },
      { header: '商家实收（元）', key: 'received', width: 14, style: { numFmt: YUAN } },
      { header: '服务费（元）', key: 'fee', width: 14, style: { numFmt: YUAN } },
      { header: '分润（元）', key: 'royalty', width: 14, style: { numFmt: YUAN } },
      { header: '终端号', key: 'terminalId', width: 16 },
      { header: '备注', key: 'memo', width: 24 },
    ];
    for (let after = 0; ;) {
      const rows = await readBillRows(deps.db, school.id, billDate, after, PAGE_ROWS);
      for (const r of rows) {
        bill
          .addRow({
            lineNo: r.lineNo,
            tradeNo: r.tradeNo,
            outTradeNo: r.outTradeNo,
            type: r.isRefund ? '退款' : '交易',
            refundRequestNo: r.refundRequestNo ?? '',
            subject: r.subject,
            finishedAt: beijingText(r.finishedAt),
            amount: yuan(r.amountFen),
            received: yuan(r.receivedFen),
            fee: yuan(r.feeFen),
            royalty: yuan(r.royaltyFen),
            terminalId: r.terminalId ?? '',
            memo: r.memo ?? '',
          })
          .commit();
      }
      if (rows.length < PAGE_ROWS) break;
      after = rows[rows.length - 1].lineNo;
    }
    bill.commit();
    await workbook.commit();
  }
}
