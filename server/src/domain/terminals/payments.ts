import { and, eq, max } from 'drizzle-orm';
import type { TerminalOrderPageView, TerminalPaymentView } from '../../../../shared/api.js';
import { yuanToFen } from '../../../../shared/money.js';
import type { Executor } from '../../db/client.js';
import { terminalPayments } from '../../db/schema.js';
import { ensureRefund } from '../../db/repos/withholding/refunds.js';
import {
  findOrderContext,
  findOrderContextByNo,
  findPaymentByOutTradeNo,
  insertPayment,
  lockOrder,
  paymentsOfOrder,
  paymentsOfUser,
  payOrderIfOpen,
  updateOrder,
  updatePayment,
  type OrderContext,
  type SchoolOfPayment,
  type TerminalPaymentRow,
} from '../../db/repos/terminals/orders.js';
import { listLiveBindings } from '../../db/repos/cards/bindings.js';
import { findUser } from '../../db/repos/users/users.js';
import type { Deps } from '../../deps.js';
import { AlipayError } from '../../integrations/alipay/errors.js';
import { DomainError } from '../errors.js';
import {
  applyNotification,
  checkTradeFacts,
  isPaidStatus,
  type NotificationHandler,
  type NotificationResult,
  type SelfRecordingHandler,
} from '../notify/notifications.js';
import { alipayFailure, requireAlipay } from '../outside-errors.js';
import { notifyUrl } from '../recharge/recharge.js';
import { requireKnownPayer } from '../users/phone.js';
import { CALLBACK_LEASE_MS, sendLeasedCallback, wakeCallbacks } from './callbacks.js';
import { collectingAccount, failedFen, routingOf } from './orders.js';
import { royaltyReturnsFor, wakeTerminalWork } from './refunds.js';

/**
 * The payments of terminal orders (issue #15): the 当面付 QR (`<order no>Q`) and one mini-program payment per
 * person who opened the page (`<order no>M<n>`). The first payment Alipay confirms — by notification or by
 * the sweep's query — pays the order; any other that is paid anyway (a second person, or a payment after the
 * order closed: the goods were not given) is refunded whole (TERMINAL_UNWANTED_PAYMENT).
 */

export interface PaidFacts {
  tradeNo: string;
  buyerId: string | null;
  at: Date;
}

export type PaidOutcome = 'PAID' | 'ALREADY_APPLIED' | 'UNWANTED';

/** Applies one confirmed payment in the caller's transaction; `after` starts the work it caused. */
export async function applyTerminalPayment(
  deps: Deps,
  tx: Executor,
  ctx: OrderContext,
  payment: TerminalPaymentRow,
  facts: PaidFacts,
): Promise<{ outcome: PaidOutcome; after: () => Promise<void> }> {
  const order = await lockOrder(tx, ctx.order.id);
  const [moved] = await tx
    .update(terminalPayments)
    .set({
      status: 'PAID',
      alipayTradeNo: facts.tradeNo,
      buyerId: facts.buyerId,
      paidAt: facts.at,
      updatedAt: facts.at,
    })
    .where(and(eq(terminalPayments.id, payment.id), eq(terminalPayments.status, 'CREATED')))
    .returning();
  if (!moved && payment.status === 'PAID')
    return { outcome: 'ALREADY_APPLIED', after: async () => undefined };
  if (order.status === 'CREATED') {
    await updateOrder(tx, order.id, {
      status: 'PAID',
      paidPaymentId: payment.id,
      paidAt: facts.at,
      ...(ctx.terminal.callbackUrl ? { callbackStatus: 'PENDING' as const, callbackNextAt: facts.at } : {}),
      updatedAt: facts.at,
    });
    // The others still open (the one that paid is PAID by now, or was not CREATED).
    const others = (await paymentsOfOrder(tx, order.id)).filter((p) => p.status === 'CREATED');
    return {
      outcome: 'PAID',
      after: async () => {
        // Stryker disable next-line ConditionalExpression: equivalent (`true`) — waking the callback drainer for a terminal without a callback costs one empty drain; the `false` variant, disabled with it, is killed by the sweep's paid-order test (the machine never told)
        if (ctx.terminal.callbackUrl) wakeCallbacks(deps);
        await closeOtherPayments(deps, ctx.school, others);
      },
    };
  }
  // Paid by someone else first, or closed: this money is not the order's.
  const refund = await ensureRefund(tx, {
    schoolId: order.schoolId,
    kind: 'TERMINAL_UNWANTED_PAYMENT',
    outTradeNo: payment.outTradeNo,
    outRequestNo: `${payment.outTradeNo}U`,
    amountFen: order.amountFen,
    reason: order.status === 'CLOSED' ? 'paid after the order closed' : 'the order was paid another way',
    terminalOrderId: order.id,
    royaltyReturns: royaltyReturnsFor(order, 0, order.amountFen),
    nextAttemptAt: facts.at,
  });
  return {
    outcome: 'UNWANTED',
    after: () => wakeTerminalWork(deps, { refundId: refund.id }),
  };
}

/** The trades nobody will need once the order is paid: closed so they cannot be paid too (best effort). */
async function closeOtherPayments(
  deps: Deps,
  school: SchoolOfPayment,
  others: Array<Pick<TerminalPaymentRow, 'id' | 'channel' | 'outTradeNo'>>,
) {
  if (!deps.alipay) return;
  for (const payment of others) {
    try {
      const appAuthToken = deps.schools.appAuthToken(school);
      if (payment.channel === 'QR')
        await deps.alipay.cancelTrade({ outTradeNo: payment.outTradeNo, appAuthToken });
      else await deps.alipay.closeTrade({ outTradeNo: payment.outTradeNo, appAuthToken });
      await updatePayment(deps.db, payment.id, { status: 'CLOSED', closedAt: deps.clock.now() });
    } catch (error) {
      deps.logger.info('terminal payment left open; Alipay expires it', {
        outTradeNo: payment.outTradeNo,
        error: (error as Error).message,
      });
    }
  }
}

/** What Alipay's notification must say of an order's trade: its amount, and the account it pays into. */
function expectedFacts(ctx: OrderContext) {
  return {
    amountFen: ctx.order.amountFen,
    school: { ...ctx.school, alipaySellerId: collectingAccount(ctx.order, ctx.school) },
  };
}

/** T… trades in a transaction: every case, the rare ones included (repeats, late or second payments). */
const terminalNotificationInTransaction: NotificationHandler = async (
  deps,
  tx,
  form,
): Promise<NotificationResult> => {
  const payment = await findPaymentByOutTradeNo(tx, form.out_trade_no);
  if (!payment) return { outcome: 'REJECTED_UNKNOWN_ORDER' };
  const ctx = await findOrderContext(tx, payment.orderId);
  if (!ctx) return { outcome: 'REJECTED_UNKNOWN_ORDER' };
  const mismatch = checkTradeFacts(form, expectedFacts(ctx));
  if (mismatch) return mismatch;
  if (isPaidStatus(form.trade_status)) {
    const applied = await applyTerminalPayment(deps, tx, ctx, payment, {
      tradeNo: form.trade_no,
      buyerId: form.buyer_open_id ?? form.buyer_id ?? null,
      at: deps.clock.now(),
    });
    return {
      outcome: applied.outcome === 'ALREADY_APPLIED' ? 'ALREADY_APPLIED' : 'APPLIED',
      detail: applied.outcome,
      after: applied.after,
    };
  }
  if (form.trade_status === 'TRADE_CLOSED') {
    await tx
      .update(terminalPayments)
      .set({ status: 'CLOSED', closedAt: deps.clock.now(), updatedAt: deps.clock.now() })
      .where(and(eq(terminalPayments.id, payment.id), eq(terminalPayments.status, 'CREATED')));
    return { outcome: 'APPLIED', detail: 'TRADE_CLOSED' };
  }
  return { outcome: 'IGNORED', detail: form.trade_status };
};

/**
 * The common case in one statement (the hot path of issue #15's benchmark): a payment confirmed while it
 * and its order are both still CREATED, with the facts checkTradeFacts asks for (the statement pays only
 * when they hold), pays the order, recorded in notify_log by the same statement — what applyTerminalPayment's
 * PAID branch does — and the machine is told at once by this process. Undefined for anything else, which
 * the transaction decides (and rejects, when the facts are not the order's).
 */
async function payOpenOrder(
  deps: Deps,
  form: Record<string, string>,
): Promise<NotificationResult | undefined> {
  // Stryker disable next-line BooleanLiteral,ConditionalExpression: equivalent where a variant only skips this shortcut (`true`; `|| form.out_trade_no`; `!form.out_trade_no` → `false`, since a T… form always has one): the transaction then decides the same payment the same way, only slower; the variants that let an unpaid status through (`false`, `!isPaidStatus(…)` → `false`), disabled with them, are killed by the WAIT_BUYER_PAY notification test
  if (!isPaidStatus(form.trade_status) || !form.out_trade_no) return undefined;
  let paidFen: number;
  try {
    // Stryker disable next-line StringLiteral: equivalent — any text that is not an amount is the same MoneyError: the transaction decides (REJECTED_MALFORMED)
    paidFen = yuanToFen(form.total_amount ?? '');
  } catch {
    return undefined;
  }
  const at = deps.clock.now();
  const paid = await payOrderIfOpen(
    deps.db,
    {
      outTradeNo: form.out_trade_no,
      paidFen,
      // Stryker disable next-line LogicalOperator: equivalent (`&&`: no seller) — the statement then finds no open order and the transaction decides the same payment the same way, only slower
      sellerId: form.seller_id ?? null,
      authAppId: form.auth_app_id || null,
      callbackLeaseUntil: new Date(at.getTime() + CALLBACK_LEASE_MS),
    },
    { tradeNo: form.trade_no, buyerId: form.buyer_open_id ?? form.buyer_id ?? null, at },
    { form, isVerified: true, outcome: 'APPLIED', detail: 'PAID', at },
  );
  if (!paid) return undefined;
  return {
    outcome: 'APPLIED',
    detail: 'PAID',
    after: async () => {
      if (paid.callbackUrl)
        sendLeasedCallback(deps, {
          id: paid.order.id,
          order: paid.order,
          callbackUrl: paid.callbackUrl,
          client: paid.client,
          paidWith: paid.paidWith,
        });
      await closeOtherPayments(deps, paid.school, paid.others);
    },
  };
}

/**
 * T… trades: terminal payments, from Alipay's notification (DESIGN §6.3). Records its own notify_log entry:
 * in payOpenOrder's statement, or in the transaction that decides every other case.
 */
export const terminalNotification: SelfRecordingHandler = {
  selfRecording: true,
  async apply(deps, form) {
    return (
      (await payOpenOrder(deps, form)) ?? applyNotification(deps, terminalNotificationInTransaction, form)
    );
  },
};

/**
 * The mini-program page pays an order (seed 002 §1): one JSAPI trade per person per order, with the
 * terminal_id and the order's money routing, expiring with the order; the page hands tradeNo to my.tradePay.
 */
export async function payTerminalOrderInApp(
  deps: Deps,
  userId: string,
  orderNo: string,
): Promise<{ orderNo: string; tradeNo: string }> {
  const alipay = requireAlipay(deps);
  const ctx = await findOrderContextByNo(deps.db, orderNo);
  if (!ctx) throw new DomainError('TERMINAL_ORDER_NOT_FOUND');
  const { order, school } = ctx;
  if (order.status !== 'CREATED' || order.expiresAt <= deps.clock.now())
    throw new DomainError('ORDER_NOT_PAYABLE');
  const user = await findUser(deps.db, userId);
  if (!user) throw new DomainError('UNAUTHENTICATED');
  await requireKnownPayer(deps, user, school);
  const payment = await deps.db.transaction(async (tx) => {
    await lockOrder(tx, order.id);
    const [mine] = await tx
      .select()
      .from(terminalPayments)
      .where(
        and(
          eq(terminalPayments.orderId, order.id),
          eq(terminalPayments.userId, userId),
          eq(terminalPayments.channel, 'MINIAPP'),
        ),
      );
    if (mine) return mine;
    const [{ last }] = await tx
      .select({ last: max(terminalPayments.seq) })
      .from(terminalPayments)
      .where(eq(terminalPayments.orderId, order.id));
    const seq = (last ?? 0) + 1;
    // The payment shows on the payer's own card statement at this school (their first live binding, their
    // own card before a child's).
    const cards = (await listLiveBindings(tx, userId)).filter((b) => b.schoolId === school.id);
    const card = cards.find((b) => b.relation === 'SELF') ?? cards[0];
    return insertPayment(tx, {
      orderId: order.id,
      schoolId: school.id,
      channel: 'MINIAPP',
      seq,
      outTradeNo: `${order.orderNo}M${seq}`,
      userId,
      cardNo: card?.cardNo ?? null,
    });
  });
  if (payment.status !== 'CREATED') throw new DomainError('ORDER_NOT_PAYABLE');
  if (payment.alipayTradeNo) return { orderNo, tradeNo: payment.alipayTradeNo };
  try {
    const { tradeNo } = await alipay.createTrade({
      outTradeNo: payment.outTradeNo,
      amountFen: order.amountFen,
      subject: order.subject,
      payer: { openId: user.alipayOpenId, userId: user.alipayUserId },
      notifyUrl: notifyUrl(deps),
      appAuthToken: deps.schools.appAuthToken(school),
      expiresAt: order.expiresAt,
      terminalId: order.terminalId,
      routing: routingOf(order),
    });
    await updatePayment(deps.db, payment.id, { alipayTradeNo: tradeNo, updatedAt: deps.clock.now() });
    return { orderNo, tradeNo };
  } catch (error) {
    if (error instanceof AlipayError && error.kind === 'final')
      await updatePayment(deps.db, payment.id, { status: 'CLOSED', closedAt: deps.clock.now() });
    throw alipayFailure(error);
  }
}

/** What the payment page shows for an order (any signed-in person may open it: the QR is on the machine). */
export async function terminalOrderPage(
  deps: Deps,
  userId: string,
  orderNo: string,
): Promise<TerminalOrderPageView> {
  const ctx = await findOrderContextByNo(deps.db, orderNo);
  if (!ctx) throw new DomainError('TERMINAL_ORDER_NOT_FOUND');
  const { order, terminal, school } = ctx;
  const payments = await paymentsOfOrder(deps.db, order.id);
  // Stryker disable next-line ConditionalExpression: equivalent (`p.status === 'PAID'` → `true`) — the payment that paid the order (checked below) is PAID; the `false` variant, disabled with it, is killed by the page test
  const mine = payments.find((p) => p.userId === userId && p.status === 'PAID');
  const expired = order.expiresAt <= deps.clock.now();
  const state =
    mine && order.paidPaymentId === mine.id
      ? 'PAID_BY_ME'
      : order.status === 'PAID'
        ? 'PAID'
        : order.status === 'CLOSED' || expired
          ? 'CLOSED'
          : 'PAYABLE';
  return {
    orderNo: order.orderNo,
    schoolName: school.name,
    terminal: { name: terminal.name, location: terminal.location, kind: terminal.kind },
    items: order.items as TerminalOrderPageView['items'],
    amountFen: order.amountFen,
    state,
    expiresAt: order.expiresAt.toISOString(),
  };
}

/** The person's paid terminal orders (the mini-program's "售货机/窗口消费" list). */
export async function myTerminalPayments(deps: Deps, userId: string): Promise<TerminalPaymentView[]> {
  const rows = await paymentsOfUser(deps.db, userId, 50);
  return rows.map(({ payment, order, terminal }) => ({
    orderNo: order.orderNo,
    terminalName: terminal.name,
    location: terminal.location,
    amountFen: order.amountFen,
    paidAt: payment.paidAt!.toISOString(),
    refundedFen: order.paidPaymentId === payment.id ? failedFen(order) : order.amountFen,
  }));
}
