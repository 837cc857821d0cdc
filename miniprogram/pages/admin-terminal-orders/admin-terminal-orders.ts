/**
 * Vending machine and cashier-window orders (issue 15), for every admin role: all of the school's or one
 * terminal's, by status, or the exceptions a person must look at (no dispense report, refund refused,
 * callback never acknowledged, royalty split failed), newest first. What to do about an exception is in
 * 待处理事项 (the exceptions inbox).
 */
import type { TerminalOrdersResponse } from '../../shared/admin-api';
import { adminApi } from '../../services/admin-api';
import { PagedList, pullToRefresh } from '../../services/paged-list';
import {
  isExceptionFilter,
  isOrderFilter,
  orderFilterOptions,
  toTerminalOrderRow,
  type OrderFilter,
  type TerminalOrderRow,
} from '../../view-models/terminals-admin';

const PAGE_SIZE = 30;
const LIST = new PagedList({
  rowsKey: 'rows',
  cursorKey: 'nextBefore',
  tracksHasMore: true,
  nextPageFailure: 'error-state',
});

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

  load(): Promise<void> {
    return LIST.load(this, async () => {
      const [summary, page] = await Promise.all([adminApi.terminalSummary(this.data.schoolId), this.page()]);
      return { filterOptions: orderFilterOptions(summary), ...LIST.firstPage(page, toTerminalOrderRow) };
    });
  },

  onRetry(): Promise<void> {
    return this.load();
  },

  onPullDownRefresh(): Promise<void> {
    return pullToRefresh(() => this.load());
  },

  onFilterChange(value: string): Promise<void> | void {
    if (!isOrderFilter(value) || value === this.data.filter) return;
    this.setData({ filter: value, rows: [], nextBefore: null, hasMore: false });
    return this.load();
  },

  onReachBottom(): Promise<void> {
    return LIST.loadNext(this, (before: string) => this.page(before), toTerminalOrderRow);
  },
});
