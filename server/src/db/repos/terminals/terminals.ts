import { and, asc, eq, sql } from 'drizzle-orm';
import type { Executor } from '../../client.js';
import { gatewayClients, schools, terminals } from '../../schema.js';
import type { SchoolRow } from '../schools/schools.js';

export type TerminalRow = typeof terminals.$inferSelect;
export type NewTerminal = typeof terminals.$inferInsert;

export async function insertTerminal(db: Executor, terminal: NewTerminal): Promise<TerminalRow | undefined> {
  const [row] = await db.insert(terminals).values(terminal).onConflictDoNothing().returning();
  return row;
}

export async function findTerminal(
  db: Executor,
  schoolId: string,
  id: string,
): Promise<TerminalRow | undefined> {
  const [row] = await db
    .select()
    .from(terminals)
    .where(and(eq(terminals.schoolId, schoolId), eq(terminals.id, id)));
  return row;
}

export async function findTerminalByTerminalId(
  db: Executor,
  schoolId: string,
  terminalId: string,
): Promise<TerminalRow | undefined> {
  const [row] = await db
    .select()
    .from(terminals)
    .where(and(eq(terminals.schoolId, schoolId), eq(terminals.terminalId, terminalId)));
  return row;
}

/** The row locked for a read-modify-write in the caller's transaction. */
export async function lockTerminal(
  tx: Executor,
  schoolId: string,
  id: string,
): Promise<TerminalRow | undefined> {
  const [row] = await tx
    .select()
    .from(terminals)
    .where(and(eq(terminals.schoolId, schoolId), eq(terminals.id, id)))
    .for('update');
  return row;
}

export async function updateTerminal(
  tx: Executor,
  id: string,
  patch: Partial<NewTerminal>,
): Promise<TerminalRow | undefined> {
  const [row] = await tx.update(terminals).set(patch).where(eq(terminals.id, id)).returning();
  return row;
}

export function listTerminalsOfSchool(db: Executor, schoolId: string): Promise<TerminalRow[]> {
  return db
    .select()
    .from(terminals)
    .where(eq(terminals.schoolId, schoolId))
    .orderBy(asc(terminals.terminalId));
}

/**
 * The versions of a terminal row and of its school's row (PostgreSQL's xmin: it changes with every update,
 * whoever makes it), so that a process may keep both and still act only on what is stored now
 * (repos/terminals/orders.ts insertOrderWithQrPayment).
 */
export interface TerminalVersions {
  terminal: string;
  school: string;
}

/** The terminal a gateway client signs for, with its school, in one query (the machine's every request). */
export async function findTerminalOfClient(
  db: Executor,
  clientId: string,
): Promise<{ terminal: TerminalRow; school: SchoolRow; versions: TerminalVersions } | undefined> {
  const [row] = await db
    .select({
      terminal: terminals,
      school: schools,
      terminalVersion: sql<string>`${terminals}.xmin::text`,
      schoolVersion: sql<string>`${schools}.xmin::text`,
    })
    .from(terminals)
    .innerJoin(schools, eq(schools.id, terminals.schoolId))
    .innerJoin(gatewayClients, eq(gatewayClients.id, terminals.gatewayClientId))
    .where(eq(terminals.gatewayClientId, clientId));
  return (
    row && {
      terminal: row.terminal,
      school: row.school,
      versions: { terminal: row.terminalVersion, school: row.schoolVersion },
    }
  );
}
