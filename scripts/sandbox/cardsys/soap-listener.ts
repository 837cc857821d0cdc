/**
 * The vendor's web server: one SOAP endpoint per school at /cardsys/<school>/CardService.asmx, its WSDL at
 * `?wsdl`, and the injected faults applied in front of the operations. It listens on its own port so that
 * downtime can be real: while "refusing", the port is closed and callers get ECONNREFUSED.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { listen, type IServices, type Server as SoapServer } from 'soap';
import { faultAnswer, readRechargeRequest, rechargeAnswer, type ReadRecharge } from './fast-recharge.js';
import type { FaultBook } from './faults.js';
import type { CardLedger } from './ledger.js';
import { createCardService, schoolCodeOfPath, soapFaultEnvelope, soapPathOf } from './soap-service.js';
import { CARD_SERVICE_OPERATIONS, cardServiceWsdl } from './wsdl.js';

export interface SoapListener {
  /** http://host:port of the SOAP server. */
  readonly baseUrl: string;
  endpointFor(schoolCode: string): string;
  readonly isRefusingConnections: boolean;
  setRefusingConnections(refuse: boolean): Promise<void>;
  close(): Promise<void>;
}

const XML = 'text/xml; charset=utf-8';

async function createSoapServer(services: IServices): Promise<SoapServer> {
  return new Promise((resolve, reject) => {
    const server = listen(null, {
      path: '/',
      suppressStack: true,
      services,
      xml: cardServiceWsdl('http://localhost/cardsys/_/CardService.asmx'),
      callback: (err: unknown) => (err ? reject(err) : resolve(server)),
    });
  });
}

/** SOAP 1.1 names the operation in the SOAPAction header; fall back to the body's first element. */
function operationOf(req: http.IncomingMessage, body: string): string {
  const action = String(req.headers.soapaction ?? '').replace(/"/g, '');
  const fromAction = action.slice(action.lastIndexOf('/') + 1);
  if ((CARD_SERVICE_OPERATIONS as readonly string[]).includes(fromAction)) return fromAction;
  const fromBody = /<(?:[\w-]+:)?Body[^>]*>\s*<(?:[\w-]+:)?([\w]+)/.exec(body)?.[1];
  return fromBody ?? 'unknown';
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startSoapListener(options: {
  port: number;
  host: string;
  ledger: CardLedger;
  faults: FaultBook;
  /** Called for every request (the state snapshot marks itself dirty). */
  onRequest?: () => void;
}): Promise<SoapListener> {
  const { ledger, faults } = options;
  const services = createCardService(ledger);
  const soapServer = await createSoapServer(services);
  type Operation = (args: unknown, callback: unknown, headers: unknown, req: { url?: string }) => unknown;
  const recharge = (services.CardService.CardServiceSoap as unknown as Record<string, Operation>).Recharge;

  /** The same Recharge operation as through `soap`'s server, its answer written as that server writes it. */
  function answerRecharge(read: ReadRecharge, url: string | undefined): { statusCode: number; body: string } {
    try {
      const result = recharge(read.args, undefined, read.headers, { url }) as Record<string, string>;
      return { statusCode: 200, body: rechargeAnswer(result) };
    } catch (error) {
      // The operations throw only `{ Fault }` (soap-service.ts wraps everything else into SYSTEM_ERROR).
      const { Fault: fault } = error as { Fault: { statusCode?: number } & Record<string, unknown> };
      return { statusCode: fault.statusCode ?? 500, body: faultAnswer(fault) };
    }
  }
  const pendingAnswers = new Set<NodeJS.Timeout>();

  function send(res: http.ServerResponse, status: number, contentType: string, body: string): void {
    if (res.destroyed || res.writableEnded) return;
    res.writeHead(status, { 'content-type': contentType });
    res.end(body);
  }

  async function answerSoap(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    schoolCode: string,
  ): Promise<void> {
    const body = await readBody(req);
    const operation = operationOf(req, body);
    if (!(CARD_SERVICE_OPERATIONS as readonly string[]).includes(operation)) {
      // Unparseable envelopes and unknown operations get the vendor's own fault, not `soap`'s stack trace.
      return send(res, 500, XML, soapFaultEnvelope('soap:Client', 'PARAM_ERROR', '无法识别的请求或操作'));
    }
    const school = ledger.findSchool(schoolCode);
    if (school) school.stats.calls[operation] = (school.stats.calls[operation] ?? 0) + 1;

    const fault = faults.take(schoolCode, operation);
    switch (fault?.kind) {
      case 'HTTP_503':
        return send(res, 503, 'text/html', '<html><body><h1>503 Service Unavailable</h1></body></html>');
      case 'RESET':
        req.socket.destroy();
        return;
      case 'HANG':
        return; // the socket stays open until the caller gives up or the sandbox closes
      case 'SOAP_FAULT':
        return send(res, 500, XML, soapFaultEnvelope(fault.faultCode, fault.vendorCode, fault.message));
    }

    // The platform's Recharge, as node-soap clients write it, skips `soap`'s server (fast-recharge.ts).
    const plainRecharge = operation === 'Recharge' ? readRechargeRequest(body) : null;
    const processed = plainRecharge
      ? answerRecharge(plainRecharge, req.url)
      : await soapServer.processRequest(body, { url: req.url, method: 'POST', headers: req.headers });
    // Our operations fail only with CardServiceError faults; anything else is `soap` choking on the envelope.
    const answer =
      processed.statusCode === 200 || processed.body.includes('<CardServiceError>')
        ? processed
        : { statusCode: 500, body: soapFaultEnvelope('soap:Client', 'PARAM_ERROR', '请求格式错误') };
    if (fault?.kind === 'LATENCY') {
      const timer = setTimeout(() => {
        pendingAnswers.delete(timer);
        send(res, answer.statusCode, XML, answer.body);
      }, fault.latencyMs);
      pendingAnswers.add(timer);
      return;
    }
    send(res, answer.statusCode, XML, answer.body);
  }

  const server = http.createServer((req, res) => {
    options.onRequest?.();
    const url = new URL(req.url ?? '/', 'http://localhost');
    const schoolCode = schoolCodeOfPath(url.pathname);
    if (!schoolCode || !ledger.findSchool(schoolCode)) {
      return send(res, 404, 'text/html', '<html><body><h1>404 Not Found</h1></body></html>');
    }
    if (req.method === 'GET' && url.search.toLowerCase() === '?wsdl') {
      ledger.school(schoolCode).stats.wsdlFetches += 1;
      // Like IIS/ASMX, the WSDL names the endpoint by the host the caller used; a vendor without online
      // 解挂 has no UnLoss operation in it.
      const endpoint = `http://${req.headers.host ?? 'localhost'}${soapPathOf(schoolCode)}`;
      const school = ledger.school(schoolCode);
      return send(
        res,
        200,
        XML,
        cardServiceWsdl(endpoint, { without: school.supportsUnLoss === false ? ['UnLoss'] : [] }),
      );
    }
    if (req.method === 'GET') {
      return send(
        res,
        200,
        'text/plain; charset=utf-8',
        `CardService: ${CARD_SERVICE_OPERATIONS.join(', ')}\n`,
      );
    }
    if (req.method !== 'POST') return send(res, 405, 'text/plain', 'Method Not Allowed');
    answerSoap(req, res, schoolCode).catch(() => send(res, 500, 'text/plain', 'Internal Server Error'));
  });

  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      if (!server.listening) return resolve();
      server.close(() => resolve());
      server.closeAllConnections();
    });

  await listen(options.port);
  const port = (server.address() as AddressInfo).port;
  const host = options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host;
  const baseUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  let refusing = false;

  return {
    baseUrl,
    endpointFor: (schoolCode) => `${baseUrl}${soapPathOf(schoolCode)}`,
    get isRefusingConnections() {
      return refusing;
    },
    async setRefusingConnections(refuse) {
      if (refuse === refusing) return;
      refusing = refuse;
      if (refuse) await stop();
      else await listen(port);
    },
    async close() {
      for (const timer of pendingAnswers) clearTimeout(timer);
      pendingAnswers.clear();
      await stop();
    },
  };
}
