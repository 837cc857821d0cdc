/** The school's audit log (owners, issue 10): who changed what and when, newest first, paged. */
import { adminApi } from '../../services/admin-api';
import { messageOf } from '../../services/api-error';
import { toAuditRow, type AuditRow } from '../../view-models/admin';

const PAGE_SIZE = 30;

Page({
  data: {
    loading: true,
    errorMessage: '',
    isEmpty: false,
    schoolId: '',
    entries: [] as AuditRow[],
    nextBefore: null as number | null,
    hasMore: false,
    loadingMore: false,
  },

  onLoad(query: { schoolId?: string }): Promise<void> {
    this.setData({ schoolId: query.schoolId ?? '' });
    return this.load();
  },

  async load(): Promise<void> {
    this.setData({ loading: true, errorMessage: '' });
    try {
      const page = await adminApi.audit(this.data.schoolId, { limit: PAGE_SIZE });
      const entries = page.items.map(toAuditRow);
      this.setData({
        loading: false,
        entries,
        isEmpty: entries.length === 0,
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

  async onReachBottom(): Promise<void> {
    if (this.data.loadingMore || this.data.nextBefore === null) return;
    this.setData({ loadingMore: true });
    try {
      const page = await adminApi.audit(this.data.schoolId, {
        limit: PAGE_SIZE,
        before: this.data.nextBefore,
      });
      this.setData({
        entries: [...this.data.entries, ...page.items.map(toAuditRow)],
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
