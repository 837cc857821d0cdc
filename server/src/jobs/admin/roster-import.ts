import { ROSTER_IMPORT_JOB, runQueuedRosterImport } from '../../domain/roster/roster-import.js';
import type { JobDefinition } from '../runner.js';

/** Imports a roster file too large to import while the request waits (progress in roster_imports). */
export const rosterImportJob: JobDefinition<{ importId: string; schoolId: string }> = {
  name: ROSTER_IMPORT_JOB,
  concurrency: 1,
  lockLifetimeMs: 30 * 60_000,
  async run(data, deps) {
    if (typeof data.importId !== 'string' || typeof data.schoolId !== 'string') return;
    await runQueuedRosterImport(deps, data.schoolId, data.importId);
  },
};
