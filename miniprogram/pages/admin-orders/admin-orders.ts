/**
 * Orders search (issue 13, every role): recharges, deductions, repayments or refunds of the school by card
 * number, order number or card-system txnNo (one box: the page tells them apart), state and Beijing date
 * range, newest first and paged. A row opens the order's whole timeline. Viewers see masked card numbers.
 */
import type { AdminOrderKind } from '../../shared/admin-api';
import { adminApi } from '../../services/admin-api';
import { messageOf } from '../../services/api-error';
import { datasetValue, type TapEvent } from '../../services/events';
import { JsapiFailure, pickDate } from '../../services/jsapi';
import { openPage } from '../../services/navigation';
import { PagedList } from '../../services/paged-list';
import {
  ORDER_KIND_OPTIONS,
  ORDER_STATUS_OPTIONS,
  orderSearchQuery,
  orderStatusLabel,
  toOrderRow,
  type OrderRow,
} from '../../view-models/admin-operations';

const PAGE_SIZE = 20;
const ANY_STATUS = 'ANY';
// The first page is a search (its own `searching` / `searched` states); the next ones are the list's.
const LIST = new PagedList({
  rowsKey: 'rows',
  cursorKey: 'nextCursor',
  tracksHasMore: false,
  nextPageFailure: 'toast',
});

function statusOptions(kind: AdminOrderKind): Array<{ text: string; value: string }> {
  return [
    { text: '全部状态', value: ANY_STATUS },
    ...ORDER_STATUS_OPTIONS[kind].map((status) => ({ text: orderStatusLabel(kind, status), value: status })),
  ];
}

function isOrderKind(value: unknown): value is AdminOrderKind {
  return ORDER_KIND_OPTIONS.some((option) => option.value === value);
}

Page({
  data: {
    schoolId: '',
    kindOptions: ORDER_KIND_OPTIONS,
    kind: 'DEDUCTION' as AdminOrderKind,
    statusOptions: statusOptions('DEDUCTION'),
    status: ANY_STATUS,
    text: '',
    from: '',
    to: '',
    searching: false,
    searched: false,
    errorMessage: '',
    rows: [] as OrderRow[],
    nextCursor: null as string | null,
    loadingMore: false,
  },

  onLoad(query: { schoolId?: string }): Promise<void> {
    this.setData({ schoolId: query.schoolId ?? '' });
    return this.onSearch();
  },

  onKindChange(value: unknown): void {
    if (!isOrderKind(value) || value === this.data.kind) return;
    this.setData({ kind: value, statusOptions: statusOptions(value), status: ANY_STATUS });
  },

  onStatusChange(value: unknown): void {
    this.setData({ status: typeof value === 'string' && value ? value : ANY_STATUS });
  },

  onTextInput(value: string): void {
    this.setData({ text: value });
  },

  async onPickFrom(): Promise<void> {
    const day = await this.pick(this.data.from);
    if (day !== null) this.setData({ from: day });
  },

  async onPickTo(): Promise<void> {
    const day = await this.pick(this.data.to);
    if (day !== null) this.setData({ to: day });
  },

  onClearDates(): void {
    this.setData({ from: '', to: '' });
  },

  /** The chosen day, or null when the person closed the picker. */
  async pick(current: string): Promise<string | null> {
    try {
      return await pickDate(current);
    } catch (error) {
      if (error instanceof JsapiFailure) return null;
      throw error;
    }
  },

  query(): Record<string, string | undefined> {
    return orderSearchQuery({
      kind: this.data.kind,
      text: this.data.text,
      status: this.data.status === ANY_STATUS ? '' : this.data.status,
      from: this.data.from,
      to: this.data.to,
    });
  },

  async onSearch(): Promise<void> {
    if (this.data.from && this.data.to && this.data.to < this.data.from) {
      this.setData({ errorMessage: '结束日期不能早于开始日期' });
      return;
    }
    this.setData({ searching: true, errorMessage: '' });
    try {
      const page = await adminApi.orders(this.data.schoolId, { ...this.query(), limit: String(PAGE_SIZE) });
      this.setData({ rows: page.items.map(toOrderRow), nextCursor: page.nextCursor, searched: true });
    } catch (error) {
      this.setData({ errorMessage: messageOf(error), rows: [], nextCursor: null });
    } finally {
      this.setData({ searching: false });
    }
  },

  onReachBottom(): Promise<void> {
    return LIST.loadNext(
      this,
      (cursor: string) =>
        adminApi.orders(this.data.schoolId, { ...this.query(), cursor, limit: String(PAGE_SIZE) }),
      toOrderRow,
    );
  },

  onOpenOrder(event: TapEvent): void {
    const row = this.data.rows.find((r) => r.key === datasetValue(event, 'key'));
    if (row) openPage('adminOrder', { schoolId: this.data.schoolId, kind: row.kind, id: row.id });
  },
});
