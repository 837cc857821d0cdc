/**
 * Reconciliation (对账, issue 17) for every admin role: a month of days on a calendar — balanced, with open
 * findings, or waiting for Alipay's bill — and the month's count of each. A day opens its totals and
 * findings (admin-reconciliation-day). Days are Beijing calendar days; the latest is yesterday.
 */
import { adminApi } from '../../services/admin-api';
import { messageOf } from '../../services/api-error';
import { datasetValue, type TapEvent } from '../../services/events';
import { stopPullDownRefresh } from '../../services/jsapi';
import { openPage } from '../../services/navigation';
import {
  calendarMonth,
  lastBillDay,
  monthRange,
  shiftMonth,
  type CalendarCell,
  type CalendarMonth,
} from '../../view-models/reconciliation';

Page({
  data: {
    loading: true,
    errorMessage: '',
    schoolId: '',
    month: '',
    calendar: null as CalendarMonth | null,
  },

  onLoad(query: { schoolId?: string; month?: string }): void {
    const month = /^\d{4}-\d{2}$/.test(query.month ?? '')
      ? query.month!
      : lastBillDay(new Date()).slice(0, 7);
    this.setData({ schoolId: query.schoolId ?? '', month });
  },

  // Back from a day whose findings were repaired: its state has changed.
  onShow(): Promise<void> {
    return this.load();
  },

  async load(): Promise<void> {
    this.setData({ loading: !this.data.calendar, errorMessage: '' });
    try {
      const { days } = await adminApi.reconciliationDays(this.data.schoolId, monthRange(this.data.month));
      this.setData({
        loading: false,
        calendar: calendarMonth(this.data.month, days, lastBillDay(new Date())),
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

  onPreviousMonth(): Promise<void> {
    this.setData({ month: shiftMonth(this.data.month, -1), calendar: null });
    return this.load();
  },

  onNextMonth(): Promise<void> | void {
    if (!this.data.calendar?.hasNext) return;
    this.setData({ month: shiftMonth(this.data.month, 1), calendar: null });
    return this.load();
  },

  onOpenDay(event: TapEvent): void {
    const date = datasetValue(event, 'date');
    let cell: CalendarCell | undefined;
    for (const week of this.data.calendar?.weeks ?? []) cell ??= week.cells.find((c) => c.date === date);
    if (!cell || !cell.canOpen) return;
    openPage('adminReconciliationDay', { schoolId: this.data.schoolId, billDate: cell.date });
  },
});
