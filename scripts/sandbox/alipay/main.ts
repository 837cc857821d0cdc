/**
 * `npm run sandbox:alipay`: the Alipay gateway sandbox as its own process (DESIGN §8).
 *
 * PORT (default 4010), HOST (default 127.0.0.1), LOG_LEVEL (default info).
 * The "Alipay" key: ALIPAY_SANDBOX_PRIVATE_KEY (PEM text) or ALIPAY_SANDBOX_PRIVATE_KEY_FILE; otherwise
 * .data/sandbox-alipay/alipay-private-key.pem, generated on first start and reused after.
 * Apps: ALIPAY_SANDBOX_APPS (JSON array) or ALIPAY_SANDBOX_APPS_FILE (default .data/sandbox-alipay/apps.json
 * when it exists), entries `{appId, publicKey | publicKeyFile, idMode?, name?}`; more can be registered at
 * run time through POST /control/apps.
 * ALIPAY_SANDBOX_NOTIFY_TIME_SCALE (default 1): notification retries run this many times faster.
 * ALIPAY_SANDBOX_KEY_BITS (default 2048): size of a newly generated key (1024 for cheap signatures in load tests).
 */
import { access, chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { generateRsaKeyPair } from './keys.js';
import { createSandboxLogger } from './logger.js';
import { startAlipaySandbox, type AlipaySandboxApp } from './server.js';

const DATA_DIR = path.resolve('.data/sandbox-alipay');

function fail(message: string): never {
  console.error(`alipay sandbox: ${message}`);
  process.exit(1);
}

function numberFrom(name: string, fallback: number, isValid: (n: number) => boolean): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!isValid(value)) fail(`${name} is not valid: ${JSON.stringify(raw)}`);
  return value;
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

const keyBits = numberFrom('ALIPAY_SANDBOX_KEY_BITS', 2048, (n) => [1024, 2048, 3072, 4096].includes(n));

async function loadPrivateKey(): Promise<string> {
  if (process.env.ALIPAY_SANDBOX_PRIVATE_KEY) return process.env.ALIPAY_SANDBOX_PRIVATE_KEY;
  if (process.env.ALIPAY_SANDBOX_PRIVATE_KEY_FILE)
    return readFile(process.env.ALIPAY_SANDBOX_PRIVATE_KEY_FILE, 'utf8');
  const file = path.join(
    DATA_DIR,
    keyBits === 2048 ? 'alipay-private-key.pem' : `alipay-private-key-${keyBits}.pem`,
  );
  if (await exists(file)) return readFile(file, 'utf8');
  await mkdir(DATA_DIR, { recursive: true });
  const { privateKeyPem } = generateRsaKeyPair(keyBits);
  await writeFile(file, privateKeyPem, { mode: 0o600 });
  await chmod(file, 0o600);
  return privateKeyPem;
}

interface AppEntry {
  appId: string;
  publicKey?: string;
  publicKeyFile?: string;
  idMode?: AlipaySandboxApp['idMode'];
  name?: string;
}

async function loadApps(): Promise<AlipaySandboxApp[]> {
  let text = process.env.ALIPAY_SANDBOX_APPS;
  let baseDir = process.cwd();
  if (!text) {
    const file = process.env.ALIPAY_SANDBOX_APPS_FILE ?? path.join(DATA_DIR, 'apps.json');
    if (!(await exists(file))) {
      if (process.env.ALIPAY_SANDBOX_APPS_FILE) fail(`ALIPAY_SANDBOX_APPS_FILE ${file} does not exist`);
      return [];
    }
    text = await readFile(file, 'utf8');
    baseDir = path.dirname(path.resolve(file));
  }
  let entries: AppEntry[];
  try {
    entries = JSON.parse(text) as AppEntry[];
  } catch {
    return fail('the app list is not JSON');
  }
  if (!Array.isArray(entries)) fail('the app list must be a JSON array');
  return Promise.all(
    entries.map(async (entry) => {
      const publicKey =
        entry.publicKey ??
        (entry.publicKeyFile && (await readFile(path.resolve(baseDir, entry.publicKeyFile), 'utf8')));
      if (!entry.appId || !publicKey)
        fail(`app entry needs appId and publicKey or publicKeyFile: ${JSON.stringify(entry)}`);
      return { appId: entry.appId, publicKey, idMode: entry.idMode, name: entry.name };
    }),
  );
}

const port = numberFrom('PORT', 4010, (n) => Number.isInteger(n) && n >= 0 && n <= 65535);
const notifyTimeScale = numberFrom('ALIPAY_SANDBOX_NOTIFY_TIME_SCALE', 1, (n) => Number.isFinite(n) && n > 0);
// The books survive a restart in SANDBOX_STATE_FILE (default .data/sandbox-alipay/state.json; `none`: memory only).
const stateFile = process.env.SANDBOX_STATE_FILE ?? path.join(DATA_DIR, 'state.json');
const sandbox = await startAlipaySandbox({
  stateFile: stateFile === 'none' ? undefined : stateFile,
  port,
  host: process.env.HOST || '127.0.0.1',
  alipayPrivateKey: await loadPrivateKey(),
  apps: await loadApps(),
  notifyTimeScale,
  logger: createSandboxLogger(process.env.LOG_LEVEL ?? 'info'),
});
await mkdir(DATA_DIR, { recursive: true });
await writeFile(path.join(DATA_DIR, 'alipay-public-key.pem'), sandbox.alipayPublicKey);

console.log(`Alipay sandbox
  gateway (alipay-sdk "gateway"):  ${sandbox.gatewayUrl}
  control API:                     ${sandbox.controlUrl}   (docs/sandbox.md)
  notification time scale:         ×${notifyTimeScale}
  Alipay public key (alipay-sdk "alipayPublicKey"), also in ${path.relative(process.cwd(), DATA_DIR)}/alipay-public-key.pem:
${sandbox.alipayPublicKey}`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void sandbox.close().then(() => process.exit(0));
  });
}
