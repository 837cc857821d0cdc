/**
 * `npm run vending -- --platform <url> --terminal-id <id> --client-id <id> --secret-file <file> [--port 4040]
 * [--control-port 4041]`: one simulated vending machine (machine.ts) as its own small sandbox. It listens for
 * the platform's paid callbacks on --port (set the terminal's callback URL to http://<host>:<port>/callback)
 * and takes orders from a person or a script on its control port:
 *
 *   POST /orders {"items":[{"name":"可乐","quantity":1,"unitFen":300}]}  → the order with both QR payloads
 *   GET  /orders/:outOrderNo                                            → the order as the platform has it
 *   POST /orders/:outOrderNo/dispensed {"result":"OK"|"FAILED",…}        → the report (failed items refunded)
 *   GET  /callbacks                                                     → callbacks received (signature checked)
 *   PUT  /drop {"next":2}                                               → drop the next n callbacks (503)
 *
 * docs/sandbox.md "Vending machine" walks through a sale.
 */
import fs from 'node:fs';
import http from 'node:http';
import { parseArgs } from 'node:util';
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

async function body(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks).toString('utf8');
  return raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
}

const control = http.createServer((req, res) => {
  const reply = (status: number, value: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(value, null, 2));
  };
  const [, first, id, action] = (req.url ?? '/').split('?')[0].split('/');
  (async () => {
    if (req.method === 'POST' && first === 'orders' && !id) {
      const input = await body(req);
      const answer = await machine.createOrder(input.items as never, {
        outOrderNo: typeof input.outOrderNo === 'string' ? input.outOrderNo : undefined,
      });
      return reply(answer.status, answer.body);
    }
    if (req.method === 'GET' && first === 'orders' && id) {
      const answer = await machine.getOrder(decodeURIComponent(id));
      return reply(answer.status, answer.body);
    }
    if (req.method === 'POST' && first === 'orders' && id && action === 'dispensed') {
      const answer = await machine.reportDispensed(decodeURIComponent(id), (await body(req)) as never);
      return reply(answer.status, answer.body);
    }
    if (req.method === 'GET' && first === 'callbacks') return reply(200, machine.callbacks);
    if (req.method === 'PUT' && first === 'drop') {
      machine.dropNext = Number((await body(req)).next ?? 0);
      return reply(200, { dropNext: machine.dropNext });
    }
    return reply(404, { error: 'no such control route' });
  })().catch((error: Error) => reply(500, { error: error.message }));
});

await machine.start();
control.listen(Number(values['control-port']), '127.0.0.1', () => {
  console.log(`vending machine ${machine.options.terminalId}: callbacks at ${machine.callbackUrl}`);
  console.log(`control API at http://127.0.0.1:${values['control-port']}`);
});
