import type { InboxActionResponse, InboxItem, InboxResponse } from '../../../../shared/admin-api.js';
import type { AdminRole } from '../../db/repos/admin/admins.js';
import type { InboxRow } from '../../db/repos/inbox/inbox-items.js';
import type { Deps } from '../../deps.js';
import { hasRole } from '../admin/roles.js';
import type { Actor } from '../audit/audit.js';
import { DomainError } from '../errors.js';
import type { InboxKindDefinition } from './inbox-kind.js';
import { INBOX_KINDS } from './kinds/index.js';

/**
 * The exceptions inbox (issue 13, DESIGN §1 "failed withholdings and arrears, manual retry and refund"):
 * what needs a person at one school, by kind (kinds/index.ts; inbox-kind.ts says how to add one), and the
 * actions on it.
 */

export function inboxKind(kind: string): InboxKindDefinition {
  const found = INBOX_KINDS.find((k) => k.kind === kind);
  if (!found)
    throw new DomainError('INBOX_ITEM_NOT_FOUND', `no inbox kind ${kind}`, { field: 'params.kind' });
  return found;
}

export function encodeCursor(row: Pick<InboxRow, 'since' | 'id'>): string {
  return Buffer.from(`${row.since.toISOString()}|${row.id}`).toString('base64url');
}

export function decodeCursor(cursor: string | undefined): { since: Date; id: string } | undefined {
  if (!cursor) return undefined;
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const since = new Date(at);
  if (!id || !/^[0-9a-f-]{36}$/i.test(id) || Number.isNaN(since.getTime()))
    throw new DomainError('VALIDATION_FAILED', 'query.cursor: not one of ours', { field: 'query.cursor' });
  return { since, id };
}

function itemOf(definition: InboxKindDefinition, row: InboxRow, maskCard: (c: string) => string): InboxItem {
  return {
    kind: definition.kind,
    id: row.id,
    order: definition.orderKind ? { kind: definition.orderKind, id: row.id } : null,
    title: definition.itemTitle(row),
    orderNo: row.orderNo,
    cardNo: row.cardNo ? maskCard(row.cardNo) : null,
    amountFen: row.amountFen,
    status: row.status,
    detail: row.detail,
    since: row.since.toISOString(),
    actions: Object.entries(definition.actions)
      .filter(([, action]) => !action.appliesTo || action.appliesTo(row))
      .map(([name, action]) => ({ name, needsReason: action.needsReason, role: action.role })),
  };
}

/** Items waiting at the school, over every kind (the dashboard's badge). */
export async function inboxCount(deps: Deps, schoolId: string): Promise<number> {
  const counted = INBOX_KINDS.filter((kind) => kind.countsForBadge !== false);
  const counts = await Promise.all(counted.map((kind) => kind.count(deps, schoolId)));
  return counts.reduce((sum, n) => sum + n, 0);
}

export async function schoolInbox(
  deps: Deps,
  schoolId: string,
  query: { kind?: string; cursor?: string; limit: number },
  maskCard: (cardNo: string) => string,
): Promise<InboxResponse> {
  const counts = await Promise.all(INBOX_KINDS.map((kind) => kind.count(deps, schoolId)));
  const kinds = INBOX_KINDS.map((kind, i) => ({ kind: kind.kind, title: kind.title, count: counts[i] }));
  const shown = query.kind ? [inboxKind(query.kind)] : INBOX_KINDS.filter((_, i) => counts[i] > 0);
  const after = query.kind ? decodeCursor(query.cursor) : undefined;
  const pages = await Promise.all(
    shown.map((kind) => kind.list(deps, schoolId, { after, limit: query.limit })),
  );
  const items = shown.flatMap((kind, i) => pages[i].map((row) => itemOf(kind, row, maskCard)));
  const last = pages[0]?.[pages[0].length - 1];
  return {
    kinds,
    items,
    nextCursor: query.kind && last && pages[0].length === query.limit ? encodeCursor(last) : null,
  };
}

export async function runInboxAction(
  deps: Deps,
  admin: { actor: Actor; schoolId: string; role: AdminRole },
  input: { kind: string; id: string; action: string; reason?: string },
): Promise<InboxActionResponse> {
  const definition = inboxKind(input.kind);
  const action = definition.actions[input.action];
  if (!action)
    throw new DomainError('NOT_FOUND', `no action ${input.action} for ${input.kind}`, {
      field: 'params.action',
    });
  if (!hasRole(admin.role, action.role))
    throw new DomainError('FORBIDDEN', `This needs the ${action.role} role; you are ${admin.role}`);
  if (action.needsReason && !input.reason)
    throw new DomainError('VALIDATION_FAILED', 'body.reason: say why', { field: 'body.reason' });
  return action.run(deps, admin.actor, admin.schoolId, input.id, { reason: input.reason });
}
