import { yuanToFen, MoneyError } from '../../../../shared/money.js';
import type { Executor } from '../../db/client.js';
import { recordNotification, type NotifyOutcome } from '../../db/repos/notify/notify-log.js';
import { findRechargeToNotify, markPaidNotified } from '../../db/repos/recharge/payment-batches.js';
import { markClosedIfCreated, signalRechargesPaid } from '../../db/repos/recharge/recharges.js';
import type { SchoolRow } from '../../db/repos/schools/schools.js';
import type { Deps } from '../../deps.js';
import { notifications } from '../../lib/metrics.js';

/**
 * Alipay's asynchronous notifications (DESIGN §6.3, ALIPAY.md §3): verify the signature with the SDK,
 * check app, order, amount and seller, apply the state change idempotently, and acknowledge with
 * `success` only once the change (and the notify_log entry) is committed. Anything else answers `fail`,
 * so Alipay sends it again.
 */

export type Acknowledgement = 'success' | 'fail';

export interface NotificationResult {
  outcome: NotifyOutcome;
  detail?: string;
  /** Work to start after the commit (wake-ups for jobs). */
  after?: () => Promise<void>;
}

/** Applies one verified notification inside the caller's transaction. */
export type NotificationHandler = (
  deps: Deps,
  tx: Executor,
  form: Record<string, string>,
) => Promise<NotificationResult>;

/** Applies one verified notification and records it in notify_log itself, atomically with the change. */
export interface SelfRecordingHandler {
  selfRecording: true;
  apply(deps: Deps, form: Record<string, string>): Promise<NotificationResult>;
}

type AnyHandler = NotificationHandler | SelfRecordingHandler;

const ACKNOWLEDGED: ReadonlySet<NotifyOutcome> = new Set(['APPLIED', 'ALREADY_APPLIED', 'IGNORED']);

export interface NotificationHandlers {
  /** Trade notifications, by the order-number prefix of out_trade_no (lib/ids.ts). */
  trade: Record<string, AnyHandler>;
  /** dut_user_sign / dut_user_unsign. */
  agreement?: AnyHandler;
  /** Other classic notifications, by notify_type (e.g. open_app_auth_notify). */
  notifyTypes?: Record<string, AnyHandler>;
  /** Message-style notifications, by msg_method (ALIPAY-M2.md §0), e.g. alipay.open.auth.appauth.cancelled. */
  messages?: Record<string, AnyHandler>;
}

function handlerFor(handlers: NotificationHandlers, form: Record<string, string>): AnyHandler | undefined {
  if (form.notify_type === 'trade_status_sync')
    return form.out_trade_no ? handlers.trade[form.out_trade_no.charAt(0)] : undefined;
  if (form.notify_type === 'dut_user_sign' || form.notify_type === 'dut_user_unsign')
    return handlers.agreement;
  if (form.msg_method) return handlers.messages?.[form.msg_method];
  // Stryker disable next-line ConditionalExpression: equivalent (`true`) — a form without notify_type that gets here finds `notifyTypes[undefined]`, no handler, as the fall-through below; the `false` variant, disabled with it, is killed by the routing test (open_app_auth_notify)
  if (form.notify_type) return handlers.notifyTypes?.[form.notify_type];
  return undefined;
}

export async function handleAlipayNotification(
  deps: Deps,
  form: Record<string, string>,
  handlers: NotificationHandlers,
): Promise<Acknowledgement> {
  const log = (isVerified: boolean, outcome: NotifyOutcome, detail?: string) => {
    notifications.inc({ verified: String(isVerified), outcome });
    return recordNotification(deps.db, { form, isVerified, outcome, detail, at: deps.clock.now() });
  };

  if (!deps.alipay || !deps.alipay.verifyNotification(form)) {
    deps.logger.warn('notification with a bad signature', {
      notifyId: form.notify_id,
      outTradeNo: form.out_trade_no,
    });
    await log(false, 'REJECTED_SIGNATURE');
    return 'fail';
  }
  if (form.app_id !== deps.alipay.appId) {
    await log(true, 'REJECTED_APP', `app_id ${form.app_id}`);
    return 'fail';
  }
  const handler = handlerFor(handlers, form);
  if (!handler) {
    await log(true, 'IGNORED', `no handler for ${form.msg_method ?? form.notify_type}`);
    return 'success';
  }
  let result: NotificationResult;
  try {
    result = await applyNotification(deps, handler, form);
  } catch (error) {
    deps.logger.error('applying a notification failed', { notifyId: form.notify_id, error });
    await log(true, 'FAILED', (error as Error).message).catch(() => undefined);
    return 'fail';
  }
  notifications.inc({ verified: 'true', outcome: result.outcome });
  // Stryker disable next-line ConditionalExpression,EqualityOperator,LogicalOperator,BlockStatement: equivalent — this only chooses whether to log at info; what was done is already in notify_log
  if (result.outcome !== 'APPLIED' && result.outcome !== 'ALREADY_APPLIED') {
    deps.logger.info('notification not applied', {
      notifyId: form.notify_id,
      outcome: result.outcome,
      detail: result.detail,
    });
  }
  await result.after?.();
  return ACKNOWLEDGED.has(result.outcome) ? 'success' : 'fail';
}

/** The change and its notify_log entry commit together, so `success` always means "recorded and applied". */
export function applyNotification(
  deps: Deps,
  handler: AnyHandler,
  form: Record<string, string>,
): Promise<NotificationResult> {
  if ('selfRecording' in handler) return handler.apply(deps, form);
  return deps.db.transaction(async (tx) => {
    const applied = await handler(deps, tx, form);
    await recordNotification(tx, {
      form,
      isVerified: true,
      outcome: applied.outcome,
      detail: applied.detail,
      at: deps.clock.now(),
    });
    return applied;
  });
}

/**
 * Same amount, seller and merchant app as the order's school (ALIPAY.md §3.3). Terminal payments' one-statement
 * path checks the same facts in SQL (repos/terminals/orders.ts payOrderIfOpen): a rule added here needs its
 * condition there.
 */
export function checkTradeFacts(
  form: Record<string, string>,
  expected: { amountFen: number; school: Pick<SchoolRow, 'alipaySellerId' | 'alipayAuthAppId'> },
): NotificationResult | undefined {
  let paidFen: number;
  try {
    // Stryker disable next-line StringLiteral: equivalent — any text that is not an amount ('' or another) is the same MoneyError, and the detail shows the field as received
    paidFen = yuanToFen(form.total_amount ?? '');
  } catch (error) {
    // Stryker disable next-line ConditionalExpression: equivalent — yuanToFen given a string throws nothing but MoneyError (shared/money.ts), so the rethrow below only guards a future change of it
    if (error instanceof MoneyError)
      return { outcome: 'REJECTED_MALFORMED', detail: `total_amount ${form.total_amount}` };
    throw error;
  }
  if (paidFen !== expected.amountFen)
    return { outcome: 'REJECTED_AMOUNT', detail: `paid ${paidFen} fen, order ${expected.amountFen} fen` };
  const { school } = expected;
  if (school.alipaySellerId && form.seller_id !== school.alipaySellerId) {
    return { outcome: 'REJECTED_SELLER', detail: `seller_id ${form.seller_id}` };
  }
  if (school.alipayAuthAppId && form.auth_app_id && form.auth_app_id !== school.alipayAuthAppId) {
    return { outcome: 'REJECTED_APP', detail: `auth_app_id ${form.auth_app_id}` };
  }
  return undefined;
}

export function isPaidStatus(status: string | undefined): boolean {
  return status === 'TRADE_SUCCESS' || status === 'TRADE_FINISHED';
}

/**
 * R… orders: recharges. The hot path of a payment (DESIGN §7.3) applies and records the notification in
 * one statement, shared with the notifications that arrive with it (repos/recharge/payment-batches.ts), so
 * this handler records its own notify_log entries and needs no surrounding transaction.
 */
export const rechargeNotification: SelfRecordingHandler = {
  selfRecording: true,
  async apply(deps, form) {
    const now = deps.clock.now();
    const record = async (db: Executor, result: NotificationResult): Promise<NotificationResult> => {
      await recordNotification(db, {
        form,
        isVerified: true,
        outcome: result.outcome,
        detail: result.detail,
        at: now,
      });
      return result;
    };
    const reject = (result: NotificationResult) => record(deps.db, result);
    const found = await findRechargeToNotify(deps.pool, form.out_trade_no);
    if (!found) return reject({ outcome: 'REJECTED_UNKNOWN_ORDER' });
    const { order, school } = found;
    const mismatch = checkTradeFacts(form, { amountFen: order.amountFen, school });
    if (mismatch) return reject(mismatch);
    if (isPaidStatus(form.trade_status)) {
      const moved = await markPaidNotified(deps.pool, {
        outTradeNo: order.outTradeNo,
        tradeNo: form.trade_no,
        buyerId: form.buyer_open_id ?? form.buyer_id ?? null,
        at: now,
        form,
        detail: 'PAID',
      });
      // Stryker disable next-line ConditionalExpression: equivalent — waking the crediting drainer when nothing moved costs one empty drain, no money
      if (moved) signalRechargesPaid(deps.pool);
      // notify_log already holds this outcome (markPaidNotified decides it in the same statement).
      return { outcome: moved ? 'APPLIED' : 'ALREADY_APPLIED' };
    }
    if (form.trade_status === 'TRADE_CLOSED') {
      return deps.db.transaction(async (tx) => {
        const closed = await markClosedIfCreated(tx, order.id, now, 'TRADE_CLOSED');
        return record(tx, { outcome: closed ? 'APPLIED' : 'IGNORED', detail: 'TRADE_CLOSED' });
      });
    }
    return reject({ outcome: 'IGNORED', detail: form.trade_status });
  },
};
