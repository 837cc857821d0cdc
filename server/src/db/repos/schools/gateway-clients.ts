import { and, asc, eq, sql } from 'drizzle-orm';
import type { Executor } from '../../client.js';
import { gatewayClients, gatewayNonces, schools } from '../../schema.js';

export type GatewayClientRow = typeof gatewayClients.$inferSelect;
export type GatewayClientWithSchool = GatewayClientRow & { schoolCode: string; schoolName: string };

export async function insertGatewayClient(
  db: Executor,
  client: typeof gatewayClients.$inferInsert,
): Promise<GatewayClientRow> {
  const [row] = await db.insert(gatewayClients).values(client).returning();
  return row;
}

export async function findGatewayClient(db: Executor, id: string): Promise<GatewayClientRow | undefined> {
  const [row] = await db.select().from(gatewayClients).where(eq(gatewayClients.id, id));
  return row;
}

export async function listGatewayClients(db: Executor): Promise<GatewayClientWithSchool[]> {
  return db
    .select({
      id: gatewayClients.id,
      schoolId: gatewayClients.schoolId,
      name: gatewayClients.name,
      secretEnc: gatewayClients.secretEnc,
      previousSecretEnc: gatewayClients.previousSecretEnc,
      previousSecretValidUntil: gatewayClients.previousSecretValidUntil,
      status: gatewayClients.status,
      kind: gatewayClients.kind,
      createdAt: gatewayClients.createdAt,
      rotatedAt: gatewayClients.rotatedAt,
      schoolCode: schools.code,
      schoolName: schools.name,
    })
    .from(gatewayClients)
    .innerJoin(schools, eq(schools.id, gatewayClients.schoolId))
    .orderBy(asc(schools.code), asc(gatewayClients.createdAt));
}

/** New secret in, current secret kept as the previous one until `previousValidUntil`. Active clients only. */
export async function rotateGatewaySecret(
  db: Executor,
  id: string,
  rotation: { secretEnc: string; previousValidUntil: Date; now: Date },
): Promise<GatewayClientRow | undefined> {
  const [row] = await db
    .update(gatewayClients)
    .set({
      previousSecretEnc: sql`${gatewayClients.secretEnc}`,
      previousSecretValidUntil: rotation.previousValidUntil,
      secretEnc: rotation.secretEnc,
      rotatedAt: rotation.now,
    })
    .where(and(eq(gatewayClients.id, id), eq(gatewayClients.status, 'ACTIVE')))
    .returning();
  return row;
}

/** The revoked client's school; undefined when there was no ACTIVE client of that id. */
export async function revokeGatewayClient(
  db: Executor,
  id: string,
): Promise<{ schoolId: string } | undefined> {
  const [row] = await db
    .update(gatewayClients)
    .set({ status: 'REVOKED', previousSecretEnc: null, previousSecretValidUntil: null })
    .where(and(eq(gatewayClients.id, id), eq(gatewayClients.status, 'ACTIVE')))
    .returning({ schoolId: gatewayClients.schoolId });
  return row;
}

/**
 * Remembers a nonce for the timestamp window; false when this client already used it (a replay). The
 * deduct route does the same inside its decision function, so that it costs no extra round trip.
 */
export async function consumeNonce(
  db: Executor,
  clientId: string,
  nonce: string,
  expiresAt: Date,
): Promise<boolean> {
  const rows = await db
    .insert(gatewayNonces)
    .values({ clientId, nonce, expiresAt })
    .onConflictDoNothing()
    .returning({ nonce: gatewayNonces.nonce });
  return rows.length === 1;
}
