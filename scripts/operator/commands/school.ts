import fs from 'node:fs';
import { listSchoolAdmins } from '../../../server/src/db/repos/admin/admins.js';
import { listSchools, type SchoolRow } from '../../../server/src/db/repos/schools/schools.js';
import { connectCardSystem } from '../../../server/src/domain/schools/card-system-connection.js';
import {
  activeAuthorizationOf,
  authorizeWithCode,
  createAuthorizationLink,
  queryAuthorization,
} from '../../../server/src/domain/schools/isv-authorization.js';
import {
  activateSchool,
  createSchool,
  resumeSchool,
  suspendSchool,
} from '../../../server/src/domain/schools/school-lifecycle.js';
import { schoolById } from '../../../server/src/domain/schools/schools.js';
import { required, UsageError, type OperatorCommand } from '../command.js';
import type { OperatorContext } from '../context.js';

/** School onboarding (DESIGN §7.0, issue 10): create → authorize (link) → connect-cardsys → activate. */

function summary(school: SchoolRow) {
  return {
    id: school.id,
    code: school.code,
    name: school.name,
    status: school.status,
    ...(school.status === 'SUSPENDED'
      ? {
          suspension: {
            reason: school.suspensionReason,
            detail: school.suspensionDetail,
            since: school.suspendedAt?.toISOString() ?? null,
          },
        }
      : {}),
  };
}

async function linkFor(ctx: OperatorContext, school: SchoolRow) {
  if (!ctx.deps.alipay) {
    ctx.say('Alipay is not configured (ALIPAY_APP_ID …): no authorization link.');
    return null;
  }
  const link = await createAuthorizationLink(ctx.deps, ctx.actor, school.id);
  ctx.say(
    `Send the authorization link to the school. Its Alipay account opens it and authorizes; the link works once, until ${link.expiresAt.toISOString()}.`,
  );
  return { url: link.url, expiresAt: link.expiresAt.toISOString() };
}

async function describe(ctx: OperatorContext, school: SchoolRow) {
  const [authorization, admins] = await Promise.all([
    activeAuthorizationOf(ctx.deps, school.id),
    listSchoolAdmins(ctx.deps.db, school.id),
  ]);
  let query: unknown = null;
  if (school.alipayAppAuthTokenEnc && ctx.deps.alipay) {
    try {
      query = await queryAuthorization(ctx.deps, school);
    } catch (error) {
      query = { error: (error as Error).message };
    }
  }
  return {
    school: summary(school),
    activatedAt: school.activatedAt?.toISOString() ?? null,
    servicePhone: school.servicePhone,
    alipay: {
      authAppId: school.alipayAuthAppId,
      sellerId: school.alipaySellerId,
      authorization: authorization
        ? {
            source: authorization.source,
            since: authorization.createdAt.toISOString(),
            expiresAt: authorization.expiresAt?.toISOString() ?? null,
            refreshExpiresAt: authorization.refreshExpiresAt?.toISOString() ?? null,
          }
        : null,
      /** alipay.open.auth.token.app.query, asked now. */
      query,
    },
    cardSystem: {
      endpoint: school.cardsysEndpoint,
      username: school.cardsysUsername,
      verifiedAt: school.cardsysVerifiedAt?.toISOString() ?? null,
    },
    settings: {
      rechargeMinFen: school.rechargeMinFen,
      rechargeMaxFen: school.rechargeMaxFen,
      withholdingEnabled: school.withholdingEnabled,
      txnLimitFen: school.txnLimitFen,
      dailyLimitFen: school.dailyLimitFen,
      retryScheduleSeconds: school.retryScheduleSeconds,
    },
    admins: admins.map((a) => ({ userId: a.userId, role: a.role, displayName: a.displayName })),
  };
}

export const schoolCommands: OperatorCommand[] = [
  {
    name: 'school create',
    args: '--code <10 digits> --name <name>',
    summary: 'create a school (PENDING) and print its authorization link',
    options: { code: { type: 'string' }, name: { type: 'string' } },
    async run(ctx, input) {
      const school = await createSchool(ctx.deps, ctx.actor, {
        code: required(input, 'code'),
        name: required(input, 'name'),
      });
      return { school: summary(school), authorizationLink: await linkFor(ctx, school) };
    },
  },
  {
    name: 'school link',
    args: '<code>',
    summary: 'a new authorization link (the school authorizes again, e.g. after cancelling)',
    async run(ctx, input) {
      const school = await ctx.school(input.positionals[0]);
      return { school: summary(school), authorizationLink: await linkFor(ctx, school) };
    },
  },
  {
    name: 'school show',
    args: '<code>',
    summary: "status, why suspended, authorization (with Alipay's .query), card system, settings, admins",
    async run(ctx, input) {
      return describe(ctx, await ctx.school(input.positionals[0]));
    },
  },
  {
    name: 'school list',
    args: '',
    summary: 'every school with its status',
    async run(ctx) {
      return (await listSchools(ctx.deps.db)).map(summary);
    },
  },
  {
    name: 'school connect-cardsys',
    args: '<code> --endpoint <url> --username <name> --password-file <file> [--probe-card <card no>]',
    summary: "store the card vendor's endpoint and account after a live GetPersonInfo test",
    options: {
      endpoint: { type: 'string' },
      username: { type: 'string' },
      'password-file': { type: 'string' },
      'probe-card': { type: 'string' },
    },
    async run(ctx, input) {
      const school = await ctx.school(input.positionals[0]);
      const file = required(input, 'password-file');
      let password: string;
      try {
        password = fs.readFileSync(file, 'utf8').trim();
      } catch {
        throw new UsageError(`--password-file: cannot read ${file}`);
      }
      const connected = await connectCardSystem(ctx.deps, ctx.actor, {
        schoolId: school.id,
        endpoint: required(input, 'endpoint'),
        username: required(input, 'username'),
        password,
        probeCardNo: typeof input.values['probe-card'] === 'string' ? input.values['probe-card'] : undefined,
      });
      ctx.say(`Connected: ${connected.test}`);
      return { school: summary(connected.school), test: connected.test };
    },
  },
  {
    name: 'school authorize',
    args: '<code> --auth-code <app_auth_code>',
    summary: 'exchange an app_auth_code obtained outside the link (the link is the normal way)',
    options: { 'auth-code': { type: 'string' } },
    async run(ctx, input) {
      const school = await ctx.school(input.positionals[0]);
      await authorizeWithCode(ctx.deps, ctx.actor, school.id, required(input, 'auth-code'));
      return describe(ctx, await schoolById(ctx.deps, school.id));
    },
  },
  {
    name: 'school activate',
    args: '<code>',
    summary: 'PENDING → ACTIVE, once the authorization and the card system both answer',
    async run(ctx, input) {
      const school = await ctx.school(input.positionals[0]);
      return summary(await activateSchool(ctx.deps, ctx.actor, school.id));
    },
  },
  {
    name: 'school suspend',
    args: '<code> --reason <text>',
    summary: 'stop new money (recharges, signings, approvals); money in flight completes',
    options: { reason: { type: 'string' } },
    async run(ctx, input) {
      const school = await ctx.school(input.positionals[0]);
      return summary(await suspendSchool(ctx.deps, ctx.actor, school.id, required(input, 'reason')));
    },
  },
  {
    name: 'school resume',
    args: '<code>',
    summary: 'SUSPENDED → ACTIVE, once the authorization and the card system both answer',
    async run(ctx, input) {
      const school = await ctx.school(input.positionals[0]);
      return summary(await resumeSchool(ctx.deps, ctx.actor, school.id));
    },
  },
];
