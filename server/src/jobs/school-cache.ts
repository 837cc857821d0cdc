import { findSchool, type SchoolRow } from '../db/repos/schools/schools.js';
import type { Deps } from '../deps.js';

const TTL_MS = 30_000;

/**
 * Drainers look up the school of every row they work on; schools change rarely (an admin's settings), so a
 * process keeps them for 30 s instead of asking the database once per row.
 */
export function schoolCache(deps: Pick<Deps, 'db'>): (id: string) => Promise<SchoolRow | undefined> {
  const cache = new Map<string, { row: SchoolRow; at: number }>();
  return async (id) => {
    const cached = cache.get(id);
    if (cached && Date.now() - cached.at < TTL_MS) return cached.row;
    const row = await findSchool(deps.db, id);
    if (row) cache.set(id, { row, at: Date.now() });
    return row;
  };
}
