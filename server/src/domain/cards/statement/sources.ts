import type { ReceiptView, StatementEntry } from '../../../../../shared/api.js';
import type { Deps } from '../../../deps.js';

/**
 * A card's statement is the card system's records merged with every kind of record we keep about the card.
 * Each kind is one StatementSource: it lists its entries of one card in a time window and opens the receipt
 * of one of them. To add a record kind (terminal orders, issue #15; anything later), write one source in the
 * capability's own folder — `domain/<capability>/statement-source.ts`, like domain/recharge/statement-source.ts
 * — and add it to STATEMENT_SOURCES in registry.ts; give its kind a label and its states a label table in
 * shared/format.ts (STATEMENT_KIND_LABELS_ZH, statementStatusLabel). Nothing else changes: the merge, the
 * paging and the receipt route are generic (statement.ts).
 *
 * An entry whose money the card system also recorded (a recharge credited with our order number as its flow
 * number, a POS swipe with its txnNo) names those numbers in `references`: the two become one row, ours, with
 * the card system's balance and place.
 */

/** The card a statement is about: one school's card number, whoever looks at it. */
export interface StatementCard {
  schoolId: string;
  cardNo: string;
  holderName: string;
  /** The card system's student number (campus-code payments are matched by it). */
  studentNo: string | null;
}

export interface StatementWindow {
  from: Date;
  to: Date;
}

export interface SourcedEntry extends StatementEntry {
  /** Numbers the card system's record of the same money carries as its RefNo. */
  references?: string[];
}

/** A receipt without the card's own fields, which statement.ts fills in. */
export type SourcedReceipt = Omit<ReceiptView, 'cardNo' | 'holderName'>;

export interface StatementSource {
  /** The prefix of its entry ids (`<name>:<key>`), unique among the sources. */
  readonly name: string;
  /** Its records of the card whose time lies in the window (both ends inclusive). */
  entries(deps: Deps, card: StatementCard, window: StatementWindow): Promise<SourcedEntry[]>;
  /** The receipt of one of its records, by the key after the prefix; null when it is not this card's. */
  receipt(deps: Deps, card: StatementCard, key: string): Promise<SourcedReceipt | null>;
}

/** Sorting and merging compare instants as ISO strings, newest first. */
export function newestFirst(a: { occurredAt: string }, b: { occurredAt: string }): number {
  return a.occurredAt < b.occurredAt ? 1 : a.occurredAt > b.occurredAt ? -1 : 0;
}

/** A timeline step, skipped when the record never reached it. */
export function step(event: string, at: Date | null | undefined, detail: string | null = null) {
  return at ? [{ at: at.toISOString(), event, detail }] : [];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Keys that are our row ids: anything else is not a record of ours (and never reaches a uuid column). */
export function isUuid(key: string): boolean {
  return UUID.test(key);
}
