/**
 * The card's statement, newest first, over a date range the card system allows: pull down to refresh, scroll
 * to the bottom for older entries, tap a row for its receipt.
 */
import { api } from '../../services/api';
import { messageOf } from '../../services/api-error';
import { datasetValue, type TapEvent } from '../../services/events';
import { JsapiFailure, pickDate, stopPullDownRefresh } from '../../services/jsapi';
import { openPage } from '../../services/navigation';
import {
  RANGE_PRESETS,
  customRange,
  presetRange,
  rangeText,
  toStatementRows,
  type StatementRow,
} from '../../view-models/statement';

const FIRST_PAGE = 1;
const DEFAULT_PRESET = '30';

Page({
  data: {
    loading: true,
    errorMessage: '',
    isEmpty: false,
    bindingId: '',
    rows: [] as StatementRow[],
    page: 0,
    hasMore: false,
    loadingMore: false,
    loadMoreError: '',
    presets: RANGE_PRESETS.map(({ text, value }) => ({ text, value })),
    preset: DEFAULT_PRESET,
    range: { from: '', to: '' },
    rangeText: '',
    rangeError: '',
    customFrom: '',
    customTo: '',
    maxDays: 366,
    truncated: false,
  },

  onLoad(query: { bindingId?: string }): Promise<void> {
    this.setData({
      bindingId: query.bindingId ?? '',
      range: presetRange(Number(DEFAULT_PRESET), new Date()),
    });
    return this.loadFirstPage();
  },

  async loadFirstPage(): Promise<void> {
    // A refresh keeps the rows on screen while it loads; only the first load shows the spinner.
    this.setData({ loading: this.data.rows.length === 0, errorMessage: '', loadMoreError: '' });
    try {
      const statement = await api.statement(this.data.bindingId, FIRST_PAGE, this.data.range);
      const rows = toStatementRows(statement.entries);
      this.setData({
        loading: false,
        rows,
        page: statement.page,
        hasMore: statement.hasMore,
        isEmpty: rows.length === 0,
        maxDays: statement.maxDays,
        truncated: statement.truncated,
        rangeText: rangeText(statement),
      });
    } catch (error) {
      this.setData({ loading: false, errorMessage: messageOf(error) });
    }
  },

  async onPullDownRefresh(): Promise<void> {
    try {
      if (this.data.preset !== 'custom')
        this.setData({ range: presetRange(Number(this.data.preset), new Date()) });
      await this.loadFirstPage();
    } finally {
      stopPullDownRefresh();
    }
  },

  onReachBottom(): Promise<void> {
    return this.loadMore();
  },

  async loadMore(): Promise<void> {
    if (!this.data.hasMore || this.data.loadingMore || this.data.loading) return;
    this.setData({ loadingMore: true, loadMoreError: '' });
    try {
      const statement = await api.statement(this.data.bindingId, this.data.page + 1, this.data.range);
      this.setData({
        rows: this.data.rows.concat(toStatementRows(statement.entries)),
        page: statement.page,
        hasMore: statement.hasMore,
      });
    } catch (error) {
      this.setData({ loadMoreError: messageOf(error) });
    } finally {
      this.setData({ loadingMore: false });
    }
  },

  onRangeChange(value: unknown): Promise<void> | void {
    const preset = RANGE_PRESETS.find((p) => p.value === value);
    if (!preset) return;
    this.setData({
      preset: preset.value,
      rangeError: '',
      range: presetRange(preset.days, new Date()),
      rows: [],
    });
    return this.loadFirstPage();
  },

  async onPickFrom(): Promise<void> {
    const day = await this.pick(this.data.customFrom);
    if (day) await this.applyCustom(day, this.data.customTo);
  },

  async onPickTo(): Promise<void> {
    const day = await this.pick(this.data.customTo);
    if (day) await this.applyCustom(this.data.customFrom, day);
  },

  async pick(current: string): Promise<string | null> {
    try {
      return await pickDate(current);
    } catch (error) {
      if (error instanceof JsapiFailure) return null; // closed without choosing
      throw error;
    }
  },

  async applyCustom(fromDay: string, toDay: string): Promise<void> {
    this.setData({ customFrom: fromDay, customTo: toDay, preset: 'custom' });
    if (!fromDay || !toDay) return;
    const range = customRange(fromDay, toDay, this.data.maxDays);
    this.setData({ rangeError: range.error });
    if (range.error) return;
    this.setData({ range: { from: range.from, to: range.to }, rows: [] });
    await this.loadFirstPage();
  },

  onOpenEntry(event: TapEvent): void {
    const entryId = datasetValue(event, 'id');
    if (entryId) openPage('receipt', { bindingId: this.data.bindingId, entryId });
  },

  onRetry(): Promise<void> {
    return this.loadFirstPage();
  },

  onRetryMore(): Promise<void> {
    return this.loadMore();
  },
});
