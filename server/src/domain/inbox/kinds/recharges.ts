import {
  countCreditFailedRecharges,
  listCreditFailedRecharges,
} from '../../../db/repos/inbox/inbox-items.js';
import { refundFailedRecharge, retryRechargeCredit } from '../../recharge/recharge-exceptions.js';
import type { InboxKindDefinition } from '../inbox-kind.js';

/** Paid recharges the card system would not credit after every retry (DESIGN §7.3). */
export const creditFailedRecharges: InboxKindDefinition = {
  kind: 'recharge.credit-failed',
  title: '充值未入账',
  orderKind: 'RECHARGE',
  count: (deps, schoolId) => countCreditFailedRecharges(deps.db, schoolId),
  list: (deps, schoolId, page) => listCreditFailedRecharges(deps.db, schoolId, page),
  itemTitle: () => '已付款，一卡通未入账',
  actions: {
    'retry-credit': {
      role: 'STAFF',
      needsReason: false,
      run: (deps, actor, schoolId, id) => retryRechargeCredit(deps, actor, schoolId, id),
    },
    refund: {
      role: 'STAFF',
      needsReason: false,
      run: (deps, actor, schoolId, id) => refundFailedRecharge(deps, actor, schoolId, id),
    },
  },
};
