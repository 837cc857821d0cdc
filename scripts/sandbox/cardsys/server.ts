/**
 * The campus card system sandbox (DESIGN §8, issue 4): the vendor's SOAP service on one port and the control
 * API (which also plays the POS/IoT gateway) on another. In-process for tests, or its own process via main.ts.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createControlApp } from './control-api.js';
import { FaultBook } from './faults.js';
import { CardLedger } from './ledger.js';
import { PosGateway } from './pos-gateway.js';
import { CampusCodePos } from './campus-code-pos.js';
import { startSoapListener } from './soap-listener.js';
import { keepSandboxState } from '../snapshot.js';

export interface CardsysSandboxOptions {
  /** Control API port; 0 (default) picks a free one. */
  port?: number;
  /** SOAP port; 0 (default) picks a free one. */
  soapPort?: number;
  /** Interface to bind both servers to; default 127.0.0.1. */
  host?: string;
  /**
   * Keep the books (schools, cards, records, bind docs, platform settings, the tills' campus-code scans and
   * uploads) in this file across restarts.
   */
  stateFile?: string;
}

export interface CardsysSandbox {
  /** Base URL of the control API, e.g. http://127.0.0.1:4020 (routes under /control). */
  readonly url: string;
  /** Base URL of the SOAP server; each school's endpoint is `${soapUrl}/cardsys/<code>/CardService.asmx`. */
  readonly soapUrl: string;
  endpointFor(schoolCode: string): string;
  close(): Promise<void>;
}

function urlOf(host: string, port: number): string {
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${shown.includes(':') ? `[${shown}]` : shown}:${port}`;
}

export async function startCardsysSandbox(options: CardsysSandboxOptions = {}): Promise<CardsysSandbox> {
  const host = options.host ?? '127.0.0.1';
  const ledger = new CardLedger();
  const faults = new FaultBook();
  const pos = new PosGateway(ledger);
  const campusCodes = new CampusCodePos(
    ledger,
    (schoolCode) => pos.platformTarget(schoolCode),
    undefined,
    () => snapshot?.markDirty(),
  );
  const snapshot = options.stateFile
    ? keepSandboxState(options.stateFile, {
        ledger: { live: ledger },
        pos: { live: pos, fields: ['platforms', 'swipes'] },
        // The tills' campus-code books: scans, the 2-minute decode records, held and queued uploads, batches.
        campusCodes: {
          live: campusCodes,
          fields: ['scans', 'decodes', 'queues', 'settings', 'batches', 'batchCounter'],
        },
      })
    : undefined;
  campusCodes.resumeAfterRestore();
  const soap = await startSoapListener({
    port: options.soapPort ?? 0,
    host,
    ledger,
    faults,
    onRequest: () => snapshot?.markDirty(),
  });
  const app = createControlApp({ ledger, faults, soap, pos, campusCodes });

  const handle = app.callback();
  const server = http.createServer((req, res) => {
    snapshot?.markDirty();
    return handle(req, res);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => resolve());
    });
  } catch (error) {
    await soap.close();
    throw error;
  }
  const url = urlOf(host, (server.address() as AddressInfo).port);

  return {
    url,
    soapUrl: soap.baseUrl,
    endpointFor: (schoolCode) => soap.endpointFor(schoolCode),
    async close() {
      snapshot?.close();
      pos.close();
      campusCodes.close();
      await soap.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
