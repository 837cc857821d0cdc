/**
 * The school's campus-code exceptions (issue 14), for every admin role: payments Alipay refused (with the
 * student), uploads too old to charge and late uploads (with the device), one kind at a time, newest first.
 */
import type { CampusCodeExceptionKind, CampusCodeExceptionsResponse } from '../../shared/admin-api';
import { adminApi } from '../../services/admin-api';
import { PagedList, pullToRefresh } from '../../services/paged-list';
import {
  exceptionKindHint,
  exceptionKindOptions,
  isExceptionKind,
  toCampusCodeExceptionRow,
  type CampusCodeExceptionRow,
  type KindOption,
} from '../../view-models/campus-code-admin';

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
    kind: 'FAILED' as CampusCodeExceptionKind,
    kindOptions: exceptionKindOptions(null) as KindOption[],
    hint: exceptionKindHint('FAILED'),
    rows: [] as CampusCodeExceptionRow[],
    nextBefore: null as string | null,
    hasMore: false,
    loadingMore: false,
  },

  onLoad(query: { schoolId?: string; kind?: string }): Promise<void> {
    const kind = isExceptionKind(query.kind) ? query.kind : 'FAILED';
    this.setData({ schoolId: query.schoolId ?? '', kind, hint: exceptionKindHint(kind) });
    return this.load();
  },

  load(): Promise<void> {
    return LIST.load(this, async () => {
      const [summary, page] = await Promise.all([
        adminApi.campusCodeSummary(this.data.schoolId),
        this.page(),
      ]);
      return {
        kindOptions: exceptionKindOptions(summary),
        ...LIST.firstPage(page, toCampusCodeExceptionRow),
      };
    });
  },

  page(before?: string): Promise<CampusCodeExceptionsResponse> {
    return adminApi.campusCodeExceptions(this.data.schoolId, {
      kind: this.data.kind,
      limit: PAGE_SIZE,
      before,
    });
  },

  onRetry(): Promise<void> {
    return this.load();
  },

  onPullDownRefresh(): Promise<void> {
    return pullToRefresh(() => this.load());
  },

  onKindChange(value: string): Promise<void> | void {
    if (!isExceptionKind(value) || value === this.data.kind) return;
    this.setData({ kind: value, hint: exceptionKindHint(value), rows: [], nextBefore: null, hasMore: false });
    return this.load();
  },

  onReachBottom(): Promise<void> {
    return LIST.loadNext(this, (before: string) => this.page(before), toCampusCodeExceptionRow);
  },
});
