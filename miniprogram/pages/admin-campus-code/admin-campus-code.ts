/**
 * The school's campus-code exceptions (issue 14), for every admin role: payments Alipay refused (with the
 * student), uploads too old to charge and late uploads (with the device), one kind at a time, newest first.
 */
import type { CampusCodeExceptionKind } from '../../shared/admin-api';
import { adminApi } from '../../services/admin-api';
import { messageOf } from '../../services/api-error';
import { stopPullDownRefresh } from '../../services/jsapi';
import {
  exceptionKindHint,
  exceptionKindOptions,
  isExceptionKind,
  toCampusCodeExceptionRow,
  type CampusCodeExceptionRow,
  type KindOption,
} from '../../view-models/campus-code-admin';

const PAGE_SIZE = 30;

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

  async load(): Promise<void> {
    this.setData({ loading: true, errorMessage: '' });
    try {
      const [summary, page] = await Promise.all([
        adminApi.campusCodeSummary(this.data.schoolId),
        adminApi.campusCodeExceptions(this.data.schoolId, { kind: this.data.kind, limit: PAGE_SIZE }),
      ]);
      const rows = page.items.map(toCampusCodeExceptionRow);
      this.setData({
        loading: false,
        kindOptions: exceptionKindOptions(summary),
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

  onKindChange(value: string): Promise<void> | void {
    if (!isExceptionKind(value) || value === this.data.kind) return;
    this.setData({ kind: value, hint: exceptionKindHint(value), rows: [], nextBefore: null, hasMore: false });
    return this.load();
  },

  async onReachBottom(): Promise<void> {
    if (this.data.loadingMore || this.data.nextBefore === null) return;
    this.setData({ loadingMore: true });
    try {
      const page = await adminApi.campusCodeExceptions(this.data.schoolId, {
        kind: this.data.kind,
        limit: PAGE_SIZE,
        before: this.data.nextBefore,
      });
      this.setData({
        rows: [...this.data.rows, ...page.items.map(toCampusCodeExceptionRow)],
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
