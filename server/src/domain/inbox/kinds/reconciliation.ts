import { formatFen } from '../../../../../shared/money.js';
import {
  countOpenFindings,
  listOpenFindings,
  type FindingRow,
} from '../../../db/repos/reconciliation/days.js';
import {
  FINDING_KINDS,
  REPAIRS_BY_ACTION,
  type FindingAction,
  type FindingKind,
} from '../../reconciliation/findings.js';
import { repairFinding, type RepairName } from '../../reconciliation/repairs.js';
import type { InboxAction, InboxKindDefinition } from '../inbox-kind.js';

/**
 * Open reconciliation findings (issue 17): what the day's bill, our records and the card system disagree
 * on. An item's status is the action its finding calls for (APPLY_PAYMENT, RECREDIT, INVESTIGATE,
 * ESCALATE), so each repair is offered only where it applies; the repairs are reconciliation's own
 * (domain/reconciliation/repairs.ts: run once, audited as `reconciliation.<repair>`).
 */

const ITEM_TITLES: Readonly<Record<FindingAction, string>> = {
  APPLY_PAYMENT: '对账：支付宝已收款，待补记',
  RECREDIT: '对账：一卡通未入账，待重新入账',
  INVESTIGATE: '对账：金额或交易不一致，待核查',
  ESCALATE: '对账：一卡通账目有误，待联系一卡通厂商',
};

const DONE_MESSAGES: Readonly<Record<RepairName, string>> = {
  'apply-payment': '已按支付宝的收款补记',
  're-credit': '已用原流水号重新入账',
  'mark-handled': '已标记处理',
};

function repair(name: RepairName, needsReason: boolean): InboxAction {
  return {
    role: 'STAFF',
    needsReason,
    appliesTo: (row) => REPAIRS_BY_ACTION[row.status as FindingAction]?.includes(name) ?? false,
    async run(deps, actor, schoolId, id, input) {
      const result = await repairFinding(deps, actor, schoolId, { id, repair: name, reason: input.reason });
      return {
        changed: result.changed,
        status: result.finding.resolution ?? result.finding.status,
        message: result.changed ? DONE_MESSAGES[name] : '这条对账差异已经处理过了',
      };
    },
  };
}

function amounts(f: FindingRow): string {
  const fen = (v: number | null) => (v === null ? '无' : formatFen(v));
  const vendor = f.vendorFen === null ? '' : ` / 一卡通 ${fen(f.vendorFen)}`;
  return `平台 ${fen(f.oursFen)} / 支付宝 ${fen(f.alipayFen)}${vendor}`;
}

export const reconciliationFindings: InboxKindDefinition = {
  kind: 'reconciliation.finding',
  title: '对账差异',
  orderKind: null,
  count: (deps, schoolId) => countOpenFindings(deps.db, schoolId),
  async list(deps, schoolId, page) {
    const rows = await listOpenFindings(deps.db, schoolId, page);
    return rows.map((f) => ({
      id: f.id,
      since: f.createdAt,
      orderNo: f.outTradeNo,
      cardNo: f.cardNo,
      amountFen: f.alipayFen ?? f.oursFen,
      status: f.action,
      detail: [f.billDate, FINDING_KINDS[f.kind as FindingKind]?.title ?? f.kind, amounts(f)].join(' · '),
    }));
  },
  itemTitle: (row) => ITEM_TITLES[row.status as FindingAction] ?? '对账差异',
  actions: {
    'apply-payment': repair('apply-payment', false),
    're-credit': repair('re-credit', false),
    'mark-handled': repair('mark-handled', true),
  },
};
