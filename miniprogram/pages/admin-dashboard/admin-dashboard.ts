/**
 * The school's dashboard (issue 13, every role): today's figures, what stands open now (with the oldest
 * waiting item), today's declines by reason, and a 7-day trend of one series at a time. The numbers come
 * from the daily statistics the worker folds, not from scanning orders (README "Admin operations").
 */
import type { DashboardDay } from '../../shared/admin-api';
import { adminApi } from '../../services/admin-api';
import { messageOf } from '../../services/api-error';
import { stopPullDownRefresh } from '../../services/jsapi';
import { openPage } from '../../services/navigation';
import {
  TREND_SERIES_OPTIONS,
  toDashboardView,
  toTrendBars,
  type DashboardView,
  type TrendBar,
  type TrendSeries,
} from '../../view-models/admin-operations';

function isTrendSeries(value: unknown): value is TrendSeries {
  return TREND_SERIES_OPTIONS.some((option) => option.value === value);
}

Page({
  data: {
    loading: true,
    errorMessage: '',
    schoolId: '',
    view: null as DashboardView | null,
    days: [] as DashboardDay[],
    seriesOptions: TREND_SERIES_OPTIONS,
    series: 'recharged' as TrendSeries,
    bars: [] as TrendBar[],
  },

  onLoad(query: { schoolId?: string }): Promise<void> {
    this.setData({ schoolId: query.schoolId ?? '' });
    return this.load();
  },

  async load(): Promise<void> {
    this.setData({ loading: !this.data.view, errorMessage: '' });
    try {
      const dashboard = await adminApi.dashboard(this.data.schoolId);
      this.setData({
        loading: false,
        view: toDashboardView(dashboard),
        days: dashboard.days,
        bars: toTrendBars(dashboard.days, this.data.series),
      });
    } catch (error) {
      this.setData({ loading: false, errorMessage: messageOf(error) });
    }
  },

  onRetry(): Promise<void> {
    return this.load();
  },

  async onPullDownRefresh(): Promise<void> {
    await this.load();
    stopPullDownRefresh();
  },

  onSeriesChange(value: unknown): void {
    if (!isTrendSeries(value)) return;
    this.setData({ series: value, bars: toTrendBars(this.data.days, value) });
  },

  onInbox(): void {
    openPage('adminInbox', { schoolId: this.data.schoolId });
  },
});
