import crypto from 'node:crypto';
import Joi from 'joi';
import { retemplateCards } from '../../db/repos/membercard/cards.js';
import {
  findProgram,
  findProgramByTokenHash,
  saveProgram,
  type MembershipProgramRow,
} from '../../db/repos/membercard/programs.js';
import { findSchool } from '../../db/repos/schools/schools.js';
import type { Deps } from '../../deps.js';
import { KEY_REFERENCE_PATTERN, privateKeyOf, publicKeyPemOf } from '../../lib/key-references.js';
import { changedFields, recordAudit, type Actor } from '../audit/audit.js';
import { DomainError } from '../errors.js';
import { wakeWalletSync } from './wallet-sync.js';

/**
 * A school's membership-card program (DESIGN §6.4): how its AntBuilder card management and we reach each
 * other. Operator work (npm start and the tests configure it through here).
 *   - the CRM token card management sends in the `token` header of every call to our /crm/card routes: it is
 *     also what tells the schools apart. Kept as a SHA-256 hash, shown once.
 *   - card management's URL, where we send /card/update and /card/changeTemplate signed with our RSA2 key,
 *     named by a key reference (lib/key-references.ts); the school configures the public half in card
 *     management.
 *   - the templates: one per level (student, staff) and the LOST template a lost card switches to.
 *   - the claim link (领卡链接) card management gives, for the mini-program's "add to card wallet".
 *   - the points rule: points per whole yuan recharged (0: none).
 */
export interface MembershipProgramSettings {
  /**
   * Absent: the program's token stays (a new program, or `newToken`: a random one is made and returned
   * once). Card management must be given a new token at the same time, or its calls are refused.
   */
  crmToken?: string;
  newToken?: boolean;
  cardManagementUrl: string;
  templates: { student: string; staff: string; lost: string };
  signingKeyRef: string;
  claimUrl?: string | null;
  pointsPerYuan?: number;
}

const templateId = Joi.string().pattern(/^[A-Za-z0-9_-]{1,64}$/, 'template id');
const settingsSchema = Joi.object<MembershipProgramSettings>({
  crmToken: Joi.string().min(24).max(256).pattern(/^\S+$/, 'no spaces'),
  newToken: Joi.boolean(),
  cardManagementUrl: Joi.string()
    .uri({ scheme: ['http', 'https'] })
    .required(),
  templates: Joi.object({
    student: templateId.required(),
    staff: templateId.required(),
    lost: templateId.required(),
  }).required(),
  signingKeyRef: Joi.string().pattern(KEY_REFERENCE_PATTERN, 'file:<path> or env:<VARIABLE>').required(),
  claimUrl: Joi.string()
    .uri({ scheme: ['http', 'https', 'alipays'] })
    .allow(null),
  pointsPerYuan: Joi.number().integer().strict().min(0).max(1000),
});

export function hashCrmToken(token: string): string {
  return crypto.createHash('sha256').update(token, 'utf8').digest('hex');
}

export interface ConfiguredProgram {
  program: MembershipProgramRow;
  /** Only when this call made the token: the one time it is shown. */
  crmToken?: string;
  /** To configure in card management (验签公钥). */
  publicKeyPem: string;
  /** Wallet cards that now want another template (the template ids changed): their updates are on the way. */
  cardsToUpdate: number;
}

/** What the audit log and the operator see of a program: everything but the token. */
export function programView(program: MembershipProgramRow) {
  return {
    cardManagementUrl: program.cardManagementUrl,
    templates: {
      student: program.studentTemplateId,
      staff: program.staffTemplateId,
      lost: program.lostTemplateId,
    },
    signingKeyRef: program.signingKeyRef,
    claimUrl: program.claimUrl,
    pointsPerYuan: program.pointsPerYuan,
  };
}

/**
 * Creates or replaces the school's program (operator work: `npm run operator -- membercard configure`;
 * npm start and the tests too), audited in the same transaction. When the template ids change, the
 * school's wallet cards are moved to the new ones (a lost card to the new LOST template).
 */
export async function configureMembershipProgram(
  deps: Pick<Deps, 'db' | 'clock' | 'jobs' | 'logger'>,
  actor: Actor,
  schoolId: string,
  input: MembershipProgramSettings,
): Promise<ConfiguredProgram> {
  const { value, error } = settingsSchema.validate(input, { abortEarly: true });
  if (error) {
    const field = error.details[0]?.path.join('.') ?? '';
    throw new DomainError('VALIDATION_FAILED', `${field}: ${error.details[0]?.message}`, { field });
  }
  if (value.crmToken && value.newToken)
    throw new DomainError('VALIDATION_FAILED', 'newToken: give a token or ask for a new one, not both', {
      field: 'newToken',
    });
  if (!(await findSchool(deps.db, schoolId))) throw new DomainError('SCHOOL_NOT_FOUND');
  let publicKeyPem: string;
  try {
    privateKeyOf(value.signingKeyRef);
    publicKeyPem = publicKeyPemOf(value.signingKeyRef);
  } catch (cause) {
    throw new DomainError('VALIDATION_FAILED', `signingKeyRef: ${(cause as Error).message}`, {
      field: 'signingKeyRef',
    });
  }
  const now = deps.clock.now();
  const { program, madeToken, cardIds } = await deps.db.transaction(async (tx) => {
    const before = await findProgram(tx, schoolId);
    const keepsToken = !value.crmToken && before !== undefined && !value.newToken;
    const madeToken = value.crmToken || keepsToken ? undefined : crypto.randomBytes(32).toString('base64url');
    const crmTokenHash = keepsToken ? before.crmTokenHash : hashCrmToken(value.crmToken ?? madeToken!);
    const program = await saveProgram(
      tx,
      {
        schoolId,
        crmTokenHash,
        cardManagementUrl: value.cardManagementUrl.replace(/\/+$/, ''),
        studentTemplateId: value.templates.student,
        staffTemplateId: value.templates.staff,
        lostTemplateId: value.templates.lost,
        signingKeyRef: value.signingKeyRef,
        claimUrl: value.claimUrl ?? null,
        pointsPerYuan: value.pointsPerYuan ?? 0,
      },
      now,
    );
    const tokenChanged = before?.crmTokenHash !== crmTokenHash;
    const changes = before
      ? changedFields(programView(before), programView(program), [
          'cardManagementUrl',
          'templates',
          'signingKeyRef',
          'claimUrl',
          'pointsPerYuan',
        ])
      : { before: null, after: programView(program) };
    if (changes || tokenChanged) {
      // The token itself never goes into the log: only that it changed.
      await recordAudit(tx, {
        actor,
        schoolId,
        action: before ? 'membercard.program.update' : 'membercard.program.create',
        before: before ? (changes?.before ?? {}) : null,
        after: { ...changes?.after, ...(tokenChanged ? { crmTokenChanged: true } : {}) },
      });
    }
    const cardIds = before
      ? await retemplateCards(tx, { schoolId, previousLostTemplateId: before.lostTemplateId, now })
      : [];
    return { program, madeToken, cardIds };
  });
  await wakeWalletSync(deps, cardIds);
  return {
    program,
    publicKeyPem,
    cardsToUpdate: cardIds.length,
    ...(madeToken ? { crmToken: madeToken } : {}),
  };
}

/**
 * The program whose CRM token this is. The lookup is by the token's hash; the hashes are then compared in
 * constant time as well, so no part of the answer depends on how much of a guess was right.
 */
export async function programForCrmToken(
  deps: Pick<Deps, 'db'>,
  token: string | undefined,
): Promise<MembershipProgramRow> {
  if (!token) throw new DomainError('CRM_AUTH_FAILED');
  const hash = hashCrmToken(token);
  const program = await findProgramByTokenHash(deps.db, hash);
  if (!program || !crypto.timingSafeEqual(Buffer.from(program.crmTokenHash), Buffer.from(hash))) {
    throw new DomainError('CRM_AUTH_FAILED');
  }
  return program;
}

export function membershipProgramOf(
  deps: Pick<Deps, 'db'>,
  schoolId: string,
): Promise<MembershipProgramRow | undefined> {
  return findProgram(deps.db, schoolId);
}

/** The template a card should show: its level's, or the LOST one. */
export function templateFor(
  program: MembershipProgramRow,
  card: { level: 'STUDENT' | 'STAFF'; isLost: boolean },
): string {
  if (card.isLost) return program.lostTemplateId;
  return card.level === 'STAFF' ? program.staffTemplateId : program.studentTemplateId;
}
