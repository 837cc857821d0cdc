import { hash } from 'node:crypto';
import type {
  DispenseResult,
  TerminalOrderAnswer,
  TerminalOrderItem,
  TerminalOrderRequest,
} from '../../../../shared/gateway-api.js';
import {
  findOrderOfTerminal,
  findPaymentById,
  insertOrderWithQrPayment,
  setQrCodeIfNone,
  type AnsweredOrder,
  type NewTerminalOrder,
  type OrderContext,
  type TerminalOrderRow,
  type TerminalPaymentRow,
} from '../../db/repos/terminals/orders.js';
import { findTerminalOfClient } from '../../db/repos/terminals/terminals.js';
import type { SchoolRow } from '../../db/repos/schools/schools.js';
import type { TerminalRow } from '../../db/repos/terminals/terminals.js';
import type { Deps } from '../../deps.js';
import type { TradeMoneyRouting } from '../../integrations/alipay/alipay.js';
import { AlipayError } from '../../integrations/alipay/errors.js';
import { newOrderNo } from '../../lib/ids.js';
import { DomainError } from '../errors.js';
import { notifyUrl } from '../recharge/recharge.js';
import { royaltyShareOf } from './royalty.js';

/**
 * Terminal orders (issue #15, DESIGN §7.6, seed 002): a vending machine or window makes an order and shows two
 * ways to pay it — the 当面付 QR (alipay.trade.precreate, for the Alipay camera) and a link to the mini-program's
 * payment page (alipay.trade.create + my.tradePay) — as QR codes. The order is idempotent on (terminal,
 * outOrderNo): the same request answers the same order; other items or amount are ORDER_CONFLICT.
 *
 * Where the money goes is fixed when the order is made, from the terminal's money mode: seller_id for
 * restricted collection, royalty_info (ON_PAYMENT) or a frozen trade settled after dispensing
 * (AFTER_DISPENSE) for profit sharing. CREATED → PAID (the first payment: payments.ts) | CLOSED (the
 * machine's timeout passed unpaid: lifecycle.ts).
 */

export interface TerminalClient {
  clientId: string;
}

type TerminalOfClient = NonNullable<Awaited<ReturnType<typeof findTerminalOfClient>>>;

/** The terminal a client signs for, and its school, as stored now; TERMINAL_MISMATCH when it signs for none. */
export async function terminalOfClient(
  deps: Pick<Deps, 'db'>,
  client: TerminalClient,
): Promise<TerminalOfClient> {
  const found = await findTerminalOfClient(deps.db, client.clientId);
  if (!found) throw new DomainError('TERMINAL_MISMATCH');
  if (found.terminal.status === 'ACTIVE' && found.school.status === 'ACTIVE') {
    const known = knownTerminals(deps.db);
    if (known.size >= MAX_KNOWN_TERMINALS) known.clear();
    known.set(client.clientId, found);
  }
  return found;
}

/**
 * Active terminals (with their school) as this process last read them, by client: a new order takes its
 * money fields, timeout and subject from this copy without reading them again, and its insert is made only
 * if both rows are still ACTIVE and unchanged since (insertOrderWithQrPayment compares their versions), so a
 * terminal disabled or changed by any process is seen at the next order. Everything else reads afresh.
 */
const knownTerminalsOf = new WeakMap<Deps['db'], Map<string, TerminalOfClient>>();
const MAX_KNOWN_TERMINALS = 10_000;

function knownTerminals(db: Deps['db']): Map<string, TerminalOfClient> {
  let known = knownTerminalsOf.get(db);
  if (!known) knownTerminalsOf.set(db, (known = new Map()));
  return known;
}

/** What a repeat must match: the amount and the items, in order. */
function requestHash(input: Pick<TerminalOrderRequest, 'amountFen' | 'items'>): string {
  const canonical = JSON.stringify({
    amountFen: input.amountFen,
    items: input.items.map((i) => [i.name, i.quantity, i.unitFen]),
  });
  return hash('sha256', canonical, 'hex');
}

function subjectOf(terminal: TerminalRow, items: TerminalOrderItem[]): string {
  const first = items[0].name;
  return `${terminal.name} ${first}${items.length > 1 ? ` 等${items.length}件` : ''}`.slice(0, 128);
}

/** The money fields an order keeps from its terminal's mode at the time it is made. */
function moneyOf(terminal: TerminalRow, amountFen: number) {
  if (terminal.moneyMode === 'RESTRICTED') return { sellerId: terminal.sellerId };
  if (terminal.moneyMode === 'ROYALTY') {
    const shareFen = royaltyShareOf(amountFen, {
      bps: terminal.royaltyBps,
      fixedFen: terminal.royaltyFixedFen,
    });
    if (shareFen > 0)
      return {
        royaltyAccount: terminal.royaltyAccount,
        royaltyFen: shareFen,
        royaltyTiming: terminal.royaltyTiming,
      };
  }
  return {};
}

/** What the trades of an order carry besides the school's own account (seed 002 "资金模式"). */
export function routingOf(
  order: Pick<NewTerminalOrder, 'sellerId' | 'royaltyAccount' | 'royaltyFen' | 'royaltyTiming'>,
): TradeMoneyRouting {
  if (order.sellerId) return { sellerId: order.sellerId };
  if (order.royaltyAccount && order.royaltyFen) {
    if (order.royaltyTiming === 'AFTER_DISPENSE') return { royaltyFreeze: true };
    return { royalty: [{ account: order.royaltyAccount, amountFen: order.royaltyFen, desc: '售货分润' }] };
  }
  return {};
}

/** The account the order's money lands in: what Alipay's notifications must name as seller_id. */
export function collectingAccount(
  order: Pick<TerminalOrderRow, 'sellerId'>,
  school: Pick<SchoolRow, 'alipaySellerId'>,
): string | null {
  return order.sellerId ?? school.alipaySellerId;
}

export function qrOutTradeNo(order: Pick<TerminalOrderRow, 'orderNo'>): string {
  return `${order.orderNo}Q`;
}

export function miniProgramUrl(deps: Pick<Deps, 'config'>, orderNo: string): string {
  const appId = deps.config.alipay?.appId ?? '';
  return (
    `alipays://platformapi/startapp?appId=${appId}` +
    `&page=${encodeURIComponent(deps.config.terminals.payPage)}` +
    `&query=${encodeURIComponent(`orderNo=${orderNo}`)}`
  );
}

/** The fen a dispense report gives back: the failed lines' quantities × their prices. */
export function failedFen(order: Pick<TerminalOrderRow, 'items' | 'failedItems'>): number {
  const items = order.items as TerminalOrderItem[];
  const failed = (order.failedItems ?? []) as Array<{ index: number; quantity: number }>;
  return failed.reduce((sum, f) => sum + items[f.index].unitFen * f.quantity, 0);
}

export function orderAnswer(
  deps: Pick<Deps, 'config'>,
  order: AnsweredOrder,
  paidWith: Pick<TerminalPaymentRow, 'channel'> | null,
): TerminalOrderAnswer {
  return {
    orderNo: order.orderNo,
    outOrderNo: order.outOrderNo,
    terminalId: order.terminalId,
    status: order.status,
    amountFen: order.amountFen,
    items: order.items as TerminalOrderItem[],
    expiresAt: order.expiresAt.toISOString(),
    pay: { qrCode: order.qrCode, miniProgramUrl: miniProgramUrl(deps, order.orderNo) },
    paidAt: order.paidAt?.toISOString() ?? null,
    channel: paidWith?.channel ?? null,
    closedAt: order.closedAt?.toISOString() ?? null,
    dispense: order.dispenseResult
      ? {
          result: order.dispenseResult as DispenseResult,
          refundFen: failedFen(order),
          reportedAt: order.dispensedAt!.toISOString(),
        }
      : null,
  };
}

/** The order as the machine sees it (its payment channel looked up when paid). */
export async function answerFor(
  deps: Pick<Deps, 'db' | 'config'>,
  order: TerminalOrderRow,
): Promise<TerminalOrderAnswer> {
  const paidWith = order.paidPaymentId ? await findPaymentById(deps.db, order.paidPaymentId) : undefined;
  return orderAnswer(deps, order, paidWith ?? null);
}

/** What a precreate is made of: the order as stored, or as it is about to be. */
type QrOrder = Pick<
  NewTerminalOrder,
  | 'orderNo'
  | 'amountFen'
  | 'subject'
  | 'expiresAt'
  | 'terminalId'
  | 'sellerId'
  | 'royaltyAccount'
  | 'royaltyFen'
  | 'royaltyTiming'
>;

/**
 * Asks Alipay for the order's 当面付 QR. A refusal or no answer leaves the order without one (the machine
 * still has the mini-program link); the next repeat of the create asks again with the same out_trade_no,
 * which Alipay answers with the same code.
 */
async function precreateQr(
  deps: Deps,
  ctx: { order: QrOrder; school: OrderContext['school'] },
): Promise<string | null> {
  const { order, school } = ctx;
  if (!deps.alipay) return null;
  try {
    const { qrCode } = await deps.alipay.precreateTrade({
      outTradeNo: qrOutTradeNo(order),
      amountFen: order.amountFen,
      subject: order.subject,
      notifyUrl: notifyUrl(deps),
      appAuthToken: deps.schools.appAuthToken(school),
      expiresAt: order.expiresAt,
      terminalId: order.terminalId,
      routing: routingOf(order),
    });
    return qrCode;
  } catch (error) {
    if (!(error instanceof AlipayError)) throw error;
    deps.logger.warn('terminal order: no precreate QR', { orderNo: order.orderNo, reason: error.reason });
    return null;
  }
}

/**
 * The precreates under way in this process, by order: a repeat that arrives while another is still asking
 * Alipay waits for that answer instead of asking again. (A repeat in another process asks again with the
 * same out_trade_no and gets the same code.)
 */
const qrRequests = new Map<string, Promise<TerminalOrderRow>>();

/**
 * The QR of an order stored without one (its precreate was refused or got no answer), for a repeat of its
 * create: asked for once per process at a time, outside any transaction (no connection or row lock is held
 * while Alipay answers), and stored only where the order has none yet (else the stored one is answered).
 */
function withQr(deps: Deps, ctx: OrderContext): Promise<TerminalOrderRow> {
  const { order } = ctx;
  const asking = qrRequests.get(order.id);
  if (asking) return asking;
  const request = precreateQr(deps, ctx)
    .then((qrCode) => (qrCode ? setQrCodeIfNone(deps, order, qrCode, deps.clock.now()) : order))
    .finally(() => qrRequests.delete(order.id));
  qrRequests.set(order.id, request);
  return request;
}

/** What a new order's row holds besides what it was made of (the columns' defaults). */
const UNPAID = {
  status: 'CREATED',
  paidAt: null,
  closedAt: null,
  dispenseResult: null,
  failedItems: null,
  dispensedAt: null,
} as const satisfies Partial<AnsweredOrder>;

/** Tries of a new order whose terminal or school changed between the read and the insert. */
const MAX_CREATE_TRIES = 3;

export async function createTerminalOrder(
  deps: Deps,
  client: TerminalClient,
  input: TerminalOrderRequest,
): Promise<TerminalOrderAnswer> {
  const hash = requestHash(input);
  for (let tries = 1; ; tries++) {
    const known = tries === 1 ? knownTerminals(deps.db).get(client.clientId) : undefined;
    const { terminal, school, versions } = known ?? (await terminalOfClient(deps, client));
    if (input.terminalId !== terminal.terminalId)
      throw new DomainError('TERMINAL_MISMATCH', `This client signs for terminal ${terminal.terminalId}`, {
        field: 'body.terminalId',
      });
    const sum = input.items.reduce((total, item) => total + item.quantity * item.unitFen, 0);
    if (sum !== input.amountFen)
      throw new DomainError('VALIDATION_FAILED', `amountFen must be the items' sum (${sum})`, {
        field: 'body.amountFen',
      });
    // A repeat answers the stored order, with the terminal and school as they are now.
    const repeat = async () => {
      const existing = await findOrderOfTerminal(deps.db, terminal.id, input.outOrderNo);
      return existing && repeatOf(deps, { order: existing, ...(await terminalOfClient(deps, client)) }, hash);
    };
    if (school.status !== 'ACTIVE' || terminal.status !== 'ACTIVE') {
      // Read just now (only active terminals are kept). A repeat of an order made before the school or
      // terminal stopped still answers that order.
      const answer = await repeat();
      if (answer) return answer;
      throw new DomainError(school.status !== 'ACTIVE' ? 'SCHOOL_SUSPENDED' : 'TERMINAL_DISABLED');
    }

    const now = deps.clock.now();
    const orderNo = newOrderNo('terminal', deps.clock);
    const toMake = {
      orderNo,
      schoolId: school.id,
      terminalRef: terminal.id,
      terminalId: terminal.terminalId,
      outOrderNo: input.outOrderNo,
      requestHash: hash,
      items: input.items,
      amountFen: input.amountFen,
      subject: subjectOf(terminal, input.items),
      ...moneyOf(terminal, input.amountFen),
      expiresAt: new Date(now.getTime() + terminal.orderTimeoutSeconds * 1000),
    };
    // The QR is asked for first, so that the order is stored with it in one statement and one commit (the
    // create's only write). Concurrent repeats of one outOrderNo still meet on the unique key, and the losers
    // answer the winner's order (repeatOf). A QR asked for an order that is then not stored (a repeat, or a
    // terminal changed meanwhile) is never shown to anyone, and a precreate makes no trade at Alipay until
    // its QR is scanned (ALIPAY-M2.md §1), so it costs one call and nothing else.
    const qrCode = await precreateQr(deps, { order: toMake, school });
    const made = await insertOrderWithQrPayment(
      deps.db,
      { ...toMake, qrCode },
      qrOutTradeNo({ orderNo }),
      versions,
    );
    if (made) return orderAnswer(deps, { ...toMake, qrCode, ...UNPAID }, null);
    const answer = await repeat();
    if (answer) return answer;
    // Nothing made and no such order: the terminal or its school changed since they were read. Again,
    // with them as they are now (disabled, another money mode…).
    knownTerminals(deps.db).delete(client.clientId);
    if (tries >= MAX_CREATE_TRIES) throw new Error(`terminal ${terminal.terminalId} kept changing`);
  }
}

async function repeatOf(deps: Deps, ctx: OrderContext, hash: string): Promise<TerminalOrderAnswer> {
  let { order } = ctx;
  if (order.requestHash !== hash)
    throw new DomainError('ORDER_CONFLICT', undefined, { field: 'body.outOrderNo' });
  if (order.status === 'CREATED' && !order.qrCode && order.expiresAt > deps.clock.now())
    order = await withQr(deps, ctx);
  return answerFor(deps, order);
}

/** `GET /gateway/v1/terminal-orders/:outOrderNo`: for machines that poll instead of taking callbacks. */
export async function terminalOrderForMachine(
  deps: Deps,
  client: TerminalClient,
  outOrderNo: string,
): Promise<TerminalOrderAnswer> {
  const { terminal } = await terminalOfClient(deps, client);
  const order = await findOrderOfTerminal(deps.db, terminal.id, outOrderNo);
  if (!order) throw new DomainError('TERMINAL_ORDER_NOT_FOUND');
  return answerFor(deps, order);
}
