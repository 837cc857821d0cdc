/** The card's statement, newest first: pull down to refresh, scroll to the bottom for older entries. */
import { api } from '../../services/api';
import { messageOf } from '../../services/api-error';
import { stopPullDownRefresh } from '../../services/jsapi';
import { toStatementRows, type StatementRow } from '../../view-models/statement';

const FIRST_PAGE = 1;

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
  },

  onLoad(query: { bindingId?: string }): Promise<void> {
    this.setData({ bindingId: query.bindingId ?? '' });
    return this.loadFirstPage();
  },

  async loadFirstPage(): Promise<void> {
    // A refresh keeps the rows on screen while it loads; only the first load shows the spinner.
    this.setData({ loading: this.data.rows.length === 0, errorMessage: '', loadMoreError: '' });
    try {
      const statement = await api.statement(this.data.bindingId, FIRST_PAGE);
      const rows = toStatementRows(statement.entries);
      this.setData({
        loading: false,
        rows,
        page: statement.page,
        hasMore: statement.hasMore,
        isEmpty: rows.length === 0,
      });
    } catch (error) {
      this.setData({ loading: false, errorMessage: messageOf(error) });
    }
  },

  async onPullDownRefresh(): Promise<void> {
    try {
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
      const statement = await api.statement(this.data.bindingId, this.data.page + 1);
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

  onRetry(): Promise<void> {
    return this.loadFirstPage();
  },

  onRetryMore(): Promise<void> {
    return this.loadMore();
  },
});
