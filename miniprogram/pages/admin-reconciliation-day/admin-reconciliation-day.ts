/**
 * One reconciled day (issue 17): where it stands, its totals per kind (ours, Alipay's, the card system's,
 * the difference, fees) and its findings. Staff and owners repair an open finding here: the repairs are the
 * exceptions inbox's actions (kind reconciliation.finding), idempotent and audited by the server; the ones
 * that move money are confirmed first, and 标记已处理 asks for what was done. They may also run the day again.
 * Every role may copy a link to the day's XLSX workbook, to open on a computer (onExport).
 */
import type { AdminRole } from '../../shared/admin-api';
import { adminApi } from '../../services/admin-api';
import { messageOf } from '../../services/api-error';
import { itemActionHandlers, type PendingReason } from '../../services/item-actions';
import { alert, confirm, setClipboard, stopPullDownRefresh, toast } from '../../services/jsapi';
import { formatBeijingDateTime } from '../../shared/format';
import {
  FINDING_INBOX_KIND,
  REPAIR_CONFIRM_ZH,
  toDayHeader,
  toFindingRow,
  toTotalsRows,
  type DayHeader,
  type FindingRow,
  type TotalsRow,
} from '../../view-models/reconciliation';

Page({
  data: {
    loading: true,
    errorMessage: '',
    schoolId: '',
    billDate: '',
    role: 'VIEWER' as AdminRole,
    roleKnown: false,
    canOperate: false,
    header: null as DayHeader | null,
    totals: [] as TotalsRow[],
    findings: [] as FindingRow[],
    hasFindings: false,
    busyKey: '',
    exporting: false,
    reasonFor: null as PendingReason | null,
    reason: '',
    reasonError: '',
  },

  onLoad(query: { schoolId?: string; billDate?: string }): Promise<void> {
    this.setData({ schoolId: query.schoolId ?? '', billDate: query.billDate ?? '' });
    return this.load();
  },

  async load(): Promise<void> {
    this.setData({ loading: !this.data.header, errorMessage: '' });
    try {
      const [school, day] = await Promise.all([
        // The role decides what is offered (the server checks it again on each action).
        this.data.roleKnown ? null : adminApi.school(this.data.schoolId),
        adminApi.reconciliationDay(this.data.schoolId, this.data.billDate),
      ]);
      const role = school ? school.role : this.data.role;
      const findings = day.findingList.map((f) => toFindingRow(f, role));
      this.setData({
        loading: false,
        role,
        roleKnown: true,
        canOperate: role !== 'VIEWER',
        header: toDayHeader(day),
        totals: toTotalsRows(day),
        findings,
        hasFindings: findings.length > 0,
      });
    } catch (error) {
      this.setData({ loading: false, errorMessage: messageOf(error) });
    }
  },

  onRetry(): Promise<void> {
    return this.load();
  },

  async onPullDownRefresh(): Promise<void> {
    try {
      await this.load();
    } finally {
      stopPullDownRefresh();
    }
  },

  ...itemActionHandlers<FindingRow>({
    rowsKey: 'findings',
    actionsOf: (row) => row.repairs,
    confirmText: (row, repair) => `${row.title}（${row.amounts}）。${REPAIR_CONFIRM_ZH[repair.name] ?? ''}`,
    act: (page, row, repair, reason) =>
      adminApi.inboxAction(
        String(page.data.schoolId),
        { kind: FINDING_INBOX_KIND, id: row.id },
        repair,
        reason,
      ),
    doneText: (result) => result.message,
  }),

  /**
   * The day's workbook for the finance office: the mini-program cannot hand an XLSX over (my.openDocument
   * previews PDF only), so a link that opens in a computer's browser for a few minutes goes to the clipboard.
   */
  async onExport(): Promise<void> {
    if (this.data.exporting) return;
    this.setData({ exporting: true });
    try {
      const link = await adminApi.reconciliationExportLink(this.data.schoolId, this.data.billDate);
      await setClipboard(link.url);
      await alert({
        title: '下载链接已复制',
        content:
          `请在电脑浏览器中粘贴打开，下载这一天的对账 Excel（汇总、差异、账单明细）。` +
          `链接 ${formatBeijingDateTime(link.expiresAt)} 前有效，请勿转发给他人。`,
        buttonText: '知道了',
      });
    } catch (error) {
      toast(messageOf(error), 'fail');
    } finally {
      this.setData({ exporting: false });
    }
  },

  async onRerun(): Promise<void> {
    const confirmed = await confirm({
      title: '重新对账',
      content: '重新下载这一天的支付宝账单并核对；已处理的差异不会重复出现。',
      confirmButtonText: '重新对账',
    });
    if (!confirmed) return;
    try {
      await adminApi.rerunReconciliation(this.data.schoolId, this.data.billDate);
      toast('已开始重新对账，稍后下拉刷新查看', 'success');
    } catch (error) {
      toast(messageOf(error), 'fail');
    }
  },
});
