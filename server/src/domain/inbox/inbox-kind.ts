import type { AdminOrderKind, InboxActionResponse } from '../../../../shared/admin-api.js';
import type { AdminRole } from '../../db/repos/admin/admins.js';
import type { InboxPage, InboxRow } from '../../db/repos/inbox/inbox-items.js';
import type { Deps } from '../../deps.js';
import type { Actor } from '../audit/audit.js';

/**
 * One kind of thing that needs a person, in the school admins' exceptions inbox (issue 13). The inbox is the
 * list of these (kinds/index.ts); a capability that has its own stuck items adds one:
 *
 *   export const lateTerminalOrders: InboxKindDefinition = {
 *     kind: 'terminal-order.no-dispense',         // stable, in URLs: /inbox/<kind>/<id>/<action>
 *     title: '售货机未出货',                        // the tab's title in the mini-program
 *     orderKind: null,                            // or the AdminOrderKind whose timeline an item opens
 *     count: (deps, schoolId) => …,               // over a partial index: the dashboard sums every kind
 *     list: (deps, schoolId, page) => …,          // oldest first, paged by (since, id): InboxRow[]
 *     itemTitle: (row) => …,
 *     actions: {
 *       refund: { role: 'STAFF', needsReason: false, appliesTo: (row) => row.status === 'PAID',
 *                 run: (deps, actor, schoolId, id, input) => refundTerminalOrder(deps, actor, schoolId, id) },
 *     },
 *   };
 *
 * Every action must go through the capability's own domain code (the jobs' code), be idempotent (a double
 * tap answers `changed: false`), look the item up BY schoolId, and write an audit row in the transaction of
 * its change (recordAudit). The route checks the role; the cross-tenant test calls every kind's actions.
 */
export interface InboxAction {
  /** The least role that may run it (STAFF operates, OWNER too). */
  role: AdminRole;
  /** waive, mark-handled: the admin must say why (kept in the audit log). */
  needsReason: boolean;
  /** Whether the action is offered for this item (e.g. waive only for ARREARS). Default: always. */
  appliesTo?: (row: InboxRow) => boolean;
  run(
    deps: Deps,
    actor: Actor,
    schoolId: string,
    id: string,
    input: { reason?: string },
  ): Promise<InboxActionResponse>;
}

export interface InboxKindDefinition {
  kind: string;
  title: string;
  orderKind: AdminOrderKind | null;
  /** false for kinds that are shown but need no action (the dashboard's inbox badge leaves them out). */
  countsForBadge?: boolean;
  count(deps: Deps, schoolId: string): Promise<number>;
  list(deps: Deps, schoolId: string, page: InboxPage): Promise<InboxRow[]>;
  itemTitle(row: InboxRow): string;
  actions: Record<string, InboxAction>;
}
