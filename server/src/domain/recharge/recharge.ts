import type { CreateRechargeRequest } from '../../../../shared/api.js';
import { findBinding } from '../../db/repos/cards/bindings.js';
import { findUser } from '../../db/repos/users/users.js';
import {
  findRecharge,
  insertRecharge,
  markClosedIfCreated,
  markPaidIfUnpaid,
  openRechargesOf,
  signalRechargesPaid,
  recordCreditFailure,
  setTradeNo,
  type RechargeRow,
} from '../../db/repos/recharge/recharges.js';
import { markCredited } from '../../db/repos/recharge/credit-batches.js';
import { findSchool, type SchoolRow } from '../../db/repos/schools/schools.js';
import type { Deps } from '../../deps.js';
import { AlipayError } from '../../integrations/alipay/errors.js';
import { CardSystemError } from '../../integrations/cardsys/index.js';
import { newOrderNo } from '../../lib/ids.js';
import { activeSchool, usableBinding } from '../cards/bindings.js';
import { DomainError } from '../errors.js';
import { rechargeCreditedMessage } from '../messages/events.js';
import { templateOf, wakeMessageSender } from '../messages/outbox.js';
import { alipayFailure, requireAlipay } from '../outside-errors.js';
import { wakeWalletSync } from '../membercard/wallet-sync.js';

/**
 * Recharge (DESIGN §7.3, seed 000 §1.2): CREATED → PAID (notify or sweep) → CREDITED (job
 * `recharge.credit`, vendor Recharge with our order number as the flow number, so a retry never credits
 * twice). Card-system failures retry with backoff, then CREDIT_FAILED for the school's admins.
 * Unpaid orders are asked about after a few minutes and CLOSED once Alipay has closed them.
 * A payment that commits wakes the crediting drainers (RECHARGE_PAID_CHANNEL), so crediting starts at once.
 */

export const CREDIT_JOB = 'recharge.credit';
/** Unpaid, unexpired recharge orders one user may have at once. */
export const MAX_OPEN_RECHARGES = 5;

/** 429 until the first open item expires: a limit on things left open rather than on a rate. */
export function tooManyOpen(limit: string, firstExpiry: Date | null, now: Date): DomainError {
  const retryAfterSeconds = Math.max(
    1,
    Math.ceil(((firstExpiry?.getTime() ?? now.getTime()) - now.getTime()) / 1000),
  );
  return new DomainError(
    'RATE_LIMITED',
    `Too many unfinished payments; finish one or try again in ${retryAfterSeconds} s`,
    {
      details: { limit, retryAfterSeconds },
    },
  );
}

export function notifyUrl(deps: Pick<Deps, 'config'>): string {
  return `${deps.config.publicBaseUrl}/notify/alipay`;
}

export async function createRecharge(
  deps: Deps,
  userId: string,
  input: CreateRechargeRequest,
): Promise<RechargeRow> {
  const alipay = requireAlipay(deps);
  const binding = await usableBinding(deps, userId, input.bindingId);
  if (binding.status !== 'ACTIVE') {
    throw new DomainError('BINDING_NOT_ACTIVE', 'Only an active card can be recharged', {
      field: 'body.bindingId',
    });
  }
  const school = await activeSchool(deps, binding.schoolId);
  if (input.amountFen < school.rechargeMinFen || input.amountFen > school.rechargeMaxFen) {
    throw new DomainError(
      'AMOUNT_OUT_OF_RANGE',
      `amountFen must be between ${school.rechargeMinFen} and ${school.rechargeMaxFen}`,
      { field: 'body.amountFen', details: { minFen: school.rechargeMinFen, maxFen: school.rechargeMaxFen } },
    );
  }
  const user = await findUser(deps.db, userId);
  if (!user) throw new DomainError('UNAUTHENTICATED');
  const now = deps.clock.now();
  // Each order is a trade at Alipay and a row here: a user pays one or two at a time, not dozens.
  const open = await openRechargesOf(deps.db, userId, now);
  if (open.count >= MAX_OPEN_RECHARGES) throw tooManyOpen('open-recharges', open.firstExpiry, now);
  const order = await insertRecharge(deps.db, {
    outTradeNo: newOrderNo('recharge', deps.clock),
    schoolId: school.id,
    userId,
    bindingId: binding.id,
    cardNo: binding.cardNo,
    amountFen: input.amountFen,
    expiresAt: new Date(now.getTime() + deps.config.recharge.timeoutMinutes * 60_000),
    // The sweep compares the order's age with the injected clock: its creation time must come from it too.
    createdAt: now,
    updatedAt: now,
  });
  try {
    const { tradeNo } = await alipay.createTrade({
      outTradeNo: order.outTradeNo,
      amountFen: order.amountFen,
      subject: `${school.name} 校园卡充值`,
      payer: { openId: user.alipayOpenId, userId: user.alipayUserId },
      notifyUrl: notifyUrl(deps),
      appAuthToken: deps.schools.appAuthToken(school),
      timeoutMinutes: deps.config.recharge.timeoutMinutes,
    });
    await setTradeNo(deps.db, order.id, tradeNo, deps.clock.now());
    return { ...order, alipayTradeNo: tradeNo };
  } catch (error) {
    // Alipay refused: the order can never be paid. Unknown outcome: leave it CREATED for the sweep.
    if (error instanceof AlipayError && error.kind !== 'unknown') {
      await markClosedIfCreated(deps.db, order.id, deps.clock.now(), error.reason);
    }
    throw alipayFailure(error);
  }
}

export async function ownRecharge(deps: Pick<Deps, 'db'>, userId: string, id: string): Promise<RechargeRow> {
  const order = await findRecharge(deps.db, id);
  if (!order || order.userId !== userId) throw new DomainError('RECHARGE_NOT_FOUND');
  return order;
}

/**
 * One crediting attempt for an order the drainer has claimed (jobs/recharge/recharge-credit.ts): vendor
 * Recharge with our order number as the flow number, so a repeat never credits twice.
 *
 * An attempt that got no answer (timeout, dropped connection) may have credited the card. It is resolved
 * the way an unknown charge at Alipay is: every later attempt first asks the vendor's records for our flow
 * number, and the order is CREDIT_FAILED only once the vendor has said no and its records confirm there is
 * no credit. While the vendor cannot be asked, the order stays PAID and is asked again on the last delay
 * of RECHARGE_CREDIT_RETRY_MS, however long that takes: "not credited" is never said without asking.
 */
export async function creditRecharge(deps: Deps, order: RechargeRow, school: SchoolRow): Promise<void> {
  const cardSystem = deps.schools.cardSystem(school);
  try {
    if (order.creditUnknownSince && (await findVendorCredit(deps, order, school))) {
      await creditedWithMessage(deps, order);
      deps.logger.info('recharge found credited in the vendor records', { outTradeNo: order.outTradeNo });
      return;
    }
    // The message's card label is read while the vendor works, so that recording the credit is one statement.
    const [, holderName] = await Promise.all([
      cardSystem.recharge({ cardNo: order.cardNo, amountFen: order.amountFen, flowNo: order.outTradeNo }),
      // A failed read is read again after the call: the vendor's answer decides what happens next.
      isCreditedMessageSent(deps) ? holderNameOf(deps, order).catch(() => undefined) : null,
    ]);
    await creditedWithMessage(deps, order, holderName);
    deps.logger.debug('recharge credited', { outTradeNo: order.outTradeNo, amountFen: order.amountFen });
  } catch (error) {
    if (!(error instanceof CardSystemError)) throw error;
    await afterCreditFailure(deps, order, school, error);
  }
}

/** Our flow number in the vendor's records, searched from a day before payment (vendor clocks drift). */
export function findVendorCredit(deps: Deps, order: RechargeRow, school: SchoolRow) {
  const paidAt = (order.paidAt ?? order.createdAt).getTime();
  return deps.schools.cardSystem(school).findRecharge({
    cardNo: order.cardNo,
    flowNo: order.outTradeNo,
    from: new Date(paidAt - 86_400_000),
    to: new Date(deps.clock.now().getTime() + 86_400_000),
  });
}

async function afterCreditFailure(
  deps: Deps,
  order: RechargeRow,
  school: SchoolRow,
  error: CardSystemError,
): Promise<void> {
  const schedule = deps.config.recharge.creditRetryMs;
  const isUnknown = error.classification === 'unknown';
  const mayHaveCredited = isUnknown || order.creditUnknownSince !== null;
  let delay = error.classification === 'final' ? undefined : schedule[order.creditAttempts];
  if (delay === undefined && isUnknown) {
    // This very attempt may have credited: giving up now would be a guess. Ask again later.
    delay = schedule.at(-1);
  } else if (delay === undefined && mayHaveCredited) {
    // About to give up on an order an earlier attempt may have credited: the vendor's records decide.
    try {
      if (await findVendorCredit(deps, order, school)) {
        await creditedWithMessage(deps, order);
        deps.logger.info('recharge found credited in the vendor records', { outTradeNo: order.outTradeNo });
        return;
      }
    } catch (lookupError) {
      // Stryker disable next-line ConditionalExpression: a CardSystem rejects only with CardSystemError (card-system.ts), so this rethrow is unreachable today; it guards a future change.
      if (!(lookupError instanceof CardSystemError)) throw lookupError;
      delay = schedule.at(-1);
    }
  }
  const now = deps.clock.now();
  const nextAt = delay === undefined ? null : new Date(now.getTime() + delay);
  await recordCreditFailure(deps.db, order.id, {
    error: `${error.reason}: ${error.message}`.slice(0, 500),
    nextAt,
    isUnknown,
    now,
  });
  // Stryker disable next-line ConditionalExpression: equivalent — it only chooses the log line; what happens next is recorded above
  if (nextAt)
    deps.logger.warn('recharge credit failed; will retry', {
      outTradeNo: order.outTradeNo,
      reason: error.reason,
      classification: error.classification,
      nextAt,
    });
  else
    deps.logger.error('recharge credit failed for good', {
      outTradeNo: order.outTradeNo,
      reason: error.reason,
    });
}

/**
 * CREDITED with the payer's "credited" message in one statement (sent once, never without the credit), shared
 * with the other credits of the moment (repos/recharge/credit-batches.ts); without a template for the message
 * the sender would skip it: then none is queued. Then the wallet cards whose points the credit raised (the
 * school's points rule) are synced: they show the new total.
 */
async function creditedWithMessage(
  deps: Deps,
  order: RechargeRow,
  holderName?: string | null,
): Promise<void> {
  const message = isCreditedMessageSent(deps)
    ? rechargeCreditedMessage(deps, order, holderName ?? (await holderNameOf(deps, order)))
    : undefined;
  const { isCredited, pointsCardIds } = await markCredited(deps.pool, {
    id: order.id,
    at: deps.clock.now(),
    message,
  });
  // Stryker disable next-line ConditionalExpression,LogicalOperator: equivalent (`true`, `||`) — waking the sender with no new message costs it one empty round; the `false` variant, disabled with them, is killed by recharge-messages.test.ts (the sender's own round is an hour there)
  if (isCredited && message) wakeMessageSender(deps);
  await wakeWalletSync(deps, pointsCardIds);
}

function isCreditedMessageSent(deps: Pick<Deps, 'config'>): boolean {
  return templateOf(deps, 'RECHARGE_CREDITED') !== undefined;
}

async function holderNameOf(deps: Deps, order: RechargeRow): Promise<string | null> {
  return (await findBinding(deps.db, order.bindingId))?.holderName ?? null;
}

/**
 * The sweep's look at one unpaid order (no notification arrived): paid → same path as a notify;
 * expired → closed at Alipay, then CLOSED here.
 */
export async function reconcileUnpaidRecharge(deps: Deps, order: RechargeRow): Promise<void> {
  const alipay = requireAlipay(deps);
  const school = await findSchool(deps.db, order.schoolId);
  if (!school) return;
  const appAuthToken = deps.schools.appAuthToken(school);
  const trade = await alipay.queryTrade({ outTradeNo: order.outTradeNo, appAuthToken });
  if (trade && (trade.status === 'TRADE_SUCCESS' || trade.status === 'TRADE_FINISHED')) {
    if (trade.totalFen !== order.amountFen) {
      deps.logger.error('paid amount differs from the order; not crediting', {
        outTradeNo: order.outTradeNo,
        paidFen: trade.totalFen,
      });
      return;
    }
    const moved = await markPaidIfUnpaid(deps.pool, order.outTradeNo, {
      tradeNo: trade.tradeNo,
      buyerId: trade.buyer.openId ?? trade.buyer.userId ?? null,
      at: deps.clock.now(),
    });
    // Stryker disable next-line ConditionalExpression: equivalent — waking the crediting drainer when nothing moved costs one empty drain, no money
    if (moved) signalRechargesPaid(deps.pool);
    return;
  }
  const isExpired = deps.clock.now() >= order.expiresAt;
  if (trade?.status === 'TRADE_CLOSED') {
    await markClosedIfCreated(deps.db, order.id, deps.clock.now(), 'TRADE_CLOSED');
  } else if (isExpired) {
    await alipay.closeTrade({ outTradeNo: order.outTradeNo, appAuthToken });
    await markClosedIfCreated(deps.db, order.id, deps.clock.now(), trade ? 'EXPIRED' : 'NEVER_PAID');
  }
}
