import crypto from 'node:crypto';
import {
  deleteMembership,
  findInvitationByHash,
  insertInvitation,
  insertMembershipIfNew,
  listMemberships,
  listSchoolAdmins,
  lockSchoolAdmins,
  redeemInvitationIfOpen,
  setMembershipRole,
  type AdminMember,
  type AdminMembership,
  type AdminRole,
  type SchoolAdminRow,
} from '../../db/repos/admin/admins.js';
import { findSchool } from '../../db/repos/schools/schools.js';
import type { Deps } from '../../deps.js';
import { actorId, recordAudit, type Actor } from '../audit/audit.js';
import { DomainError } from '../errors.js';

/**
 * A school's admins (DESIGN §7.0, issue 10). People join by a one-time invitation code that the operator
 * (`npm run operator -- admin invite`) or an owner (admins page) makes: single use, expiring, stored only as
 * a keyed hash. One Alipay user may administer several schools and be a student or parent too. A school
 * always keeps at least one owner.
 */

/** Crockford base32 (no I, L, O, U): read aloud and typed on a phone without confusion. */
const CODE_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const CODE_LENGTH = 16;
export const DEFAULT_INVITATION_HOURS = 72;

export interface IssuedInvitation {
  invitationId: string;
  schoolId: string;
  role: AdminRole;
  /** Shown once; we keep only its keyed hash. XXXX-XXXX-XXXX-XXXX. */
  code: string;
  expiresAt: Date;
}

function newInvitationCode(): string {
  const bytes = crypto.randomBytes(CODE_LENGTH);
  let code = '';
  for (let i = 0; i < CODE_LENGTH; i += 1) code += CODE_ALPHABET[bytes[i] % CODE_ALPHABET.length];
  return code.match(/.{4}/g)!.join('-');
}

/** As typed: case, spaces and dashes do not matter, and O/I/L read as 0/1/1 (Crockford). */
function invitationHash(deps: Pick<Deps, 'protector'>, code: string): string {
  const cleaned = code.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
  return deps.protector.hash(`admin-invitation:${cleaned}`);
}

function creatorOf(actor: Actor): string {
  return `${actor.kind.toLowerCase()}:${actorId(actor)}`;
}

export async function createInvitation(
  deps: Pick<Deps, 'db' | 'protector' | 'clock'>,
  actor: Actor,
  input: { schoolId: string; role: AdminRole; displayName?: string | null; validHours?: number },
): Promise<IssuedInvitation> {
  const school = await findSchool(deps.db, input.schoolId);
  if (!school) throw new DomainError('SCHOOL_NOT_FOUND');
  const code = newInvitationCode();
  const expiresAt = new Date(
    deps.clock.now().getTime() + (input.validHours ?? DEFAULT_INVITATION_HOURS) * 3_600_000,
  );
  const invitation = await deps.db.transaction(async (tx) => {
    const row = await insertInvitation(tx, {
      schoolId: school.id,
      role: input.role,
      displayName: input.displayName ?? null,
      codeHash: invitationHash(deps, code),
      createdBy: creatorOf(actor),
      expiresAt,
    });
    await recordAudit(tx, {
      actor,
      schoolId: school.id,
      action: 'admin.invite',
      target: row.id,
      after: { role: row.role, displayName: row.displayName, expiresAt },
    });
    return row;
  });
  return { invitationId: invitation.id, schoolId: school.id, role: invitation.role, code, expiresAt };
}

/**
 * An Alipay user redeems an invitation and becomes an admin of its school with its role. The code is spent
 * in the same transaction that adds the admin, so a failure leaves it usable.
 */
export async function redeemInvitation(
  deps: Pick<Deps, 'db' | 'protector' | 'clock'>,
  userId: string,
  code: string,
  requestId?: string,
): Promise<AdminMembership> {
  const codeHash = invitationHash(deps, code);
  const now = deps.clock.now();
  const membership = await deps.db.transaction(async (tx) => {
    const invitation = await redeemInvitationIfOpen(tx, codeHash, { userId, now });
    if (!invitation) {
      const known = await findInvitationByHash(tx, codeHash);
      if (!known) throw new DomainError('INVITATION_NOT_FOUND', undefined, { field: 'body.code' });
      if (known.redeemedAt) throw new DomainError('INVITATION_USED', undefined, { field: 'body.code' });
      throw new DomainError('INVITATION_EXPIRED', undefined, { field: 'body.code' });
    }
    const added = await insertMembershipIfNew(tx, {
      schoolId: invitation.schoolId,
      userId,
      role: invitation.role,
      displayName: invitation.displayName,
      invitationId: invitation.id,
    });
    if (!added) throw new DomainError('ALREADY_ADMIN', undefined, { field: 'body.code' });
    await recordAudit(tx, {
      actor: { kind: 'ADMIN', userId, requestId },
      schoolId: invitation.schoolId,
      action: 'admin.join',
      target: userId,
      after: { role: added.role, displayName: added.displayName, invitationId: invitation.id },
    });
    return added;
  });
  const school = await findSchool(deps.db, membership.schoolId);
  return {
    schoolId: membership.schoolId,
    schoolCode: school!.code,
    schoolName: school!.name,
    schoolStatus: school!.status,
    role: membership.role,
  };
}

export function schoolsAdministeredBy(deps: Pick<Deps, 'db'>, userId: string): Promise<AdminMembership[]> {
  return listMemberships(deps.db, userId);
}

export function adminsOfSchool(deps: Pick<Deps, 'db'>, schoolId: string): Promise<AdminMember[]> {
  return listSchoolAdmins(deps.db, schoolId);
}

function isLastOwner(admins: SchoolAdminRow[], userId: string): boolean {
  const owners = admins.filter((a) => a.role === 'OWNER');
  return owners.length === 1 && owners[0].userId === userId;
}

export async function changeAdminRole(
  deps: Pick<Deps, 'db' | 'clock'>,
  actor: Actor,
  input: { schoolId: string; userId: string; role: AdminRole },
): Promise<SchoolAdminRow> {
  return deps.db.transaction(async (tx) => {
    const admins = await lockSchoolAdmins(tx, input.schoolId);
    const target = admins.find((a) => a.userId === input.userId);
    if (!target) throw new DomainError('ADMIN_NOT_FOUND');
    if (target.role === input.role) return target;
    if (target.role === 'OWNER' && isLastOwner(admins, input.userId))
      throw new DomainError('LAST_OWNER', undefined, { field: 'body.role' });
    const changed = await setMembershipRole(tx, input.schoolId, input.userId, input.role, deps.clock.now());
    await recordAudit(tx, {
      actor,
      schoolId: input.schoolId,
      action: 'admin.role.change',
      target: input.userId,
      before: { role: target.role },
      after: { role: input.role },
    });
    return changed!;
  });
}

export async function removeAdmin(
  deps: Pick<Deps, 'db'>,
  actor: Actor,
  input: { schoolId: string; userId: string },
): Promise<void> {
  await deps.db.transaction(async (tx) => {
    const admins = await lockSchoolAdmins(tx, input.schoolId);
    const target = admins.find((a) => a.userId === input.userId);
    if (!target) throw new DomainError('ADMIN_NOT_FOUND');
    if (isLastOwner(admins, input.userId)) throw new DomainError('LAST_OWNER');
    await deleteMembership(tx, input.schoolId, input.userId);
    await recordAudit(tx, {
      actor,
      schoolId: input.schoolId,
      action: 'admin.remove',
      target: input.userId,
      before: { role: target.role, displayName: target.displayName },
    });
  });
}
