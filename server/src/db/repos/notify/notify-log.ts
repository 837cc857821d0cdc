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

/** Every Alipay notification as received, verified or not, and what was done with it (DESIGN §5). */
export async function recordNotification(
  db: Executor,
  entry: {
    form: Record<string, string>;
    isVerified: boolean;
    outcome: NotifyOutcome;
    detail?: string;
    at: Date;
  },
): Promise<void> {
  await db.insert(notifyLog).values({
    receivedAt: entry.at,
    notifyType: entry.form.notify_type ?? null,
    notifyId: entry.form.notify_id ?? null,
    outTradeNo: entry.form.out_trade_no ?? entry.form.external_agreement_no ?? null,
    appId: entry.form.app_id ?? null,
    isVerified: entry.isVerified,
    outcome: entry.outcome,
    detail: entry.detail ?? null,
    body: entry.form,
  });
}
