import type { TerminalInput, TerminalMoneyModeInput, TerminalView } from '../../../../shared/admin-api.js';
import { findSchool, type SchoolRow } from '../../db/repos/schools/schools.js';
import {
  findTerminal,
  insertTerminal,
  listTerminalsOfSchool,
  lockTerminal,
  updateTerminal,
  type TerminalRow,
} from '../../db/repos/terminals/terminals.js';
import type { Deps } from '../../deps.js';
import { changedFields, recordAudit, type Actor } from '../audit/audit.js';
import { DomainError } from '../errors.js';
import { issueGatewayClient } from '../schools/gateway-clients.js';

/**
 * The terminals registry (DESIGN §5, §7.6; seed 002): each school's vending machines and cashier windows, with
 * the Alipay terminal_id every trade of theirs carries, the operator who runs them, and where their money goes
 * (PLAIN / RESTRICTED / ROYALTY, schema.ts). Every terminal has its own HMAC client (gateway_clients, kind
 * TERMINAL), made with it: the machine signs its requests exactly like a POS gateway (docs/gateway-api.md).
 * Every change is one audit row, written in the change's transaction.
 */

export type { TerminalRow };

export function terminalView(row: TerminalRow): TerminalView {
  return {
    id: row.id,
    terminalId: row.terminalId,
    kind: row.kind,
    name: row.name,
    location: row.location,
    operatorName: row.operatorName,
    moneyMode: row.moneyMode,
    sellerId: row.sellerId,
    royalty:
      row.moneyMode === 'ROYALTY'
        ? {
            account: row.royaltyAccount!,
            bps: row.royaltyBps,
            fixedFen: row.royaltyFixedFen,
            timing: row.royaltyTiming!,
          }
        : null,
    callbackUrl: row.callbackUrl,
    orderTimeoutSeconds: row.orderTimeoutSeconds,
    status: row.status,
    clientId: row.gatewayClientId,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** The columns a money mode sets: the others are cleared, so a terminal never mixes two modes. */
function moneyColumns(mode: TerminalMoneyModeInput, school: SchoolRow, fieldPrefix: string) {
  const columns = {
    moneyMode: mode.moneyMode,
    sellerId: null as string | null,
    royaltyAccount: null as string | null,
    royaltyBps: null as number | null,
    royaltyFixedFen: null as number | null,
    royaltyTiming: null as TerminalRow['royaltyTiming'],
  };
  if (mode.moneyMode === 'RESTRICTED') {
    if (!mode.sellerId)
      throw new DomainError('VALIDATION_FAILED', 'sellerId is required for RESTRICTED', {
        field: `${fieldPrefix}sellerId`,
      });
    columns.sellerId = mode.sellerId;
  }
  if (mode.moneyMode === 'ROYALTY') {
    const royalty = mode.royalty;
    if (!royalty)
      throw new DomainError('VALIDATION_FAILED', 'royalty is required for ROYALTY', {
        field: `${fieldPrefix}royalty`,
      });
    // Alipay refuses a split to the account that collects (ACQ.ROYALTY_ACCOUNTS_EQUAL).
    if (school.alipaySellerId && royalty.account === school.alipaySellerId)
      throw new DomainError('VALIDATION_FAILED', "royalty.account is the school's own account", {
        field: `${fieldPrefix}royalty.account`,
      });
    columns.royaltyAccount = royalty.account;
    columns.royaltyBps = royalty.bps ?? null;
    columns.royaltyFixedFen = royalty.fixedFen ?? null;
    columns.royaltyTiming = royalty.timing;
  }
  return columns;
}

async function schoolOrThrow(deps: Pick<Deps, 'db'>, schoolId: string): Promise<SchoolRow> {
  const school = await findSchool(deps.db, schoolId);
  if (!school) throw new DomainError('SCHOOL_NOT_FOUND');
  return school;
}

/** A new terminal and its HMAC client; the secret is returned once and kept only encrypted. */
export async function createTerminal(
  deps: Pick<Deps, 'db' | 'protector' | 'clock'>,
  actor: Actor,
  schoolId: string,
  input: TerminalInput,
  fieldPrefix = 'body.',
): Promise<{ terminal: TerminalView; clientId: string; secret: string }> {
  const school = await schoolOrThrow(deps, schoolId);
  const money = moneyColumns(input, school, fieldPrefix);
  return deps.db.transaction(async (tx) => {
    const client = await issueGatewayClient(tx, deps.protector, {
      schoolId,
      name: `terminal ${input.terminalId} ${input.name}`.slice(0, 128),
      kind: 'TERMINAL',
      actor,
    });
    const row = await insertTerminal(tx, {
      schoolId,
      terminalId: input.terminalId,
      kind: input.kind,
      name: input.name,
      location: input.location ?? null,
      operatorName: input.operatorName ?? null,
      ...money,
      gatewayClientId: client.clientId,
      callbackUrl: input.callbackUrl ?? null,
      orderTimeoutSeconds: input.orderTimeoutSeconds ?? 120,
    });
    if (!row) throw new DomainError('TERMINAL_EXISTS', undefined, { field: `${fieldPrefix}terminalId` });
    const view = terminalView(row);
    await recordAudit(tx, {
      actor,
      schoolId,
      action: 'terminal.create',
      target: row.terminalId,
      after: view,
    });
    return { terminal: view, ...client };
  });
}

const EDITABLE = ['name', 'location', 'operatorName', 'kind', 'callbackUrl', 'orderTimeoutSeconds'] as const;
export type TerminalEdit = Partial<Pick<TerminalInput, (typeof EDITABLE)[number]>>;

async function changeTerminal(
  deps: Pick<Deps, 'db' | 'clock'>,
  actor: Actor,
  schoolId: string,
  id: string,
  action: string,
  patch: (row: TerminalRow) => Partial<TerminalRow> | Promise<Partial<TerminalRow>>,
  fields: ReadonlyArray<keyof TerminalView>,
): Promise<TerminalView> {
  return deps.db.transaction(async (tx) => {
    const before = await lockTerminal(tx, schoolId, id);
    if (!before) throw new DomainError('TERMINAL_NOT_FOUND');
    const after = await updateTerminal(tx, id, { ...(await patch(before)), updatedAt: deps.clock.now() });
    const diff = changedFields(terminalView(before), terminalView(after!), fields);
    if (diff) await recordAudit(tx, { actor, schoolId, action, target: before.terminalId, ...diff });
    return terminalView(after!);
  });
}

/** Name, place, operator, kind, callback URL, timeout: what staff look after. */
export function editTerminal(
  deps: Pick<Deps, 'db' | 'clock'>,
  actor: Actor,
  schoolId: string,
  id: string,
  edit: TerminalEdit,
): Promise<TerminalView> {
  return changeTerminal(deps, actor, schoolId, id, 'terminal.update', () => edit, EDITABLE);
}

/** Where the money goes (owners only): applies to orders made from now on; open orders keep theirs. */
export async function setTerminalMoneyMode(
  deps: Pick<Deps, 'db' | 'clock'>,
  actor: Actor,
  schoolId: string,
  id: string,
  mode: TerminalMoneyModeInput,
  fieldPrefix = 'body.',
): Promise<TerminalView> {
  const school = await schoolOrThrow(deps, schoolId);
  const money = moneyColumns(mode, school, fieldPrefix);
  return changeTerminal(deps, actor, schoolId, id, 'terminal.money-mode.change', () => money, [
    'moneyMode',
    'sellerId',
    'royalty',
  ]);
}

/** DISABLED terminals cannot make orders; their client keeps working for the orders they already have. */
export function setTerminalStatus(
  deps: Pick<Deps, 'db' | 'clock'>,
  actor: Actor,
  schoolId: string,
  id: string,
  status: TerminalRow['status'],
): Promise<TerminalView> {
  return changeTerminal(
    deps,
    actor,
    schoolId,
    id,
    status === 'ACTIVE' ? 'terminal.enable' : 'terminal.disable',
    () => ({ status }),
    ['status'],
  );
}

export async function schoolTerminals(deps: Pick<Deps, 'db'>, schoolId: string): Promise<TerminalView[]> {
  return (await listTerminalsOfSchool(deps.db, schoolId)).map(terminalView);
}

export async function schoolTerminal(
  deps: Pick<Deps, 'db'>,
  schoolId: string,
  id: string,
): Promise<TerminalView> {
  const row = await findTerminal(deps.db, schoolId, id);
  if (!row) throw new DomainError('TERMINAL_NOT_FOUND');
  return terminalView(row);
}
