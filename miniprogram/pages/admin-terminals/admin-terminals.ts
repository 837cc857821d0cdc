/**
 * The school's vending machines and cashier windows (issue 15): every admin sees them and where their money
 * goes; staff edit, disable and enable them; owners add them. Orders open from here.
 */
import type { AdminRole } from '../../shared/admin-api';
import { adminApi } from '../../services/admin-api';
import { messageOf } from '../../services/api-error';
import { datasetValue, type TapEvent } from '../../services/events';
import { confirm, toast } from '../../services/jsapi';
import { openPage } from '../../services/navigation';
import { canOperate, toTerminalRow, type TerminalRow } from '../../view-models/terminals-admin';

Page({
  data: {
    loading: true,
    errorMessage: '',
    isEmpty: false,
    schoolId: '',
    role: 'VIEWER' as AdminRole,
    canOperate: false,
    isOwner: false,
    rows: [] as TerminalRow[],
    busyId: '',
  },

  onLoad(query: { schoolId?: string }): void {
    this.setData({ schoolId: query.schoolId ?? '' });
  },

  onShow(): Promise<void> {
    return this.load();
  },

  async load(): Promise<void> {
    this.setData({ loading: this.data.rows.length === 0, errorMessage: '' });
    try {
      const [detail, list] = await Promise.all([
        adminApi.school(this.data.schoolId),
        adminApi.terminals(this.data.schoolId),
      ]);
      const rows = list.items.map(toTerminalRow);
      this.setData({
        loading: false,
        role: detail.role,
        canOperate: canOperate(detail.role),
        isOwner: detail.role === 'OWNER',
        rows,
        isEmpty: rows.length === 0,
      });
    } catch (error) {
      this.setData({ loading: false, errorMessage: messageOf(error) });
    }
  },

  onRetry(): Promise<void> {
    return this.load();
  },

  onAdd(): void {
    openPage('adminTerminal', { schoolId: this.data.schoolId });
  },

  onEdit(event: TapEvent): void {
    openPage('adminTerminal', { schoolId: this.data.schoolId, id: datasetValue(event, 'id') });
  },

  /** One terminal's orders from its row; every terminal's from the footer. */
  onOrders(event?: TapEvent): void {
    openPage('adminTerminalOrders', { schoolId: this.data.schoolId, terminalId: datasetValue(event, 'id') });
  },

  async onToggle(event: TapEvent): Promise<void> {
    const row = this.data.rows.find((r) => r.id === datasetValue(event, 'id'));
    if (!row || this.data.busyId) return;
    const isDisabling = row.isActive;
    const confirmed = await confirm({
      title: isDisabling ? '停用这台机器？' : '启用这台机器？',
      content: isDisabling
        ? '停用后机器不能再下单；已下的订单照常支付、通知和退款。'
        : '启用后机器可以再次下单。',
      confirmButtonText: row.toggleLabel,
    });
    if (!confirmed) return;
    this.setData({ busyId: row.id });
    try {
      const view = await adminApi.setTerminalStatus(
        this.data.schoolId,
        row.id,
        isDisabling ? 'DISABLED' : 'ACTIVE',
      );
      this.setData({ rows: this.data.rows.map((r) => (r.id === row.id ? toTerminalRow(view) : r)) });
      toast(isDisabling ? '已停用' : '已启用', 'success');
    } catch (error) {
      toast(messageOf(error), 'fail');
    } finally {
      this.setData({ busyId: '' });
    }
  },
});
