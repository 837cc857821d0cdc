/**
 * Vending machine and cashier-window orders (issue 15), for every admin role: all of the school's or one
 * terminal's, by status, or the exceptions a person must look at (no dispense report, refund refused,
 * callback never acknowledged, royalty split failed), newest first. What to do about an exception is in
 * 待处理事项 (the exceptions inbox).
 */
import type { TerminalOrdersResponse } from '../../shared/admin-api';
import { adminApi } from '../../services/admin-api';
import { messageOf } from '../../services/api-error';
import { stopPullDownRefresh } from '../../services/jsapi';
import {
  isExceptionFilter,
  isOrderFilter,
  orderFilterOptions,
  toTerminalOrderRow,
  type OrderFilter,
  type TerminalOrderRow,
} from '../../view-models/terminals-admin';

const PAGE_SIZE = 30;

Page({
  data: {
    loading: true,
    errorMessage: '',
    isEmpty: false,
    schoolId: '',
    terminalId: '',
    filter: 'ALL' as OrderFilter,
    filterOptions: orderFilterOptions(null),
    rows: [] as TerminalOrderRow[],
    nextBefore: null as string | null,
    hasMore: false,
    loadingMore: false,
  },

  onLoad(query: { schoolId?: string; terminalId?: string; filter?: string }): Promise<void> {
    this.setData({
      schoolId: query.schoolId ?? '',
      terminalId: query.terminalId ?? '',
      filter: isOrderFilter(query.filter) ? query.filter : 'ALL',
    });
    return this.load();
  },

  page(before?: string): Promise<TerminalOrdersResponse> {
    const { schoolId, filter, terminalId } = this.data;
    if (isExceptionFilter(filter))
      return adminApi.terminalExceptions(schoolId, { kind: filter, limit: PAGE_SIZE, before });
    return adminApi.terminalOrders(schoolId, {
      status: filter === 'ALL' ? undefined : filter,
      terminalId: terminalId || undefined,
      limit: PAGE_SIZE,
      before,
    });
  },

  async load(): Promise<void> {
    this.setData({ loading: true, errorMessage: '' });
    try {
      const [summary, page] = await Promise.all([adminApi.terminalSummary(this.data.schoolId), this.page()]);
      const rows = page.items.map(toTerminalOrderRow);
      this.setData({
        loading: false,
        filterOptions: orderFilterOptions(summary),
        rows,
        isEmpty: rows.length === 0,
        nextBefore: page.nextBefore,
        hasMore: page.nextBefore !== null,
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

  onFilterChange(value: string): Promise<void> | void {
    if (!isOrderFilter(value) || value === this.data.filter) return;
    this.setData({ filter: value, rows: [], nextBefore: null, hasMore: false });
    return this.load();
  },

  async onReachBottom(): Promise<void> {
    if (this.data.loadingMore || this.data.nextBefore === null) return;
    this.setData({ loadingMore: true });
    try {
      const page = await this.page(this.data.nextBefore);
      this.setData({
        rows: [...this.data.rows, ...page.items.map(toTerminalOrderRow)],
        nextBefore: page.nextBefore,
        hasMore: page.nextBefore !== null,
      });
    } catch (error) {
      this.setData({ errorMessage: messageOf(error) });
    } finally {
      this.setData({ loadingMore: false });
    }
  },
});
