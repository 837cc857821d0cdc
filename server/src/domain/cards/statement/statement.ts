import type { ReceiptView, StatementResponse } from '../../../../../shared/api.js';
import type { SchoolRow } from '../../../db/repos/schools/schools.js';
import type { Deps } from '../../../deps.js';
import type { CardRecord, CardSystem } from '../../../integrations/cardsys/index.js';
import { DomainError } from '../../errors.js';
import { cardSystemFailure } from '../../outside-errors.js';
import { servingSchool, usableBinding } from '../bindings.js';
import { STATEMENT_SOURCES } from './registry.js';
import {
  newestFirst,
  type SourcedEntry,
  type SourcedReceipt,
  type StatementCard,
  type StatementWindow,
} from './sources.js';

/**
 * A card's statement (seed 000 §2.4): the card system's records (GetPersonDetails) merged with every kind of
 * record we keep about the card (sources.ts, registry.ts), newest first, paged, over any window the card
 * system allows (CardSystem.statementMaxDays; default the last 30 days). A record of ours whose money the
 * card system also recorded (a credited recharge, a POS swipe) is one row: ours, with the card system's
 * balance and place. Every row opens a receipt (cardReceipt).
 */

export const STATEMENT_PAGE_SIZE = 20;
const DEFAULT_WINDOW_DAYS = 30;
const VENDOR_PAGE_SIZE = 100;
/** At most this many vendor records per statement; past it the answer says `truncated`. */
const MAX_VENDOR_PAGES = 20;
const DAY_MS = 86_400_000;

export interface StatementQuery {
  from?: Date;
  to?: Date;
  page: number;
}

function cardOf(binding: { schoolId: string; cardNo: string; holderName: string; studentNo: string | null }) {
  return {
    schoolId: binding.schoolId,
    cardNo: binding.cardNo,
    holderName: binding.holderName,
    studentNo: binding.studentNo,
  } satisfies StatementCard;
}

/** The card system's own record as a row; `card:<serial>@<unix seconds>` finds it again for the receipt. */
function vendorEntry(record: CardRecord): SourcedEntry {
  return {
    id: `card:${record.vendorSerial}@${Math.floor(record.occurredAt.getTime() / 1000)}`,
    occurredAt: record.occurredAt.toISOString(),
    kind:
      record.kind === 'RECHARGE' ? 'RECHARGE' : record.channel === 'ALIPAY' ? 'WITHHOLDING' : 'CONSUMPTION',
    amountFen: record.kind === 'RECHARGE' ? record.amountFen : -record.amountFen,
    balanceAfterFen: record.balanceAfterFen,
    place: record.place ?? record.terminalId,
    status: null,
    orderNo: null,
    references: record.referenceNo ? [record.referenceNo] : [],
  };
}

async function vendorRecords(
  cardSystem: CardSystem,
  cardNo: string,
  window: StatementWindow,
): Promise<{ records: CardRecord[]; truncated: boolean }> {
  const records: CardRecord[] = [];
  // The card system works in whole seconds: widen the window outwards so nothing at its edges is lost.
  const from = new Date(Math.floor(window.from.getTime() / 1000) * 1000);
  const to = new Date(Math.ceil(window.to.getTime() / 1000) * 1000);
  try {
    for (let page = 1; page <= MAX_VENDOR_PAGES; page += 1) {
      const result = await cardSystem.getStatement({ cardNo, from, to, page, pageSize: VENDOR_PAGE_SIZE });
      records.push(...result.records);
      if (result.records.length < VENDOR_PAGE_SIZE || records.length >= result.total)
        return { records, truncated: false };
    }
  } catch (error) {
    throw cardSystemFailure(error);
  }
  return { records, truncated: true };
}

/** Ours replace the card system's rows that carry one of their references; the rest stay as they are. */
function merge(vendor: SourcedEntry[], ours: SourcedEntry[]): SourcedEntry[] {
  const byReference = new Map<string, SourcedEntry>();
  for (const entry of vendor) for (const ref of entry.references ?? []) byReference.set(ref, entry);
  const replaced = new Set<SourcedEntry>();
  const merged = ours.map((entry) => {
    const theirs = (entry.references ?? [])
      .map((ref) => byReference.get(ref))
      .find((e) => e && !replaced.has(e));
    if (!theirs) return entry;
    replaced.add(theirs);
    return { ...entry, balanceAfterFen: theirs.balanceAfterFen, place: theirs.place ?? entry.place };
  });
  return [...vendor.filter((entry) => !replaced.has(entry)), ...merged];
}

function checkedWindow(query: StatementQuery, now: Date, maxDays: number): StatementWindow {
  const to = query.to ?? now;
  const from = query.from ?? new Date(to.getTime() - DEFAULT_WINDOW_DAYS * DAY_MS);
  if (from > to)
    throw new DomainError('VALIDATION_FAILED', 'query.from: must not be after to', { field: 'query.from' });
  if (to.getTime() - from.getTime() > maxDays * DAY_MS) {
    throw new DomainError('VALIDATION_FAILED', `query.from: the window is at most ${maxDays} days`, {
      field: 'query.from',
      details: { maxDays },
    });
  }
  return { from, to };
}

export async function cardStatement(
  deps: Deps,
  userId: string,
  bindingId: string,
  query: StatementQuery,
): Promise<StatementResponse> {
  const binding = await usableBinding(deps, userId, bindingId);
  const school = await servingSchool(deps, binding.schoolId);
  const cardSystem = deps.schools.cardSystem(school);
  const window = checkedWindow(query, deps.clock.now(), cardSystem.statementMaxDays);
  const card = cardOf(binding);
  const [{ records, truncated }, ...ours] = await Promise.all([
    vendorRecords(cardSystem, card.cardNo, window),
    ...STATEMENT_SOURCES.map((source) => source.entries(deps, card, window)),
  ]);
  const entries = merge(records.map(vendorEntry), ours.flat()).sort(newestFirst);
  const start = (query.page - 1) * STATEMENT_PAGE_SIZE;
  return {
    entries: entries.slice(start, start + STATEMENT_PAGE_SIZE).map(({ references: _, ...entry }) => entry),
    page: query.page,
    pageSize: STATEMENT_PAGE_SIZE,
    hasMore: entries.length > start + STATEMENT_PAGE_SIZE,
    from: window.from.toISOString(),
    to: window.to.toISOString(),
    truncated,
    maxDays: cardSystem.statementMaxDays,
  };
}

/** The card system's record for a `card:<serial>@<seconds>` id, read again from the vendor. */
async function vendorReceipt(
  deps: Deps,
  school: SchoolRow,
  card: StatementCard,
  key: string,
): Promise<SourcedReceipt | null> {
  const match = /^([A-Za-z0-9_-]{1,64})@(\d{1,12})$/.exec(key);
  if (!match) return null;
  const second = Number(match[2]) * 1000;
  const { records } = await vendorRecords(deps.schools.cardSystem(school), card.cardNo, {
    from: new Date(second),
    to: new Date(second + 999),
  });
  const record = records.find((r) => r.vendorSerial === match[1]);
  if (!record) return null;
  const { references: _, ...entry } = vendorEntry(record);
  return {
    ...entry,
    alipayTradeNo: null,
    vendorSerial: record.vendorSerial,
    reference: record.referenceNo,
    timeline: [{ at: entry.occurredAt, event: 'RECORDED', detail: null }],
  };
}

/**
 * One statement row's receipt: order numbers, times, Alipay's trade number, the state timeline, the place by
 * name. Only for the card of the caller's binding: an id of another card's record is NOT_FOUND.
 */
export async function cardReceipt(
  deps: Deps,
  userId: string,
  bindingId: string,
  entryId: string,
): Promise<ReceiptView> {
  const binding = await usableBinding(deps, userId, bindingId);
  const school = await servingSchool(deps, binding.schoolId);
  const card = cardOf(binding);
  const separator = entryId.indexOf(':');
  const [name, key] = [entryId.slice(0, separator), entryId.slice(separator + 1)];
  const source = STATEMENT_SOURCES.find((s) => s.name === name);
  const receipt =
    separator <= 0
      ? null
      : name === 'card'
        ? await vendorReceipt(deps, school, card, key)
        : source
          ? await source.receipt(deps, card, key)
          : null;
  if (!receipt) throw new DomainError('NOT_FOUND', 'No such statement entry', { field: 'params.entryId' });
  return { ...receipt, cardNo: card.cardNo, holderName: card.holderName };
}
