import { inArray } from 'drizzle-orm';
import type { Executor } from '../../../db/client.js';
import { gatewayClients } from '../../../db/schema.js';

/**
 * Where a swipe happened, by name rather than by id: the POS gateway client's name (the school names it when
 * it is created, e.g. "一食堂"), with the terminal. The terminals registry (issue #15) is the better source
 * for a terminal's own name; when it exists, it is looked up here first, so statements, receipts and debts
 * all name places the same way.
 */
export async function placeNames(
  db: Executor,
  refs: Array<{ gatewayClientId: string | null; terminalId: string | null }>,
): Promise<(ref: { gatewayClientId: string | null; terminalId: string | null }) => string | null> {
  const ids = [...new Set(refs.map((r) => r.gatewayClientId).filter((id): id is string => !!id))];
  const names = new Map<string, string>();
  if (ids.length > 0) {
    const rows = await db
      .select({ id: gatewayClients.id, name: gatewayClients.name })
      .from(gatewayClients)
      .where(inArray(gatewayClients.id, ids));
    for (const row of rows) names.set(row.id, row.name);
  }
  return (ref) => {
    const client = ref.gatewayClientId ? names.get(ref.gatewayClientId) : undefined;
    if (client && ref.terminalId) return `${client} · ${ref.terminalId}`;
    return client ?? (ref.terminalId ? `终端 ${ref.terminalId}` : null);
  };
}
