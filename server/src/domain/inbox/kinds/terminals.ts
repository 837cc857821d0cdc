import {
  countTerminalOrderProblems,
  listTerminalOrderProblems,
} from '../../../db/repos/inbox/inbox-items.js';
import { dispenseDeadline } from '../../terminals/admin-orders.js';
import {
  markTerminalRefundsHandled,
  refundUndispensedOrder,
  retryFailedSettlement,
  retryFailedTerminalRefunds,
  retryTerminalCallback,
} from '../../terminals/inbox-actions.js';
import type { InboxKindDefinition } from '../inbox-kind.js';

/** What each problem of a terminal order is called in the inbox (the row's status lists them). */
const PROBLEM_TITLES: Record<string, string> = {
  NO_DISPENSE_REPORT: '机器未报告出货',
  REFUND_FAILED: '退款失败',
  CALLBACK_GAVE_UP: '机器未确认支付通知',
  SETTLE_FAILED: '分账失败',
};

const hasProblem = (problem: string) => (row: { status: string }) => row.status.split(',').includes(problem);

/**
 * Vending machine and cashier-window orders that need a person (issue 15): paid without a dispense report
 * after the school's window, a refund Alipay refused, a paid callback the machine never acknowledged, a
 * royalty split that failed. One item per order; its status lists the problems (NO_DISPENSE_REPORT,REFUND_FAILED…).
 */
export const terminalOrderProblems: InboxKindDefinition = {
  kind: 'terminal-order.problem',
  title: '售货机订单',
  orderKind: null,
  count: async (deps, schoolId) =>
    countTerminalOrderProblems(deps.db, schoolId, await dispenseDeadline(deps, schoolId)),
  list: async (deps, schoolId, page) =>
    listTerminalOrderProblems(deps.db, schoolId, await dispenseDeadline(deps, schoolId), page),
  itemTitle: (row) =>
    row.status
      .split(',')
      .map((problem) => PROBLEM_TITLES[problem] ?? problem)
      .join('、'),
  actions: {
    'retry-refund': {
      role: 'STAFF',
      needsReason: false,
      appliesTo: hasProblem('REFUND_FAILED'),
      run: (deps, actor, schoolId, id) => retryFailedTerminalRefunds(deps, actor, schoolId, id),
    },
    'mark-handled': {
      role: 'STAFF',
      needsReason: true,
      appliesTo: hasProblem('REFUND_FAILED'),
      run: (deps, actor, schoolId, id, input) =>
        markTerminalRefundsHandled(deps, actor, schoolId, id, input.reason!),
    },
    'retry-callback': {
      role: 'STAFF',
      needsReason: false,
      appliesTo: hasProblem('CALLBACK_GAVE_UP'),
      run: (deps, actor, schoolId, id) => retryTerminalCallback(deps, actor, schoolId, id),
    },
    'refund-undispensed': {
      role: 'STAFF',
      // Money goes back on a person's word (the machine said nothing): the audit keeps why.
      needsReason: true,
      appliesTo: hasProblem('NO_DISPENSE_REPORT'),
      run: (deps, actor, schoolId, id, input) =>
        refundUndispensedOrder(deps, actor, schoolId, id, input.reason!),
    },
    'retry-settle': {
      role: 'STAFF',
      needsReason: false,
      appliesTo: hasProblem('SETTLE_FAILED'),
      run: (deps, actor, schoolId, id) => retryFailedSettlement(deps, actor, schoolId, id),
    },
  },
};
