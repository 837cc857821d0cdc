import { countStuckRefunds, listStuckRefunds } from '../../../db/repos/inbox/inbox-items.js';
import { markRefundAsHandled, retryRefund } from '../../refunds/refund-exceptions.js';
import type { InboxKindDefinition } from '../inbox-kind.js';

/** Refunds Alipay refused, or that are still not through after REFUND_INBOX_AFTER_ATTEMPTS attempts. */
export const stuckRefunds: InboxKindDefinition = {
  kind: 'refund.stuck',
  title: '退款未完成',
  orderKind: 'REFUND',
  count: (deps, schoolId) => countStuckRefunds(deps.db, schoolId, deps.config.admin.refundInboxAfterAttempts),
  list: (deps, schoolId, page) =>
    listStuckRefunds(deps.db, schoolId, deps.config.admin.refundInboxAfterAttempts, page),
  itemTitle: (row) => (row.status === 'FAILED' ? '退款被拒绝' : '退款多次未成功'),
  actions: {
    'retry-refund': {
      role: 'STAFF',
      needsReason: false,
      run: (deps, actor, schoolId, id) => retryRefund(deps, actor, schoolId, id),
    },
    'mark-handled': {
      role: 'STAFF',
      needsReason: true,
      run: (deps, actor, schoolId, id, input) =>
        markRefundAsHandled(deps, actor, schoolId, id, input.reason!),
    },
  },
};
