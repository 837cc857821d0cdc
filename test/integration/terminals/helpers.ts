import { VendingMachine } from '../../../scripts/sandbox/vending/machine.js';
import type { TerminalInput } from '../../../shared/admin-api.js';
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

export const COLA = { name: '可乐', quantity: 1, unitFen: 300 };
export const CHIPS = { name: '薯片', quantity: 2, unitFen: 450 };
