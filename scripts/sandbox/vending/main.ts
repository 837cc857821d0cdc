/**
 * `npm run vending -- --platform <url> --terminal-id <id> --client-id <id> --secret-file <file> [--port 4040]
 * [--control-port 4041]`: one simulated vending machine (machine.ts) as its own small sandbox. It listens for
 * the platform's paid callbacks on --port (set the terminal's callback URL to http://<host>:<port>/callback)
 * and takes orders from a person or a script on its control port (control.ts lists the routes).
 *
 * docs/sandbox.md "Vending machine" walks through a sale.
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { startVendingControl } from './control.js';
import { VendingMachine } from './machine.js';

const { values } = parseArgs({
  options: {
    platform: { type: 'string', default: process.env.PLATFORM_URL ?? 'http://127.0.0.1:3000' },
    'terminal-id': { type: 'string' },
    'client-id': { type: 'string' },
    'secret-file': { type: 'string' },
    port: { type: 'string', default: '4040' },
    'control-port': { type: 'string', default: '4041' },
  },
});

function required(name: string): string {
  const value = values[name as keyof typeof values];
  if (typeof value !== 'string' || !value) {
    console.error(`vending: --${name} is required`);
    process.exit(2);
  }
  return value;
}

const machine = new VendingMachine({
  platformUrl: values.platform!,
  terminalId: required('terminal-id'),
  clientId: required('client-id'),
  secret: fs.readFileSync(required('secret-file'), 'utf8').trim(),
  port: Number(values.port),
});

await machine.start();
const control = await startVendingControl(machine, Number(values['control-port']));
console.log(`vending machine ${machine.options.terminalId}: callbacks at ${machine.callbackUrl}`);
console.log(`control API at ${control.url}`);
