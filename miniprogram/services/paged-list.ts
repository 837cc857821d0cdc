/**
 * The admin pages' paged lists (audit log, campus-code exceptions, terminal orders, the exceptions inbox,
 * orders search): the first page under the page's loading / empty / error states, the next one on
 * reach-bottom by the cursor the server answered (one request at a time, only while there is a next page),
 * and pull-to-refresh. Each page keeps its own requests and data keys; the sequence lives here once, so the
 * lists behave alike.
 */
import { messageOf } from './api-error';
import { stopPullDownRefresh, toast } from './jsapi';

/** A page instance (a Page's `this`) as these helpers use it. */
export interface ListPageInstance {
  data: Record<string, unknown>;
  setData(patch: Record<string, unknown>): void;
}

type CursorKey = 'nextBefore' | 'nextCursor';

/** One page of a list as the admin API answers it: the items and the following page's cursor (null: the end). */
export type ListAnswer<Item, Key extends CursorKey, Cursor> = { items: Item[] } & {
  [K in Key]: Cursor | null;
};

export interface PagedListShape<Key extends CursorKey> {
  /** The data key of the rows on screen (the audit log keeps `entries`). */
  rowsKey: string;
  /** The cursor's name, the same in the API answer and in the page's data. */
  cursorKey: Key;
  /** Whether the page also keeps `hasMore` beside the cursor (its template's "nothing older" line). */
  tracksHasMore: boolean;
  /** How a failed next page is told: the page's error state, or a toast over the rows already shown. */
  nextPageFailure: 'error-state' | 'toast';
}

export class PagedList<Key extends CursorKey> {
  constructor(private readonly shape: PagedListShape<Key>) {}

  /** The data a first page sets: its rows, whether there are none, the cursor (and `hasMore`). */
  firstPage<Item, Row, Cursor>(
    answer: ListAnswer<Item, Key, Cursor>,
    toRow: (item: Item) => Row,
  ): Record<string, unknown> {
    const rows = answer.items.map(toRow);
    return { [this.shape.rowsKey]: rows, isEmpty: rows.length === 0, ...this.cursorData(answer) };
  }

  /**
   * Loads what the page shows (its first page and whatever comes with it, as one setData patch): `loading`
   * while it loads (`spinner: false` keeps the rows on screen during a reload), then the patch, or
   * `errorMessage` with the sentence for the failure.
   */
  async load(
    page: ListPageInstance,
    read: () => Promise<Record<string, unknown>>,
    { spinner = true }: { spinner?: boolean } = {},
  ): Promise<void> {
    page.setData({ loading: spinner, errorMessage: '' });
    try {
      const patch = await read();
      page.setData({ loading: false, ...patch });
    } catch (error) {
      page.setData({ loading: false, errorMessage: messageOf(error) });
    }
  }

  /** Appends the page after the cursor on screen, unless one is loading already or there is none. */
  async loadNext<Item, Row, Cursor>(
    page: ListPageInstance,
    read: (cursor: Cursor) => Promise<ListAnswer<Item, Key, Cursor>>,
    toRow: (item: Item) => Row,
  ): Promise<void> {
    const { rowsKey, cursorKey } = this.shape;
    const cursor = page.data[cursorKey] as Cursor | null;
    if (page.data.loadingMore || cursor === null) return;
    page.setData({ loadingMore: true });
    try {
      const answer = await read(cursor);
      const shown = page.data[rowsKey] as unknown[];
      page.setData({ [rowsKey]: [...shown, ...answer.items.map(toRow)], ...this.cursorData(answer) });
    } catch (error) {
      if (this.shape.nextPageFailure === 'toast') toast(messageOf(error));
      else page.setData({ errorMessage: messageOf(error) });
    } finally {
      page.setData({ loadingMore: false });
    }
  }

  private cursorData(answer: { [K in Key]: unknown }): Record<string, unknown> {
    const next = answer[this.shape.cursorKey];
    return this.shape.tracksHasMore
      ? { [this.shape.cursorKey]: next, hasMore: next !== null }
      : { [this.shape.cursorKey]: next };
  }
}

/** Pull-to-refresh: reloads, then lets the pull-down indicator go whatever the outcome. */
export async function pullToRefresh(reload: () => Promise<void>): Promise<void> {
  try {
    await reload();
  } finally {
    stopPullDownRefresh();
  }
}
