import { VendingMachine } from '../../../scripts/sandbox/vending/machine.js';
import type { TerminalInput } from '../../../shared/admin-api.js';
import type { TerminalOrderAnswer } from '../../../shared/gateway-api.js';
import { createTerminal, editTerminal } from '../../../server/src/domain/terminals/terminals.js';
import { TEST_OPERATOR } from '../../support/admins.js';
import type { Stack } from '../../support/stack.js';

let terminalCounter = 0;

/**
 * A terminal of the stack's school with its simulated vending machine running (callbacks to the machine
 * unless `callbackUrl: null`). Money mode PLAIN unless the input says otherwise.
 */
export async function vendingMachine(
  stack: Stack,
  input: Partial<TerminalInput> & { noCallback?: boolean } = {},
): Promise<VendingMachine & { terminalRef: string }> {
  terminalCounter += 1;
  const terminalId = input.terminalId ?? `VM-${process.pid}-${terminalCounter}`;
  const { noCallback, ...rest } = input;
  const created = await createTerminal(stack.app.deps, TEST_OPERATOR, stack.school.id, {
    kind: 'VENDING',
    name: `饮料机${terminalCounter}`,
    location: '一食堂门口',
    moneyMode: 'PLAIN',
    ...rest,
    terminalId,
  });
  const machine = await new VendingMachine({
    platformUrl: stack.app.url,
    terminalId,
    clientId: created.clientId,
    secret: created.secret,
  }).start();
  if (!noCallback) {
    await editTerminal(stack.app.deps, TEST_OPERATOR, stack.school.id, created.terminal.id, {
      callbackUrl: machine.callbackUrl,
    });
  }
  return Object.assign(machine, { terminalRef: created.terminal.id });
}

/** An operator's account at the Alipay sandbox and a ROYALTY vending machine that shares to it by `royalty`. */
export async function operatorWithRoyaltyMachine(
  stack: Stack,
  operatorName: string,
  royalty: Omit<NonNullable<TerminalInput['royalty']>, 'account'>,
): Promise<{ operator: { accountId: string }; machine: Awaited<ReturnType<typeof vendingMachine>> }> {
  const operator = await stack.alipay.control.createMerchant({ name: operatorName });
  const machine = await vendingMachine(stack, {
    moneyMode: 'ROYALTY',
    royalty: { account: operator.accountId, ...royalty },
  });
  return { operator, machine };
}

export const COLA = { name: '可乐', quantity: 1, unitFen: 300 };
export const CHIPS = { name: '薯片', quantity: 2, unitFen: 450 };

export interface TerminalOrderRecord {
  id: string;
  status: string;
  dispense_result: string | null;
  close_reason: string | null;
  closed_at: Date | null;
  paid_payment_id: string | null;
  callback_status: string | null;
  settle_status: string | null;
  settle_fen: number | null;
  settle_out_request_no: string | null;
  settle_no: string | null;
  settle_attempts: number;
  settle_next_at: Date | null;
  settle_last_error: string | null;
  settled_at: Date | null;
  updated_at: Date;
}

export interface TerminalRefundRecord {
  id: string;
  kind: string;
  out_trade_no: string;
  out_request_no: string;
  terminal_order_id: string;
  completed_at: Date | null;
  amount_fen: number;
  status: string;
  reason: string | null;
  attempts: number;
  last_error: string | null;
  royalty_returns: Array<{ account: string; amountFen: number }> | null;
  next_attempt_at: Date | null;
  updated_at: Date;
}

/** What the database and Alipay's ledger say of a terminal order, its payments and refunds. */
export function terminalRecords(stack: Stack) {
  const { pool } = stack.app.deps;
  return {
    async orderOf(orderNo: string): Promise<TerminalOrderRecord> {
      const { rows } = await pool.query('select * from terminal_orders where order_no = $1', [orderNo]);
      return rows[0] as TerminalOrderRecord;
    },
    async paymentOf(outTradeNo: string) {
      const { rows } = await pool.query('select * from terminal_payments where out_trade_no = $1', [
        outTradeNo,
      ]);
      return rows[0] as
        { status: string; buyer_id: string | null; alipay_trade_no: string | null } | undefined;
    },
    async paymentStatus(outTradeNo: string): Promise<string | undefined> {
      return (await this.paymentOf(outTradeNo))?.status;
    },
    async refundOf(outRequestNo: string): Promise<TerminalRefundRecord | undefined> {
      const { rows } = await pool.query('select * from refunds where out_request_no = $1', [outRequestNo]);
      return rows[0] as TerminalRefundRecord | undefined;
    },
    async tradeOf(outTradeNo: string) {
      return (await stack.alipay.control.ledger({ outTradeNo })).trades[0];
    },
    async balanceOf(accountId: string): Promise<number> {
      return (await stack.alipay.control.getAccount(accountId)).balanceFen;
    },
  };
}

/** A signed TRADE_SUCCESS notification's form for a terminal order's trade, paid in full to the school. */
export function paidTerminalForm(
  stack: Stack,
  order: TerminalOrderAnswer,
  outTradeNo: string,
  fields: Record<string, string> = {},
) {
  return {
    notify_type: 'trade_status_sync',
    notify_id: `n${Date.now()}${Math.random()}`,
    out_trade_no: outTradeNo,
    trade_no: `2026${Date.now()}${Math.floor(Math.random() * 1e6)}`,
    total_amount: (order.amountFen / 100).toFixed(2),
    seller_id: stack.school.alipaySellerId!,
    trade_status: 'TRADE_SUCCESS',
    ...fields,
  };
}
