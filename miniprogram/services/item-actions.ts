/**
 * Acting on an item from an admin page (the exceptions inbox, a reconciliation day's findings): an action
 * that moves money is confirmed in a dialog first; one the audit log keeps a reason for (waive, mark handled)
 * opens an input under its item instead (`reasonFor`, the reason-prompt component), and runs once the reason
 * is 2–200 characters. One action at a time (`busyKey`, the item's key); the server makes each idempotent
 * (a second tap answers "already done"), and the page reads its data again after each. A page takes all of
 * it with `itemActionHandlers`.
 */
import type { InboxActionResponse } from '../shared/admin-api';
import { messageOf } from './api-error';
import { datasetValue, type TapEvent } from './events';
import { confirm, toast } from './jsapi';

/** A waive or mark-handled reason as the server takes it (2–200 characters). */
export function reasonError(reason: string): string {
  const length = Array.from(reason.trim()).length;
  return length < 2 || length > 200 ? '请写明原因（2–200 个字）' : '';
}

/** An action an item offers. */
export interface ItemAction {
  name: string;
  label: string;
  needsReason: boolean;
}

/** The action waiting for its reason, under the item `key`. */
export interface PendingReason {
  key: string;
  action: string;
  label: string;
}

/** A page instance (a Page's `this`) with the prompt's data. */
export interface ActionPageInstance {
  data: Record<string, unknown> & { busyKey: string; reasonFor: PendingReason | null; reason: string };
  setData(patch: Record<string, unknown>): void;
  load(): Promise<void>;
}

/**
 * Whether to run a tapped action now: one that needs a reason opens the input under its item instead
 * (false); any other is asked in a dialog saying `content`.
 */
export async function confirmAction(
  page: ActionPageInstance,
  key: string,
  action: ItemAction,
  content: string,
): Promise<boolean> {
  if (action.needsReason) {
    const reasonFor: PendingReason = { key, action: action.name, label: action.label };
    page.setData({ reasonFor, reason: '', reasonError: '' });
    return false;
  }
  return confirm({ title: action.label, content, confirmButtonText: action.label });
}

/** The reason input's handlers, for the Page. */
export const reasonInputHandlers = {
  onReasonInput(this: ActionPageInstance, value: string): void {
    this.setData({ reason: value, reasonError: '' });
  },

  onReasonCancel(this: ActionPageInstance): void {
    this.setData({ reasonFor: null, reason: '', reasonError: '' });
  },
};

/**
 * The action waiting for its reason, its row (looked up in `rows`) and the typed reason, trimmed; null when
 * nothing waits, or when the reason is too short or too long (then `reasonError` says why).
 */
export function reasonedAction<Row extends { key: string }>(
  page: ActionPageInstance,
  rows: Row[],
): { row: Row; action: string; reason: string } | null {
  const pending = page.data.reasonFor;
  const row = pending && rows.find((r) => r.key === pending.key);
  if (!pending || !row) return null;
  const error = reasonError(page.data.reason);
  if (error) {
    page.setData({ reasonError: error });
    return null;
  }
  return { row, action: pending.action, reason: page.data.reason.trim() };
}

/**
 * Runs one action on the item `key` unless another is running, tells how it went (`doneText` of the
 * server's answer, or why it failed), closes the reason input once it went through, and reloads the page.
 */
export async function runAction(
  page: ActionPageInstance,
  key: string,
  act: () => Promise<InboxActionResponse>,
  doneText: (result: InboxActionResponse) => string,
): Promise<void> {
  if (page.data.busyKey) return;
  page.setData({ busyKey: key });
  try {
    const result = await act();
    toast(doneText(result), result.changed ? 'success' : 'none');
    page.setData({ reasonFor: null, reason: '' });
  } catch (error) {
    toast(messageOf(error), 'fail');
  } finally {
    page.setData({ busyKey: '' });
  }
  await page.load();
}

/** What a page's list of items with actions is made of. */
export interface ItemActionsSpec<Row extends { key: string }> {
  /** The data key of the page's rows. */
  rowsKey: string;
  actionsOf(row: Row): readonly ItemAction[];
  /** What the dialog says before an action without reason. */
  confirmText(row: Row, action: ItemAction): string;
  /** Runs the action on the server. */
  act(page: ActionPageInstance, row: Row, action: string, reason?: string): Promise<InboxActionResponse>;
  /** The toast once it went through. */
  doneText(result: InboxActionResponse, action: string): string;
}

/**
 * The Page handlers of a list whose items offer actions: `onAction` (a button with `data-key` and
 * `data-action`) and the reason prompt's `onReasonInput`, `onReasonCancel` and `onReasonConfirm`.
 */
export function itemActionHandlers<Row extends { key: string }>(spec: ItemActionsSpec<Row>) {
  const rowsOf = (page: ActionPageInstance) => (page.data[spec.rowsKey] ?? []) as Row[];
  const run = (page: ActionPageInstance, row: Row, action: string, reason?: string) =>
    runAction(
      page,
      row.key,
      () => spec.act(page, row, action, reason),
      (result) => spec.doneText(result, action),
    );
  return {
    async onAction(this: ActionPageInstance, event: TapEvent): Promise<void> {
      const row = rowsOf(this).find((r) => r.key === datasetValue(event, 'key'));
      const action = row && spec.actionsOf(row).find((a) => a.name === datasetValue(event, 'action'));
      if (!row || !action || this.data.busyKey) return;
      if (await confirmAction(this, row.key, action, spec.confirmText(row, action)))
        await run(this, row, action.name);
    },

    ...reasonInputHandlers,

    async onReasonConfirm(this: ActionPageInstance): Promise<void> {
      const answered = reasonedAction(this, rowsOf(this));
      if (answered) await run(this, answered.row, answered.action, answered.reason);
    },
  };
}
