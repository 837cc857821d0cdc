import { findSchool, type SchoolRow } from '../db/repos/schools/schools.js';
import type { Deps } from '../deps.js';

const TTL_MS = 30_000;

export interface SchoolLookup {
  (id: string): Promise<SchoolRow | undefined>;
  /** Read this school afresh next time (Alipay refused its token: it may be authorized again by then). */
  forget(id: string): void;
}

/**
 * Drainers look up the school of every row they work on; schools change rarely (an admin's settings), so a
 * process keeps them for 30 s instead of asking the database once per row. A school that is not ACTIVE is
 * read afresh every time: its rows are few (held until it is back), and its return must be seen at once.
 */
export function schoolCache(deps: Pick<Deps, 'db'>): SchoolLookup {
  const cache = new Map<string, { row: SchoolRow; at: number }>();
  const lookup = async (id: string) => {
    const cached = cache.get(id);
    if (cached && Date.now() - cached.at < TTL_MS) return cached.row;
    const row = await findSchool(deps.db, id);
    if (row?.status === 'ACTIVE') cache.set(id, { row, at: Date.now() });
    return row;
  };
  return Object.assign(lookup, { forget: (id: string) => void cache.delete(id) });
}
