/**
 * One order's whole story (issue 13, every role): its facts and its timeline — every state change with its
 * time, every Alipay and card-system call with its outcome, code, sub_code and duration, the notifications
 * received for it, the collector's attempts and what admins did. When something can be done about it, the
 * page sends the person to the exceptions inbox, where the actions are.
 */
import type { AdminOrderKind } from '../../shared/admin-api';
import { adminApi } from '../../services/admin-api';
import { messageOf } from '../../services/api-error';
import { openPage } from '../../services/navigation';
import { toOrderDetailView, type OrderDetailView } from '../../view-models/admin-operations';

Page({
  data: {
    loading: true,
    errorMessage: '',
    schoolId: '',
    kind: 'DEDUCTION' as AdminOrderKind,
    id: '',
    view: null as OrderDetailView | null,
    hasActions: false,
  },

  onLoad(query: { schoolId?: string; kind?: string; id?: string }): Promise<void> {
    this.setData({
      schoolId: query.schoolId ?? '',
      kind: (query.kind ?? 'DEDUCTION') as AdminOrderKind,
      id: query.id ?? '',
    });
    return this.load();
  },

  async load(): Promise<void> {
    this.setData({ loading: true, errorMessage: '' });
    try {
      const detail = await adminApi.order(this.data.schoolId, this.data.kind, this.data.id);
      this.setData({
        loading: false,
        view: toOrderDetailView(detail),
        hasActions: detail.actions.length > 0,
      });
    } catch (error) {
      this.setData({ loading: false, errorMessage: messageOf(error) });
    }
  },

  onRetry(): Promise<void> {
    return this.load();
  },

  onInbox(): void {
    openPage('adminInbox', { schoolId: this.data.schoolId });
  },
});
