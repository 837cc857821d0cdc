/**
 * The exceptions inbox (issue 13): what needs a person, one tab per kind (recharges not credited, unpaid
 * deductions, stuck refunds, agreements and card syncs, campus-code payments …), oldest first. Staff and
 * owners act on an item; money moves, so each action is confirmed first, and a waive or mark-handled asks
 * for the reason the audit log keeps. The server makes every action idempotent: a second tap answers
 * "already done", and the list is read again after each action.
 */
import type { AdminRole } from '../../shared/admin-api';
import { adminApi } from '../../services/admin-api';
import { datasetValue, type TapEvent } from '../../services/events';
import { itemActionHandlers, type PendingReason } from '../../services/item-actions';
import { openPage } from '../../services/navigation';
import { PagedList, pullToRefresh } from '../../services/paged-list';
import {
  ALL_INBOX_KINDS as ALL,
  INBOX_ACTION_CONFIRM_ZH,
  INBOX_ACTION_LABELS_ZH,
  toInboxRow,
  inboxQuery,
  inboxTabOptions,
  toInboxTabs,
  type InboxRow,
  type InboxTab,
} from '../../view-models/admin-operations';

const PAGE_SIZE = 20;
const LIST = new PagedList({
  rowsKey: 'rows',
  cursorKey: 'nextCursor',
  tracksHasMore: false,
  nextPageFailure: 'toast',
});

Page({
  data: {
    loading: true,
    errorMessage: '',
    schoolId: '',
    role: 'VIEWER' as AdminRole,
    roleKnown: false,
    tabs: [] as InboxTab[],
    tabOptions: [] as Array<{ text: string; value: string }>,
    kind: ALL,
    rows: [] as InboxRow[],
    isEmpty: false,
    nextCursor: null as string | null,
    loadingMore: false,
    busyKey: '',
    reasonFor: null as PendingReason | null,
    reason: '',
    reasonError: '',
  },

  onLoad(query: { schoolId?: string; kind?: string }): Promise<void> {
    this.setData({ schoolId: query.schoolId ?? '', kind: query.kind || ALL });
    return this.load();
  },

  load(): Promise<void> {
    const spinner = this.data.tabs.length === 0;
    return LIST.load(
      this,
      async () => {
        const [school, inbox] = await Promise.all([
          // The role decides which actions are offered (the server checks it again on each action).
          this.data.roleKnown ? null : adminApi.school(this.data.schoolId),
          adminApi.inbox(this.data.schoolId, inboxQuery(this.data.kind, PAGE_SIZE)),
        ]);
        const role = school ? school.role : this.data.role;
        const tabs = toInboxTabs(inbox);
        return {
          role,
          roleKnown: true,
          tabs,
          tabOptions: inboxTabOptions(tabs),
          ...LIST.firstPage(inbox, (item) => toInboxRow(item, role)),
        };
      },
      { spinner },
    );
  },

  onRetry(): Promise<void> {
    return this.load();
  },

  onPullDownRefresh(): Promise<void> {
    return pullToRefresh(() => this.load());
  },

  onKindChange(value: unknown): Promise<void> | void {
    if (typeof value !== 'string' || !value || value === this.data.kind) return;
    this.setData({ kind: value, rows: [], nextCursor: null, reasonFor: null });
    return this.load();
  },

  onReachBottom(): Promise<void> {
    return LIST.loadNext(
      this,
      (cursor: string) => adminApi.inbox(this.data.schoolId, inboxQuery(this.data.kind, PAGE_SIZE, cursor)),
      (item) => toInboxRow(item, this.data.role),
    );
  },

  onOpenOrder(event: TapEvent): void {
    const row = this.data.rows.find((r) => r.key === datasetValue(event, 'key'));
    if (!row || !row.orderId) return;
    openPage('adminOrder', { schoolId: this.data.schoolId, kind: row.orderKind, id: row.orderId });
  },

  ...itemActionHandlers<InboxRow>({
    rowsKey: 'rows',
    actionsOf: (row) => row.actions,
    confirmText: (row, action) =>
      `${row.title}${row.amount ? ` ${row.amount}` : ''}。${INBOX_ACTION_CONFIRM_ZH[action.name] ?? ''}`,
    act: (page, row, action, reason) => adminApi.inboxAction(String(page.data.schoolId), row, action, reason),
    doneText: (result, action) => result.message || `${INBOX_ACTION_LABELS_ZH[action] ?? action}：完成`,
  }),
});
