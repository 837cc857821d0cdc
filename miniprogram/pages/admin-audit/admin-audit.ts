/** The school's audit log (owners, issue 10): who changed what and when, newest first, paged. */
import type { AuditResponse } from '../../shared/admin-api';
import { adminApi } from '../../services/admin-api';
import { PagedList } from '../../services/paged-list';
import { toAuditRow, type AuditRow } from '../../view-models/admin';

const PAGE_SIZE = 30;
const LIST = new PagedList({
  rowsKey: 'entries',
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
    entries: [] as AuditRow[],
    nextBefore: null as number | null,
    hasMore: false,
    loadingMore: false,
  },

  onLoad(query: { schoolId?: string }): Promise<void> {
    this.setData({ schoolId: query.schoolId ?? '' });
    return this.load();
  },

  load(): Promise<void> {
    return LIST.load(this, async () => LIST.firstPage(await this.page(), toAuditRow));
  },

  page(before?: number): Promise<AuditResponse> {
    return adminApi.audit(this.data.schoolId, { limit: PAGE_SIZE, before });
  },

  onRetry(): Promise<void> {
    return this.load();
  },

  onReachBottom(): Promise<void> {
    return LIST.loadNext(this, (before: number) => this.page(before), toAuditRow);
  },
});
