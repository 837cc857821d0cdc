/**
 * `npm run sandbox:cardsys`: the card system sandbox as its own process.
 * PORT (default 4020) serves the control API, SOAP_PORT (default PORT + 1) the vendor's SOAP service,
 * HOST (default 127.0.0.1) the interface both bind to.
 */
import { startCardsysSandbox } from './server.js';

function portFrom(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`${name} must be a port number, got ${JSON.stringify(raw)}`);
    process.exit(1);
  }
  return port;
}

const port = portFrom('PORT', 4020);
const soapPort = portFrom('SOAP_PORT', port === 0 ? 0 : port + 1);
// The books survive a restart in SANDBOX_STATE_FILE (default .data/sandbox-cardsys/state.json; `none` keeps them in memory).
const stateFile = process.env.SANDBOX_STATE_FILE ?? '.data/sandbox-cardsys/state.json';
const sandbox = await startCardsysSandbox({
  port,
  soapPort,
  host: process.env.HOST || '127.0.0.1',
  stateFile: stateFile === 'none' ? undefined : stateFile,
});

console.log(`card system sandbox
  control API  ${sandbox.url}/control   (POST /control/schools to begin; see docs/sandbox.md)
  SOAP server  ${sandbox.soapUrl}/cardsys/<school>/CardService.asmx?wsdl`);

let closing = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (closing) return;
    closing = true;
    sandbox.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
