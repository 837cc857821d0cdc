import type { Executor } from '../../db/client.js';
import { insertAuditRow, listSchoolAudit, type AuditRow } from '../../db/repos/audit/audit-log.js';

/**
 * The audit log (DESIGN §7.0): every action of an admin, the operator or the platform itself that changes
 * something at a school is one append-only row — who, which school, when, what, before and after, and the
 * request id. Write it with `recordAudit` INSIDE the transaction of the change, so that a change and its
 * row commit together or not at all:
 *
 *   await deps.db.transaction(async (tx) => {
 *     const before = await findThing(tx, id);
 *     const after = await changeThing(tx, id, patch);
 *     await recordAudit(tx, { actor, schoolId, action: 'thing.change', target: id, before, after });
 *   });
 *
 * `actor` comes from the caller: routes under /api/v1/admin have it as `ctx.state.admin.actor`
 * (http/admin-auth.ts), operator commands as `ctx.actor` (scripts/operator/), jobs and notifications make
 * a `systemActor('…')`. Never put secrets or personal data in before/after: say `{ passwordChanged: true }`.
 */

export type Actor =
  | { kind: 'ADMIN'; userId: string; requestId?: string }
  | { kind: 'OPERATOR'; name: string; requestId?: string }
  | { kind: 'SYSTEM'; name: string; requestId?: string };

export interface AuditEntry {
  actor: Actor;
  schoolId: string | null;
  /** `<thing>.<verb>`, e.g. `school.settings.update`, `admin.role.change`, `recharge.refund`. */
  action: string;
  /** What was acted on when it is not the school itself: a user id, an order number … */
  target?: string | null;
  before?: Record<string, unknown> | null;
  after?: Record<string, unknown> | null;
}

/** The platform acting by itself: a job, a notification handler (`name` says which). */
export function systemActor(name: string, requestId?: string): Actor {
  return { kind: 'SYSTEM', name, requestId };
}

export function actorId(actor: Actor): string {
  return actor.kind === 'ADMIN' ? actor.userId : actor.name;
}

/** Dates become ISO strings, so that before/after read the same in the database and in the API. */
function plain(values: Record<string, unknown> | null | undefined): Record<string, unknown> | null {
  if (!values) return null;
  return JSON.parse(JSON.stringify(values)) as Record<string, unknown>;
}

/** Appends one row to audit_log in the caller's transaction. */
export async function recordAudit(tx: Executor, entry: AuditEntry): Promise<AuditRow> {
  return insertAuditRow(tx, {
    schoolId: entry.schoolId,
    actorKind: entry.actor.kind,
    actorId: actorId(entry.actor),
    action: entry.action,
    target: entry.target ?? null,
    before: plain(entry.before),
    after: plain(entry.after),
    requestId: entry.actor.requestId ?? null,
  });
}

/**
 * The fields of `after` that differ from `before`, as `{ before, after }` holding only those fields; null
 * when nothing changed (then there is nothing to record).
 */
export function changedFields<T extends Record<string, unknown>>(
  before: T,
  after: T,
  fields: ReadonlyArray<keyof T>,
): { before: Partial<T>; after: Partial<T> } | null {
  const was: Partial<T> = {};
  const now: Partial<T> = {};
  for (const field of fields) {
    if (JSON.stringify(before[field]) === JSON.stringify(after[field])) continue;
    was[field] = before[field];
    now[field] = after[field];
  }
  return Object.keys(now).length === 0 ? null : { before: was, after: now };
}

export function schoolAuditLog(
  db: Executor,
  schoolId: string,
  page: { beforeId?: number; limit: number },
): Promise<AuditRow[]> {
  return listSchoolAudit(db, schoolId, page);
}
