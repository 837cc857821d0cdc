import { adminsOfSchool } from '../../../server/src/domain/admin/admins.js';
import { schoolAuditLog } from '../../../server/src/domain/audit/audit.js';
import { required, UsageError, type OperatorCommand } from '../command.js';

export const auditCommands: OperatorCommand[] = [
  {
    name: 'audit',
    args: '--school <code> [--limit <50>] [--before <id>]',
    summary: "the school's audit log, newest first (who, when, what, before and after, request id)",
    options: { school: { type: 'string' }, limit: { type: 'string' }, before: { type: 'string' } },
    async run(ctx, input) {
      const school = await ctx.school(required(input, 'school'));
      const limit = Number(input.values.limit ?? 50);
      const before = input.values.before === undefined ? undefined : Number(input.values.before);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
        throw new UsageError('--limit must be a whole number from 1 to 1000');
      if (before !== undefined && !(Number.isInteger(before) && before > 0))
        throw new UsageError('--before must be an entry id');
      const [rows, admins] = await Promise.all([
        schoolAuditLog(ctx.deps.db, school.id, { beforeId: before, limit }),
        adminsOfSchool(ctx.deps, school.id),
      ]);
      // An admin's row names the person as the school knows them, when they are still an admin.
      const names = new Map(admins.map((a) => [a.userId, a.displayName]));
      return rows.map((row) => ({
        id: row.id,
        at: row.occurredAt.toISOString(),
        who: `${row.actorKind.toLowerCase()}:${row.actorId}`,
        ...(row.actorKind === 'ADMIN' && names.get(row.actorId) ? { name: names.get(row.actorId) } : {}),
        action: row.action,
        target: row.target,
        before: row.before,
        after: row.after,
        requestId: row.requestId,
      }));
    },
  },
];
