/**
 * The terminal-order benchmarks' shared parts (bench:terminal, api-cpu.ts, alipay-sandbox-cpu.ts): a vending
 * machine registered on the bench stack, the buyers who pay, and the buyer's scan of an order's QR.
 */
import assert from 'node:assert/strict';
import { createTerminal } from '../../server/src/domain/terminals/terminals.js';
import type { AlipaySandboxControl } from '../sandbox/alipay/control-client.js';
import { VendingMachine } from '../sandbox/vending/machine.js';
import { json } from './api.js';
import type { BenchStack } from './harness.js';

/**
 * A vending machine that sells through the API at `platformUrl`: its terminal (plain money mode) registered at
 * the bench school, its callback server started and named as the terminal's callback URL.
 */
export async function startBenchMachine(
  stack: BenchStack,
  terminalId: string,
  platformUrl = stack.bffUrl,
): Promise<VendingMachine> {
  const created = await createTerminal(stack.deps, { kind: 'OPERATOR', name: 'bench' }, stack.school.id, {
    terminalId,
    kind: 'VENDING',
    name: '压测售货机',
    moneyMode: 'PLAIN',
  });
  const machine = await new VendingMachine({
    platformUrl,
    terminalId,
    clientId: created.clientId,
    secret: created.secret,
  }).start();
  await stack.deps.pool.query('update terminals set callback_url = $1 where id = $2', [
    machine.callbackUrl,
    created.terminal.id,
  ]);
  return machine;
}

/** Twenty Alipay users with money for any run; order i is paid by buyer i mod 20. */
export function createBuyers(control: AlipaySandboxControl): Promise<Array<{ userId: string }>> {
  return Promise.all(Array.from({ length: 20 }, () => control.createUser({ balanceFen: 100_000_000 })));
}

/** The buyer's Alipay app scans the QR and pays (the control API's scan, over the load generator's keep-alive client). */
export async function scanToPay(alipayUrl: string, qrCode: string, userId: string): Promise<void> {
  const scan = await json('POST', `${alipayUrl}/control/qr-codes/scan`, { qrCode, userId });
  assert.equal(scan.body?.resultCode, '9000', scan.text);
}
