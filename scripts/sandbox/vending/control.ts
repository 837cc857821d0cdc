import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { VendingMachine } from './machine.js';

/**
 * The vending machine simulator's control API (what a person or a script does at the machine):
 *
 *   POST /orders {"items":[{"name":"可乐","quantity":1,"unitFen":300}]}  → the order with both QR payloads
 *   GET  /orders/:outOrderNo                                            → the order as the platform has it
 *   POST /orders/:outOrderNo/dispensed {"result":"OK"|"FAILED",…}        → the report (failed items refunded)
 *   GET  /callbacks                                                     → callbacks received (signature checked)
 *   PUT  /drop {"next":2}                                               → drop the next n callbacks (503)
 */
export interface VendingControl {
  url: string;
  close(): Promise<void>;
}

async function body(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks).toString('utf8');
  return raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
}

export async function startVendingControl(machine: VendingMachine, port = 0): Promise<VendingControl> {
  const server = http.createServer((req, res) => {
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
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
