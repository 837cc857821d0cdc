/**
 * `npm run sandbox:membercard`: the AntBuilder card-management sandbox as its own process.
 * PORT (default 4030), HOST (default 127.0.0.1).
 */
import { startMembercardSandbox } from './server.js';

const raw = process.env.PORT;
const port = raw === undefined || raw === '' ? 4030 : Number(raw);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`PORT must be a port number, got ${JSON.stringify(raw)}`);
  process.exit(1);
}
const sandbox = await startMembercardSandbox({ port, host: process.env.HOST || '127.0.0.1' });

console.log(`AntBuilder card management sandbox
  mini-core    ${sandbox.url}/card/update, ${sandbox.url}/card/changeTemplate
  control API  ${sandbox.url}/control   (PUT /control/systems/<id> to begin; see docs/sandbox.md)`);

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
