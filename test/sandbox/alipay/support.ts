/**
 * Helpers for the Alipay sandbox tests. Tests reach the sandbox only over HTTP: through alipay-sdk (the
 * gateway), through AlipaySandboxControl (the control API), and through raw fetch for requests the SDK cannot
 * produce (malformed ones).
 */
import { createSign, generateKeyPairSync } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { AlipaySdk, type AlipaySdkConfig } from 'alipay-sdk';
import { AlipaySandboxControl } from '../../../scripts/sandbox/alipay/control-client.js';
import {
  startAlipaySandbox,
  type AlipaySandbox,
  type AlipaySandboxApp,
  type AlipaySandboxOptions,
} from '../../../scripts/sandbox/alipay/server.js';

export interface AppKeys {
  appId: string;
  privateKey: string;
  publicKey: string;
}

let appCounter = 0;

export function newAppKeys(appId?: string): AppKeys {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  appCounter++;
  return {
    appId:
      appId ?? `20210000${String(Date.now() % 1e4).padStart(4, '0')}${String(appCounter).padStart(4, '0')}`,
    privateKey,
    publicKey,
  };
}

export interface TestSandbox {
  sandbox: AlipaySandbox;
  control: AlipaySandboxControl;
  close(): Promise<void>;
}

/** One "Alipay" key for every test sandbox of this run: RSA key generation is the slowest part of start-up. */
let sharedAlipayKey: string | undefined;

export async function startTestSandbox(options: AlipaySandboxOptions = {}): Promise<TestSandbox> {
  sharedAlipayKey ??= newAppKeys().privateKey;
  const sandbox = await startAlipaySandbox({
    notifyTimeScale: 1000,
    alipayPrivateKey: sharedAlipayKey,
    ...options,
  });
  return { sandbox, control: new AlipaySandboxControl(sandbox.url), close: () => sandbox.close() };
}

export function sdkFor(
  sandbox: AlipaySandbox,
  app: AppKeys,
  extra: Partial<AlipaySdkConfig> = {},
): AlipaySdk {
  return new AlipaySdk({
    appId: app.appId,
    privateKey: app.privateKey,
    keyType: 'PKCS8',
    alipayPublicKey: sandbox.alipayPublicKey,
    gateway: sandbox.gatewayUrl,
    ...extra,
  });
}

export interface SandboxWithApp {
  t: TestSandbox;
  app: AppKeys;
  /** Signs as `app`, checks the sandbox's signatures. */
  sdk: AlipaySdk;
}

/**
 * A test sandbox with one app of ours registered as the platform runs it (open_id mode) and its SDK: where
 * most sandbox suites start. `appConfig` adds to the app's registration (its gateway, message topics).
 */
export async function startSandboxWithApp(
  appConfig: Partial<Omit<AlipaySandboxApp, 'appId' | 'publicKey'>> = {},
  options: AlipaySandboxOptions = {},
): Promise<SandboxWithApp> {
  const app = newAppKeys();
  const t = await startTestSandbox({
    ...options,
    apps: [{ appId: app.appId, publicKey: app.publicKey, idMode: 'open_id', ...appConfig }],
  });
  return { t, app, sdk: sdkFor(t.sandbox, app) };
}

let sequence = 0;

/** A fresh out_trade_no / out_request_no style identifier ([A-Za-z0-9_], unique per run). */
export function uniqueNo(prefix: string): string {
  sequence++;
  return `${prefix}_${Date.now().toString(36)}_${sequence}`;
}

export interface ReceivedNotification {
  fields: Record<string, string>;
  at: number;
}

export interface NotifyReceiver {
  url: string;
  received: ReceivedNotification[];
  close(): Promise<void>;
}

/**
 * A tiny notify_url server. `answer` decides the reply to each POST (default: `success`), given the fields and
 * how many notifications with that notify_id arrived before.
 */
export async function startNotifyReceiver(
  answer: (fields: Record<string, string>, seenBefore: number) => { status?: number; body: string } = () => ({
    body: 'success',
  }),
): Promise<NotifyReceiver> {
  const received: ReceivedNotification[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      const fields = Object.fromEntries(new URLSearchParams(body));
      const seenBefore = received.filter((n) => n.fields.notify_id === fields.notify_id).length;
      received.push({ fields, at: Date.now() });
      const reply = answer(fields, seenBefore);
      res.statusCode = reply.status ?? 200;
      res.end(reply.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/notify/alipay`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Polls `probe` until it returns something truthy, or fails after the deadline. No fixed sleeps. */
export async function waitFor<T>(
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  what: string,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Beijing `yyyy-MM-dd HH:mm:ss` for hand-made requests. */
export function beijingNow(): string {
  const d = new Date(Date.now() + 8 * 3_600_000);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/**
 * Signs params by Alipay's rule (sorted, raw, empties dropped) the way a careful hand-written client would,
 * for requests alipay-sdk cannot make (bad JSON, GBK, missing params).
 */
export function signParams(params: Record<string, string>, privateKey: string): string {
  const content = Object.keys(params)
    .filter((key) => key !== 'sign' && params[key] !== '')
    .sort()
    .map((key) => `${key}=${params[key]}`)
    .join('&');
  return createSign('RSA-SHA256').update(content, 'utf8').sign(privateKey, 'base64');
}

/** POSTs params to the gateway as a form and returns the raw answer text and headers. */
export async function postGateway(
  sandbox: AlipaySandbox,
  params: Record<string, string>,
): Promise<{ text: string; json: Record<string, unknown>; headers: Headers }> {
  const response = await fetch(sandbox.gatewayUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded;charset=utf-8' },
    body: new URLSearchParams(params).toString(),
  });
  const text = await response.text();
  return { text, json: JSON.parse(text) as Record<string, unknown>, headers: response.headers };
}

export function commonParams(appId: string, method: string): Record<string, string> {
  return {
    app_id: appId,
    method,
    charset: 'utf-8',
    sign_type: 'RSA2',
    timestamp: beijingNow(),
    version: '1.0',
  };
}
