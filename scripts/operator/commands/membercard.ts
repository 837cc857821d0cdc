import fs from 'node:fs';
import { failedSyncCards, walletCardSummary } from '../../../server/src/db/repos/membercard/cards.js';
import type { MembershipProgramRow } from '../../../server/src/db/repos/membercard/programs.js';
import { releaseOpenedCard, retryWalletUpdates } from '../../../server/src/domain/membercard/operations.js';
import {
  configureMembershipProgram,
  membershipProgramOf,
  programView,
  type MembershipProgramSettings,
} from '../../../server/src/domain/membercard/programs.js';
import { publicKeyPemOf } from '../../../server/src/lib/key-references.js';
import { required, UsageError, type OperatorCommand, type OperatorInput } from '../command.js';
import type { OperatorContext } from '../context.js';

/**
 * The campus card in the Alipay card wallet (issue 16, docs/membercard.md §1): the school's membership
 * program with its AntBuilder card management, and the updates we send there.
 */

const FAILED_SHOWN = 20;

function text(input: OperatorInput, name: string): string | undefined {
  const value = input.values[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The settings from the command line; what is not given stays as the school's program has it. */
function settingsFrom(
  input: OperatorInput,
  current: MembershipProgramRow | undefined,
): MembershipProgramSettings {
  const pick = (name: string, had: string | undefined) => {
    const value = text(input, name) ?? had;
    if (value === undefined) throw new UsageError(`--${name} is required (the school has no program yet)`);
    return value;
  };
  let crmToken: string | undefined;
  const tokenFile = text(input, 'token-file');
  if (tokenFile) {
    try {
      crmToken = fs.readFileSync(tokenFile, 'utf8').trim();
    } catch {
      throw new UsageError(`--token-file: cannot read ${tokenFile}`);
    }
  }
  const points = text(input, 'points-per-yuan');
  if (points !== undefined && !/^\d{1,4}$/.test(points))
    throw new UsageError('--points-per-yuan must be a whole number (0: no points)');
  const claimUrl = text(input, 'claim-url');
  return {
    ...(crmToken ? { crmToken } : {}),
    ...(input.values['new-token'] === true ? { newToken: true } : {}),
    cardManagementUrl: pick('url', current?.cardManagementUrl),
    templates: {
      student: pick('student-template', current?.studentTemplateId),
      staff: pick('staff-template', current?.staffTemplateId),
      lost: pick('lost-template', current?.lostTemplateId),
    },
    signingKeyRef: pick('key', current?.signingKeyRef),
    claimUrl: claimUrl === 'none' ? null : (claimUrl ?? current?.claimUrl ?? null),
    pointsPerYuan: points === undefined ? (current?.pointsPerYuan ?? 0) : Number(points),
  };
}

/** Where card management's business system (业务系统) must call us: it appends /card/openCardInfo, …. */
function crmBaseUrl(ctx: OperatorContext): string {
  return `${ctx.deps.config.publicBaseUrl.replace(/\/+$/, '')}/crm`;
}

async function programOf(ctx: OperatorContext, schoolId: string): Promise<MembershipProgramRow> {
  const program = await membershipProgramOf(ctx.deps, schoolId);
  if (!program) throw new Error('the school has no membership card program: membercard configure first');
  return program;
}

export const membercardCommands: OperatorCommand[] = [
  {
    name: 'membercard configure',
    args:
      '<code> --url <card management URL> --student-template <id> --staff-template <id> --lost-template <id> ' +
      '--key <file:path|env:VARIABLE> [--claim-url <url>|none] [--points-per-yuan <n>] [--token-file <file> | --new-token]',
    summary:
      "the school's card in the Alipay card wallet: card management's URL and templates, our RSA2 key, the CRM " +
      'token (made and shown once; kept on a change unless --new-token), points per yuan recharged',
    options: {
      url: { type: 'string' },
      'student-template': { type: 'string' },
      'staff-template': { type: 'string' },
      'lost-template': { type: 'string' },
      key: { type: 'string' },
      'claim-url': { type: 'string' },
      'points-per-yuan': { type: 'string' },
      'token-file': { type: 'string' },
      'new-token': { type: 'boolean' },
    },
    async run(ctx, input) {
      const school = await ctx.school(input.positionals[0]);
      const current = await membershipProgramOf(ctx.deps, school.id);
      const configured = await configureMembershipProgram(
        ctx.deps,
        ctx.actor,
        school.id,
        settingsFrom(input, current),
      );
      ctx.say(
        `In card management, set the business system (业务系统) of ${school.name} to ${crmBaseUrl(ctx)}` +
          `${configured.crmToken ? ' with the token below (shown this once)' : ''}` +
          ' and the public key below as the signature key (验签公钥).',
      );
      if (configured.cardsToUpdate > 0)
        ctx.say(
          `${configured.cardsToUpdate} wallet card(s) move to the new templates; the updates are on their way.`,
        );
      return {
        school: { code: school.code, name: school.name },
        crmBaseUrl: crmBaseUrl(ctx),
        ...(configured.crmToken ? { crmToken: configured.crmToken } : {}),
        publicKeyPem: configured.publicKeyPem,
        program: programView(configured.program),
        cardsToUpdate: configured.cardsToUpdate,
      };
    },
  },
  {
    name: 'membercard show',
    args: '<code>',
    summary: "the school's program, its wallet cards by status, and the updates card management refused",
    async run(ctx, input) {
      const school = await ctx.school(input.positionals[0]);
      const program = await programOf(ctx, school.id);
      const [cards, failed] = await Promise.all([
        walletCardSummary(ctx.deps.db, school.id),
        failedSyncCards(ctx.deps.db, school.id, FAILED_SHOWN),
      ]);
      let publicKeyPem: string | { error: string };
      try {
        publicKeyPem = publicKeyPemOf(program.signingKeyRef);
      } catch (error) {
        publicKeyPem = { error: (error as Error).message };
      }
      return {
        school: { code: school.code, name: school.name },
        crmBaseUrl: crmBaseUrl(ctx),
        publicKeyPem,
        program: programView(program),
        cards,
        failedUpdates: failed.map((card) => ({
          cardNo: card.cardNo,
          since: card.syncFailedAt?.toISOString() ?? null,
          error: card.lastSyncError,
          showing: card.templateId,
          wanted: card.wantedTemplateId,
          points: { wanted: card.points, shown: card.syncedPoints },
        })),
      };
    },
  },
  {
    name: 'membercard resync',
    args: '<code> [--card <card no>]',
    summary: 'send again the updates card management refused (after fixing the cause: key, templates)',
    options: { card: { type: 'string' } },
    async run(ctx, input) {
      const school = await ctx.school(input.positionals[0]);
      await programOf(ctx, school.id);
      const retried = await retryWalletUpdates(ctx.deps, ctx.actor, school.id, text(input, 'card'));
      ctx.say(
        retried > 0
          ? `${retried} update(s) go out again; see membercard show for how they fare.`
          : 'No failed update to send again.',
      );
      return { retried };
    },
  },
  {
    name: 'membercard release',
    args: '<code> --card <card no>',
    summary:
      'free a campus card someone opened in card management but never added to a wallet (MEMBERSHIP_CARD_TAKEN)',
    options: { card: { type: 'string' } },
    async run(ctx, input) {
      const school = await ctx.school(input.positionals[0]);
      const cardNo = required(input, 'card');
      await releaseOpenedCard(ctx.deps, ctx.actor, school.id, cardNo);
      return { released: cardNo };
    },
  },
];
