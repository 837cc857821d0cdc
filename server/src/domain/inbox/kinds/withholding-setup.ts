import {
  countCardsOutOfStep,
  countStuckAgreements,
  listCardsOutOfStep,
  listStuckAgreements,
} from '../../../db/repos/inbox/inbox-items.js';
import type { Deps } from '../../../deps.js';
import { resolveStuckAgreement, retryCardSync } from '../../withholding/agreement-exceptions.js';
import type { InboxKindDefinition } from '../inbox-kind.js';

const stuckBefore = (deps: Deps) => new Date(deps.clock.now().getTime() - deps.config.admin.stuckAfterMs);

/** Agreements still PENDING after INBOX_STUCK_AFTER_MS: Alipay never confirmed them to us. */
export const stuckAgreements: InboxKindDefinition = {
  kind: 'agreement.pending',
  title: '代扣签约未确认',
  orderKind: null,
  count: (deps, schoolId) => countStuckAgreements(deps.db, schoolId, stuckBefore(deps)),
  list: (deps, schoolId, page) => listStuckAgreements(deps.db, schoolId, stuckBefore(deps), page),
  itemTitle: () => '签约结果未确认',
  actions: {
    'resolve-agreement': {
      role: 'STAFF',
      needsReason: false,
      run: (deps, actor, schoolId, id) => resolveStuckAgreement(deps, actor, schoolId, id),
    },
  },
};

/** Cards the card system has not bound (ZFB_BindDoc) or unbound as their coverage says, after the retries. */
export const cardsOutOfStep: InboxKindDefinition = {
  kind: 'card-sync.stuck',
  title: '一卡通绑定未同步',
  orderKind: null,
  count: (deps, schoolId) => countCardsOutOfStep(deps.db, schoolId, stuckBefore(deps)),
  list: (deps, schoolId, page) => listCardsOutOfStep(deps.db, schoolId, stuckBefore(deps), page),
  itemTitle: (row) => (row.status === 'NOT_BOUND' ? '一卡通未开通代扣' : '一卡通未解除代扣'),
  actions: {
    'retry-card-sync': {
      role: 'STAFF',
      needsReason: false,
      run: (deps, actor, schoolId, id) => retryCardSync(deps, actor, schoolId, id),
    },
  },
};
