import { sql, type SQL } from 'drizzle-orm';
import type { Executor } from '../../client.js';
import { notifyLog } from '../../schema.js';

export type NotifyOutcome =
  | 'APPLIED'
  | 'ALREADY_APPLIED'
  | 'IGNORED'
  | 'REJECTED_SIGNATURE'
  | 'REJECTED_APP'
  | 'REJECTED_UNKNOWN_ORDER'
  | 'REJECTED_AMOUNT'
  | 'REJECTED_SELLER'
  | 'REJECTED_MALFORMED'
  | 'FAILED';

/** The fields kept of a notification whose signature did not verify: enough to investigate, bounded. */
const UNVERIFIED_FIELDS = [
  'notify_type',
  'notify_id',
  'out_trade_no',
  'trade_status',
  'total_amount',
  'app_id',
];
const UNVERIFIED_VALUE_CHARS = 64;

/**
 * PostgreSQL text and jsonb cannot hold NUL; a forged form may carry one. What is stored is evidence, not
 * the thing itself, so a NUL becomes U+FFFD.
 */
function storable(value: string): string {
  return value.includes('\u0000') ? value.replaceAll('\u0000', '\uFFFD') : value;
}

/**
 * What notify_log keeps of a form. Verified notifications are kept whole (they are Alipay's word). For
 * unverified ones, which anyone can send, only a summary: a few known fields cut short, and the size of
 * the rest, so that a flood of forgeries cannot grow the table by more than a few hundred bytes a row.
 */
export function bodyToStore(form: Record<string, string>, isVerified: boolean): Record<string, unknown> {
  if (isVerified)
    return Object.fromEntries(Object.entries(form).map(([key, value]) => [storable(key), storable(value)]));
  const summary: Record<string, unknown> = {};
  for (const field of UNVERIFIED_FIELDS)
    if (typeof form[field] === 'string')
      summary[field] = storable(form[field].slice(0, UNVERIFIED_VALUE_CHARS));
  summary._fields = Object.keys(form).length;
  summary._chars = Object.entries(form).reduce((sum, [key, value]) => sum + key.length + value.length, 0);
  return summary;
}

function column(value: string | undefined, isVerified: boolean): string | null {
  if (value === undefined) return null;
  return storable(isVerified ? value : value.slice(0, UNVERIFIED_VALUE_CHARS));
}

export interface NotificationEntry {
  form: Record<string, string>;
  isVerified: boolean;
  outcome: NotifyOutcome;
  detail?: string;
  at: Date;
}

/** notify_log's columns for an entry, but its body. */
function columnsOf(entry: NotificationEntry) {
  const { form, isVerified } = entry;
  return {
    receivedAt: entry.at,
    // Message-style notifications (ALIPAY-M2.md §0) say what they are in msg_method.
    notifyType: column(form.notify_type ?? form.msg_method, isVerified),
    notifyId: column(form.notify_id, isVerified),
    outTradeNo: column(form.out_trade_no ?? form.external_agreement_no, isVerified),
    appId: column(form.app_id, isVerified),
    isVerified,
    outcome: entry.outcome,
    detail: entry.detail === undefined ? null : storable(entry.detail.slice(0, 500)),
  };
}

function rowOf(entry: NotificationEntry) {
  return { ...columnsOf(entry), body: bodyToStore(entry.form, entry.isVerified) };
}

/**
 * bodyToStore's JSON text. A verified form without a NUL is stored as it is, so its own JSON is the same text
 * (the same own keys in the same order, each value as it is) without building the copy (the paid
 * notification's hot path).
 */
function bodyJson(form: Record<string, string>, isVerified: boolean): string {
  const isAsItIs =
    isVerified && Object.keys(form).every((key) => !key.includes('\u0000') && !form[key].includes('\u0000'));
  return JSON.stringify(isAsItIs ? form : bodyToStore(form, isVerified));
}

/** Every Alipay notification as received, verified or not, and what was done with it (DESIGN §5). */
export async function recordNotification(db: Executor, entry: NotificationEntry): Promise<void> {
  await db.insert(notifyLog).values(rowOf(entry));
}

/**
 * An entry's insert as a statement to put in a WITH clause of a prepared statement, written only if
 * `condition` holds: for a notification applied and recorded in one statement (repos/terminals/orders.ts).
 * Its values are placeholders, filled by `notificationValues(entry)`.
 */
export function recordNotificationIf(condition: SQL): SQL {
  const value = (name: keyof ReturnType<typeof rowOf>) => sql.placeholder(`log_${name}`);
  return sql`
    insert into notify_log (received_at, notify_type, notify_id, out_trade_no, app_id, is_verified, outcome, detail, body)
    select ${value('receivedAt')}::timestamptz, ${value('notifyType')}::text, ${value('notifyId')}::text,
           ${value('outTradeNo')}::text, ${value('appId')}::text, ${value('isVerified')}::boolean,
           ${value('outcome')}::text, ${value('detail')}::text, ${value('body')}::jsonb
     where ${condition}`;
}

/** The placeholder values of recordNotificationIf for one entry. */
export function notificationValues(entry: NotificationEntry): Record<string, unknown> {
  const values: Record<string, unknown> = { log_body: bodyJson(entry.form, entry.isVerified) };
  for (const [name, value] of Object.entries(columnsOf(entry))) values[`log_${name}`] = value;
  return values;
}
