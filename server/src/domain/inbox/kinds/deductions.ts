import { countUnpaidDeductions, listUnpaidDeductions } from '../../../db/repos/inbox/inbox-items.js';
import { collectDeductionNow, waiveArrears } from '../../withholding/deduction-exceptions.js';
import type { InboxKindDefinition } from '../inbox-kind.js';

/** Swipes Alipay has not paid: RETRYING (collect now) and ARREARS (collect now, or waive). */
export const unpaidDeductions: InboxKindDefinition = {
  kind: 'deduction.unpaid',
  title: '代扣未成功',
  orderKind: 'DEDUCTION',
  count: (deps, schoolId) => countUnpaidDeductions(deps.db, schoolId),
  list: (deps, schoolId, page) => listUnpaidDeductions(deps.db, schoolId, page),
  itemTitle: (row) => (row.status === 'ARREARS' ? '欠款（已停止重试）' : '扣款重试中'),
  actions: {
    'collect-now': {
      role: 'STAFF',
      needsReason: false,
      run: (deps, actor, schoolId, id) => collectDeductionNow(deps, actor, schoolId, id),
    },
    waive: {
      role: 'STAFF',
      needsReason: true,
      appliesTo: (row) => row.status === 'ARREARS',
      run: (deps, actor, schoolId, id, input) => waiveArrears(deps, actor, schoolId, id, input.reason!),
    },
  },
};
