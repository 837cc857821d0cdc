import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { RosterImportView, RosterRowError } from '../../../../shared/admin-api.js';
import {
  markRosterEntriesLeft,
  upsertRosterEntries,
  type PreparedRosterEntry,
  type RosterUpsertResult,
} from '../../db/repos/roster/roster-entries.js';
import {
  findRosterImport,
  findRosterImportFile,
  insertRosterImport,
  listRosterImports,
  recordRosterImportProgress,
  startRosterImport,
  updateRosterImport,
  type RosterImportRow,
} from '../../db/repos/roster/roster-imports.js';
import type { Deps } from '../../deps.js';
import { actorId, recordAudit, type Actor } from '../audit/audit.js';
import { DomainError } from '../errors.js';
import { checkRosterRow, formatOf, readRosterTable, rosterColumns } from './roster-file.js';
import { prepareRosterEntry, ROSTER_BATCH_SIZE } from './roster-entries.js';

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
  const file = await findRosterImportFile(deps.db, schoolId, importId);
  if (!file) return;
  const started = await startRosterImport(deps.db, importId, deps.clock.now());
  if (!started) return;
  const [kind, ...name] = started.requestedBy.split(':');
  const who = name.join(':');
  const actor: Actor =
    kind === 'admin' ? { kind: 'ADMIN', userId: who } : { kind: 'OPERATOR', name: who || 'operator' };
  await runRosterImport(deps, actor, started, Buffer.from(file, 'base64'));
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

  const totalRows = table.length - 1;
  await recordRosterImportProgress(deps.db, job.id, { totalRows }, deps.clock.now());
  const errors: RosterRowError[] = [];
  const firstRowOf = new Map<string, number>(); // card number → the first line that has it
  let rejected = 0;
  /** Checks lines [from, to) of the table and returns the good ones hashed and encrypted, in file order. */
  const prepareLines = (from: number, to: number): PreparedRosterEntry[] => {
    const prepared: PreparedRosterEntry[] = [];
    for (let i = from; i < to; i += 1) {
      const row = i + 1;
      const checked = checkRosterRow(columns, table[i], row);
      const cardNo = checked.entry?.cardNo ?? (table[i][columns.index.cardNo!] ?? '').trim();
      const firstRow = cardNo ? firstRowOf.get(cardNo) : undefined;
      if (firstRow !== undefined)
        checked.errors.push({ row, field: 'cardNo', reason: `duplicate of row ${firstRow}` });
      else if (cardNo) firstRowOf.set(cardNo, row);
      if (checked.errors.length > 0) {
        rejected += 1;
        errors.push(...checked.errors);
      } else prepared.push(prepareRosterEntry(deps.protector, checked.entry!));
    }
    return prepared;
  };

  const totals: RosterUpsertResult = { inserted: 0, updated: 0, unchanged: 0 };
  let markedLeft = 0;
  const now = deps.clock.now();
  // Progress is for the page that polls: written beside the transaction, which commits at the end.
  const progress = progressWriter((processedRows) =>
    recordRosterImportProgress(deps.db, job.id, { processedRows }, deps.clock.now()).catch(
      (error: unknown) => {
        deps.logger.warn('roster import progress not recorded', { importId: job.id, error });
      },
    ),
  );
  await deps.db.transaction(async (tx) => {
    const write = async (batch: PreparedRosterEntry[], processedRows: number) => {
      const result = await upsertRosterEntries(tx, job.schoolId, batch, now);
      totals.inserted += result.inserted;
      totals.updated += result.updated;
      totals.unchanged += result.unchanged;
      progress.report(processedRows);
    };
    // Two cores at work: Node checks, hashes and encrypts a batch while PostgreSQL writes the one before.
    // A line rejected later never changes an earlier batch (a duplicate card number refuses the later line).
    let writing: Promise<void> = Promise.resolve();
    for (let from = 1; from < table.length; from += ROSTER_BATCH_SIZE) {
      const to = Math.min(from + ROSTER_BATCH_SIZE, table.length);
      const batch = prepareLines(from, to);
      await writing;
      writing = write(batch, to - 1);
      writing.catch(() => undefined); // thrown where it is awaited, one turn later
      // Lets the statement go out now (and requests in) before the next batch takes the CPU.
      await yieldToEventLoop();
    }
    await writing;
    if (job.markMissingAsLeft)
      markedLeft = await markRosterEntriesLeft(tx, job.schoolId, [...firstRowOf.keys()], now);
    await recordAudit(tx, {
      actor,
      schoolId: job.schoolId,
      action: 'roster.import',
      target: job.id,
      after: { fileName: job.fileName, rows: totalRows, ...totals, rejected, markedLeft },
    });
  });
  // The last progress write lands before the final state, never after it.
  await progress.settled();
  return finish({
    status: 'DONE',
    processedRows: totalRows,
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

/**
 * Writes the latest progress on its own pooled connection, never awaited by the import's transaction: a
 * transaction that waited for a second connection of the pool would wait forever once every connection is
 * held by such a transaction (DATABASE_POOL_SIZE=1, or as many inline imports as connections). One write at
 * a time; figures reported meanwhile are folded into the next one.
 */
function progressWriter(write: (processedRows: number) => Promise<void>) {
  let latest = 0;
  let writing: Promise<void> | null = null;
  return {
    report(processedRows: number) {
      latest = processedRows;
      writing ??= (async () => {
        for (let written = -1; written !== latest;) {
          written = latest;
          await write(written);
        }
        writing = null;
      })();
    },
    settled: () => writing ?? Promise.resolve(),
  };
}
