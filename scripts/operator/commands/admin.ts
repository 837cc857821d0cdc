import { adminsOfSchool, createInvitation, removeAdmin } from '../../../server/src/domain/admin/admins.js';
import { ADMIN_ROLE_NAMES, type AdminRole } from '../../../server/src/domain/admin/roles.js';
import { required, UsageError, type OperatorCommand } from '../command.js';

/** A school's admins (issue 10): the first owner is invited by the operator, later ones by owners too. */

function roleOf(value: string): AdminRole {
  const role = value.toUpperCase() as AdminRole;
  if (!ADMIN_ROLE_NAMES.includes(role)) throw new UsageError('--role must be owner, staff or viewer');
  return role;
}

export const adminCommands: OperatorCommand[] = [
  {
    name: 'admin invite',
    args: '--school <code> --role owner|staff|viewer [--name <how the school calls them>] [--hours <72>]',
    summary: 'a one-time invitation code; the person redeems it in the mini-program (我是学校管理员)',
    options: {
      school: { type: 'string' },
      role: { type: 'string' },
      name: { type: 'string' },
      hours: { type: 'string' },
    },
    async run(ctx, input) {
      const school = await ctx.school(required(input, 'school'));
      const hours = input.values.hours === undefined ? undefined : Number(input.values.hours);
      if (hours !== undefined && !(Number.isInteger(hours) && hours >= 1 && hours <= 720))
        throw new UsageError('--hours must be a whole number from 1 to 720');
      const issued = await createInvitation(ctx.deps, ctx.actor, {
        schoolId: school.id,
        role: roleOf(required(input, 'role')),
        displayName: typeof input.values.name === 'string' ? input.values.name : null,
        validHours: hours,
      });
      ctx.say(
        `The code is shown only now; it works once, until ${issued.expiresAt.toISOString()}. ` +
          'In the mini-program: 我是学校管理员 → 使用邀请码加入学校管理 → enter the code.',
      );
      return {
        school: { code: school.code, name: school.name },
        role: issued.role,
        code: issued.code,
        expiresAt: issued.expiresAt.toISOString(),
      };
    },
  },
  {
    name: 'admin list',
    args: '--school <code>',
    summary: "the school's admins and their roles",
    options: { school: { type: 'string' } },
    async run(ctx, input) {
      const school = await ctx.school(required(input, 'school'));
      return (await adminsOfSchool(ctx.deps, school.id)).map((a) => ({
        userId: a.userId,
        role: a.role,
        displayName: a.displayName,
        since: a.createdAt.toISOString(),
      }));
    },
  },
  {
    name: 'admin remove',
    args: '--school <code> --user <user id>',
    summary: 'take an admin away (a school keeps at least one owner)',
    options: { school: { type: 'string' }, user: { type: 'string' } },
    async run(ctx, input) {
      const school = await ctx.school(required(input, 'school'));
      await removeAdmin(ctx.deps, ctx.actor, { schoolId: school.id, userId: required(input, 'user') });
      return { removed: input.values.user };
    },
  },
];
