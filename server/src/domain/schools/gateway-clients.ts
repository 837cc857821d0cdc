import crypto from 'node:crypto';
import {
  findGatewayClient,
  insertGatewayClient,
  listGatewayClients,
  revokeGatewayClient,
  rotateGatewaySecret,
  type GatewayClientWithSchool,
} from '../../db/repos/schools/gateway-clients.js';
import { findSchool } from '../../db/repos/schools/schools.js';
import type { Executor } from '../../db/client.js';
import type { Deps } from '../../deps.js';
import type { DataProtector } from '../../lib/crypto.js';
import { recordAudit, systemActor, type Actor } from '../audit/audit.js';
import { DomainError } from '../errors.js';

/**
 * POS gateway clients (DESIGN §5, §6.2): one id and HMAC secret per card-system gateway of a school. The
 * secret is shown once, when it is made, and stored only encrypted (lib/crypto.ts). A rotation keeps the old
 * secret valid for a grace period so that the vendor can update its terminals without a gap.
 *
 * Each change is one audit row (`gateway-client.create|rotate|revoke`) by `actor`: the operator's tool
 * passes its operator, `npm start` its own name; callers that pass none are recorded as the platform.
 */

const PLATFORM = systemActor('platform');

export interface IssuedGatewayClient {
  clientId: string;
  /** Shown once; we keep only its ciphertext. */
  secret: string;
}

function newSecret(): string {
  // 256 bits, URL-safe so that it survives copy and paste into any vendor's configuration screen.
  return crypto.randomBytes(32).toString('base64url');
}

function newClientId(): string {
  return `gw_${crypto.randomBytes(9).toString('base64url').replace(/[-_]/g, 'x')}`;
}

export async function createGatewayClient(
  deps: Pick<Deps, 'db' | 'protector'>,
  input: { schoolId: string; name: string; actor?: Actor },
): Promise<IssuedGatewayClient> {
  const school = await findSchool(deps.db, input.schoolId);
  if (!school) throw new DomainError('SCHOOL_NOT_FOUND');
  return deps.db.transaction((tx) =>
    issueGatewayClient(tx, deps.protector, {
      schoolId: school.id,
      name: input.name,
      kind: 'POS',
      actor: input.actor ?? PLATFORM,
    }),
  );
}

/**
 * A new client, its secret and its audit row, in the caller's transaction: a POS gateway, or a terminal's own
 * client (domain/terminals/terminals.ts makes it together with the terminal).
 */
export async function issueGatewayClient(
  tx: Executor,
  protector: DataProtector,
  input: { schoolId: string; name: string; kind: 'POS' | 'TERMINAL'; actor: Actor },
): Promise<IssuedGatewayClient> {
  const secret = newSecret();
  const created = await insertGatewayClient(tx, {
    id: newClientId(),
    schoolId: input.schoolId,
    name: input.name,
    kind: input.kind,
    secretEnc: protector.encrypt(secret),
  });
  await recordAudit(tx, {
    actor: input.actor,
    schoolId: input.schoolId,
    action: 'gateway-client.create',
    target: created.id,
    after: { name: input.name, kind: input.kind },
  });
  return { clientId: created.id, secret };
}

/** A new secret; the previous one keeps working for `graceMinutes` (0: stops at once). */
export async function rotateGatewayClient(
  deps: Pick<Deps, 'db' | 'protector' | 'clock'>,
  clientId: string,
  graceMinutes: number,
  actor: Actor = PLATFORM,
): Promise<IssuedGatewayClient & { previousValidUntil: Date }> {
  const now = deps.clock.now();
  const secret = newSecret();
  const previousValidUntil = new Date(now.getTime() + graceMinutes * 60_000);
  const row = await deps.db.transaction(async (tx) => {
    const rotated = await rotateGatewaySecret(tx, clientId, {
      secretEnc: deps.protector.encrypt(secret),
      previousValidUntil,
      now,
    });
    if (!rotated) return undefined;
    await recordAudit(tx, {
      actor,
      schoolId: rotated.schoolId,
      action: 'gateway-client.rotate',
      target: clientId,
      after: { secretChanged: true, previousValidUntil },
    });
    return rotated;
  });
  if (!row) throw new DomainError('NOT_FOUND', `No active gateway client ${clientId}`);
  return { clientId: row.id, secret, previousValidUntil };
}

export async function revokeGatewayClientById(
  deps: Pick<Deps, 'db'>,
  clientId: string,
  actor: Actor = PLATFORM,
): Promise<void> {
  const revoked = await deps.db.transaction(async (tx) => {
    const row = await revokeGatewayClient(tx, clientId);
    if (row)
      await recordAudit(tx, {
        actor,
        schoolId: row.schoolId,
        action: 'gateway-client.revoke',
        target: clientId,
        before: { status: 'ACTIVE' },
        after: { status: 'REVOKED' },
      });
    return row;
  });
  if (revoked) return;
  const row = await findGatewayClient(deps.db, clientId);
  if (!row) throw new DomainError('NOT_FOUND', `No gateway client ${clientId}`);
}

export function listAllGatewayClients(deps: Pick<Deps, 'db'>): Promise<GatewayClientWithSchool[]> {
  return listGatewayClients(deps.db);
}
