import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { RosterImportView, RosterRowError } from '../../../../shared/admin-api.js';
import {
  markRosterEntriesLeft,
  upsertRosterEntries,
  type RosterUpsertResult,
} from '../../db/repos/roster/roster-entries.js';
import {
  findRosterImport,
  insertRosterImport,
  listRosterImports,
  startRosterImport,
  updateRosterImport,
  type RosterImportRow,
} from '../../db/repos/roster/roster-imports.js';
import type { Deps } from '../../deps.js';
import { actorId, recordAudit, type Actor } from '../audit/audit.js';
import { DomainError } from '../errors.js';
import { checkRosterRow, formatOf, readRosterTable, rosterColumns } from './roster-file.js';
import { prepareRosterEntry, ROSTER_BATCH_SIZE, type RosterEntryInput } from './roster-entries.js';

/**
 * A school's roster import (issue 13): file → checked rows → the roster (roster_entries, keyed hashes and
 * ciphertext only, through #12's repository: upsert by school + card number, so the same file twice
 * changes nothing). The rows and the audit row are written in ONE transaction, so an import is all or
 * nothing; its progress is written beside it, outside that transaction, for the page that polls.
 * Small files are imported while the request waits; larger ones (ROSTER_INLINE_BYTES) by the
 * `roster.import` job, so 50,000 rows never hold up the API. Rows missing from the file stay; with
 * `markMissingAsLeft` they are marked as left (no longer matched for binding).
 */

export const ROSTER_IMPORT_JOB = 'roster.import';
/** The report keeps this many refused rows; the counts are always complete. */
const MAX_REPORTED_ERRORS = 5_000;

export function rosterImportView(row: RosterImportRow): RosterImportView {
  return {
    id: row.id,
    status: row.status,
    fileName: row.fileName,
    totalRows: row.totalRows,
    processedRows: row.processedRows,
    inserted: row.inserted,
    updated: row.updated,
    unchanged: row.unchanged,
    rejected: row.rejected,
    markedLeft: row.markedLeft,
    errors: row.errors as RosterRowError[],
    errorsTruncated: row.errorsTruncated,
    failure: row.failure,
    createdAt: row.createdAt.toISOString(),
    finishedAt: row.finishedAt?.toISOString() ?? null,
  };
}

export interface RosterUpload {
  fileName: string;
  bytes: Buffer;
  markMissingAsLeft: boolean;
}

/** Takes a file: imports it now (small) or queues it for the job (large). */
export async function importRosterFile(
  deps: Deps,
  actor: Actor,
  schoolId: string,
  upload: RosterUpload,
  options: { inline?: boolean } = {},
): Promise<RosterImportView> {
  if (upload.bytes.length === 0)
    throw new DomainError('ROSTER_FILE_INVALID', 'the file is empty', { field: 'file' });
  const format = formatOf(upload.fileName, upload.bytes);
  const inline = options.inline ?? upload.bytes.length <= deps.config.admin.rosterInlineBytes;
  const created = await insertRosterImport(deps.db, {
    schoolId,
    requestedBy: `${actor.kind.toLowerCase()}:${actorId(actor)}`,
    fileName: upload.fileName.slice(0, 200),
    format,
    markMissingAsLeft: upload.markMissingAsLeft,
    content: inline ? null : upload.bytes.toString('base64'),
  });
  if (!inline) {
    await deps.jobs.now(ROSTER_IMPORT_JOB, { importId: created.id, schoolId });
    return rosterImportView(created);
  }
  const started = (await startRosterImport(deps.db, created.id, deps.clock.now()))!;
  const done = rosterImportView(await runRosterImport(deps, actor, started, upload.bytes));
  if (done.status === 'FAILED') {
    // The file itself is unusable: a 422 naming why, with the import's id and its report.
    throw new DomainError('ROSTER_FILE_INVALID', done.failure ?? undefined, {
      field: 'file',
      details: { importId: done.id, errors: done.errors },
    });
  }
  return done;
}

/** The job's entry: a queued import, run once. */
export async function runQueuedRosterImport(deps: Deps, schoolId: string, importId: string): Promise<void> {
  const queued = await findRosterImport(deps.db, schoolId, importId);
  if (!queued?.content) return;
  const started = await startRosterImport(deps.db, importId, deps.clock.now());
  if (!started) return;
  const [kind, ...name] = started.requestedBy.split(':');
  const who = name.join(':');
  const actor: Actor =
    kind === 'admin' ? { kind: 'ADMIN', userId: who } : { kind: 'OPERATOR', name: who || 'operator' };
  await runRosterImport(deps, actor, started, Buffer.from(queued.content, 'base64'));
}

async function runRosterImport(
  deps: Deps,
  actor: Actor,
  job: RosterImportRow,
  bytes: Buffer,
): Promise<RosterImportRow> {
  const finish = (patch: Parameters<typeof updateRosterImport>[2]) =>
    updateRosterImport(deps.db, job.id, {
      ...patch,
      content: null,
      finishedAt: deps.clock.now(),
      updatedAt: deps.clock.now(),
    }).then((row) => row!);
  let table: string[][];
  let columns;
  try {
    table = await readRosterTable(job.fileName, bytes);
    if (table.length === 0) throw new DomainError('ROSTER_FILE_INVALID', 'the file has no header line');
    columns = rosterColumns(table[0]);
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    const details = (error.details as RosterRowError[] | undefined) ?? [];
    return finish({ status: 'FAILED', failure: error.message, errors: details, totalRows: 0 });
  }

  // Check every row first (duplicates need the whole file), then write the good ones in one transaction.
  const errors: RosterRowError[] = [];
  const good: RosterEntryInput[] = [];
  const seenAt = new Map<string, number>();
  const cardNos: string[] = [];
  let rejected = 0;
  for (let i = 1; i < table.length; i += 1) {
    const row = i + 1;
    const checked = checkRosterRow(columns, table[i], row);
    const cardNo = checked.entry?.cardNo ?? (table[i][columns.index.cardNo!] ?? '').trim();
    const firstRow = cardNo ? seenAt.get(cardNo) : undefined;
    if (firstRow !== undefined)
      checked.errors.push({ row, field: 'cardNo', reason: `duplicate of row ${firstRow}` });
    else if (cardNo) {
      seenAt.set(cardNo, row);
      cardNos.push(cardNo);
    }
    if (checked.errors.length > 0) {
      rejected += 1;
      errors.push(...checked.errors);
    } else good.push(checked.entry!);
  }
  await updateRosterImport(deps.db, job.id, { totalRows: table.length - 1, updatedAt: deps.clock.now() });

  const totals: RosterUpsertResult = { inserted: 0, updated: 0, unchanged: 0 };
  let markedLeft = 0;
  const now = deps.clock.now();
  await deps.db.transaction(async (tx) => {
    for (let start = 0; start < good.length; start += ROSTER_BATCH_SIZE) {
      const batch = good
        .slice(start, start + ROSTER_BATCH_SIZE)
        .map((e) => prepareRosterEntry(deps.protector, e));
      const result = await upsertRosterEntries(tx, job.schoolId, batch, now);
      totals.inserted += result.inserted;
      totals.updated += result.updated;
      totals.unchanged += result.unchanged;
      // Progress is for the page that polls: written beside the transaction, which commits at the end.
      await updateRosterImport(deps.db, job.id, {
        processedRows: Math.min(start + ROSTER_BATCH_SIZE, good.length) + rejected,
        updatedAt: deps.clock.now(),
      });
      // Hashing and encrypting a batch is CPU work: let requests in between batches.
      await yieldToEventLoop();
    }
    if (job.markMissingAsLeft) markedLeft = await markRosterEntriesLeft(tx, job.schoolId, cardNos, now);
    await recordAudit(tx, {
      actor,
      schoolId: job.schoolId,
      action: 'roster.import',
      target: job.id,
      after: {
        fileName: job.fileName,
        rows: table.length - 1,
        ...totals,
        rejected,
        markedLeft,
      },
    });
  });
  return finish({
    status: 'DONE',
    processedRows: table.length - 1,
    ...totals,
    rejected,
    markedLeft,
    errors: errors.slice(0, MAX_REPORTED_ERRORS),
    errorsTruncated: errors.length > MAX_REPORTED_ERRORS,
  });
}

export async function rosterImport(
  deps: Pick<Deps, 'db'>,
  schoolId: string,
  id: string,
): Promise<RosterImportView> {
  const row = await findRosterImport(deps.db, schoolId, id);
  if (!row) throw new DomainError('ROSTER_IMPORT_NOT_FOUND');
  return rosterImportView(row);
}

export async function recentRosterImports(
  deps: Pick<Deps, 'db'>,
  schoolId: string,
): Promise<RosterImportView[]> {
  return (await listRosterImports(deps.db, schoolId, 20)).map(rosterImportView);
}
