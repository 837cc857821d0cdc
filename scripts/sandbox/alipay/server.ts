import type { AddressInfo } from 'node:net';
import http from 'node:http';
import Koa from 'koa';
import { API_TABLE } from './apis/index.js';
import { AUTH_PAGE_PATH, appToAppAuthPage } from './auth-page/app-to-app-auth.js';
import { BillDownloads } from './bill/bill-downloads.js';
import { billDownloadMiddleware } from './bill/bill-route.js';
import { SandboxClock } from './clock.js';
import type { SandboxContext, SandboxSettings } from './context.js';
import type { ResetRequest } from './control-types.js';
import { controlRouter, qrScanHandler, QR_SCAN_PATH } from './control/routes.js';
import { registerApp } from './domain/apps.js';
import { FaultBook } from './faults.js';
import { gatewayHandler } from './gateway/gateway.js';
import { loadAlipayKeyPair } from './keys.js';
import { createSandboxLogger, type SandboxLogger } from './logger.js';
import { Notifier } from './notify/notifier.js';
import { SandboxState } from './state/store.js';
import type { IdMode } from './state/types.js';
import { TimerRegistry } from './timers.js';
import { keepSandboxState } from '../snapshot.js';

export type { SandboxLogger } from './logger.js';
export type { IdMode } from './state/types.js';

export interface AlipaySandboxApp {
  appId: string;
  /** The app's RSA2 public key (PEM or bare base64). */
  publicKey: string;
  idMode?: IdMode;
  name?: string;
  /** 应用网关: where open_app_auth_notify and subscribed messages go. */
  appGatewayUrl?: string;
  /** Subscribed message topics, e.g. ['alipay.open.auth.appauth.cancelled']. */
  messageTopics?: string[];
  /** 授权回调地址: when set, authorization links must use exactly this redirect_uri. */
  authRedirectUri?: string;
}

export interface AlipaySandboxOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** The sandbox's "Alipay" private key (PEM, PKCS1 or PKCS8); a fresh 2048-bit key when absent. */
  alipayPrivateKey?: string;
  /**
   * Size of a generated key (default 2048, like Alipay's). Each answer and notification costs one RSA signature
   * (about 1 ms at 2048 bits, about 0.15 ms at 1024): load tests on small machines may trade fidelity for CPU.
   */
  alipayKeyBits?: 1024 | 2048 | 3072 | 4096;
  apps?: AlipaySandboxApp[];
  /** How much faster than real time notification retries run: 1000 → the 4-minute retry after 240 ms. Default 1. */
  notifyTimeScale?: number;
  /** Give up on one notification attempt after this long (real ms). Default 15000. */
  notifyAttemptTimeoutMs?: number;
  /** Derives open_ids; pass the same value across restarts to keep every user's open_id. */
  openIdSecret?: Buffer;
  /** Rule overrides; see SandboxSettings. */
  settings?: Partial<SandboxSettings>;
  /** Defaults to a winston JSON logger at LOG_LEVEL (default `warn`). */
  logger?: SandboxLogger;
  /**
   * Keep users, apps, merchants, tokens, trades, agreements, the notification history and the clock in
   * this file across restarts (scripts/sandbox/snapshot.ts). Notifications still being retried at a
   * restart are not sent again: the platform's sweeps find those trades, as with a real lost notification.
   */
  stateFile?: string;
}

export interface AlipaySandbox {
  /** http://host:port */
  readonly url: string;
  /** `${url}/gateway.do`: alipay-sdk's `gateway` option. */
  readonly gatewayUrl: string;
  /** `${url}/control`: base of the control API. */
  readonly controlUrl: string;
  /** SPKI PEM: alipay-sdk's `alipayPublicKey` option. */
  readonly alipayPublicKey: string;
  /** The private key in use (PKCS8 PEM), so a launcher can persist a generated one. */
  readonly alipayPrivateKey: string;
  /** The sandbox's books, for in-process tools that need volumes no HTTP driver reaches (bench:reconcile). */
  readonly context: SandboxContext;
  readonly port: number;
  /** Stops the server, drops open connections and every pending notification or timer. */
  close(): Promise<void>;
}

const DAY_MS = 86_400_000;
const GATEWAY_PATH = '/gateway.do';
/** `/gateway.do` with or without a query, spelled so that Koa (parseurl) reads the same path and query. */
const GATEWAY_URL = /^\/gateway\.do(?:\?[^#\s]*)?$/;

export const DEFAULT_SETTINGS: SandboxSettings = {
  refundWindowMs: 365 * DAY_MS,
  cancelWindowMs: DAY_MS,
  userAuthCodeTtlMs: 10 * 60_000,
  paymentCodeTtlMs: 10 * DAY_MS,
  campusCodePayableMs: 10 * DAY_MS,
  billUrlTtlMs: 30_000,
  billReadyHourBeijing: 9,
  billFeePermille: 6,
};

/** Starts the Alipay gateway sandbox (issue 3, DESIGN §8) in this process. */
export async function startAlipaySandbox(options: AlipaySandboxOptions = {}): Promise<AlipaySandbox> {
  const logger = options.logger ?? createSandboxLogger();
  const keys = loadAlipayKeyPair(options.alipayPrivateKey, options.alipayKeyBits);
  const clock = new SandboxClock();
  const faults = new FaultBook();
  const timers = new TimerRegistry();
  const notifier = new Notifier({
    privateKey: keys.privateKey,
    clock,
    faults,
    timers,
    logger,
    timeScale: options.notifyTimeScale ?? 1,
    attemptTimeoutMs: options.notifyAttemptTimeoutMs ?? 15_000,
  });
  let baseUrl = '';
  const sandbox: SandboxContext = {
    state: new SandboxState(options.openIdSecret),
    settings: { ...DEFAULT_SETTINGS, ...options.settings },
    clock,
    keys,
    notifier,
    faults,
    timers,
    logger,
    bills: new BillDownloads(clock),
    baseUrl: () => baseUrl,
  };
  const snapshot = options.stateFile
    ? keepSandboxState(options.stateFile, {
        state: { live: sandbox.state },
        notifications: { live: notifier, fields: ['records'] },
        clock: { live: clock },
      })
    : undefined;
  // Apps given at start win over saved ones (a new key), keeping the saved merchant and its books.
  for (const app of options.apps ?? []) registerApp(sandbox, app);

  const reset = (request: ResetRequest) => {
    sandbox.state.reset(!request.apps);
    sandbox.faults.clear();
    sandbox.timers.clearPending();
    sandbox.notifier.reset();
    sandbox.bills.reset();
    sandbox.clock.reset();
  };

  const app = new Koa();
  app.silent = true;
  app.on('error', (error: Error) => logger.error('alipay sandbox request failed', { error: error.message }));
  const gateway = gatewayHandler(sandbox, API_TABLE);
  const scan = qrScanHandler(sandbox);
  const bills = billDownloadMiddleware(sandbox);
  const control = controlRouter(sandbox, reset);
  const authPage = appToAppAuthPage(sandbox);
  app.use(async (koa, next) => {
    if (koa.path === '/gateway.do' && (koa.method === 'POST' || koa.method === 'GET')) {
      koa.respond = false;
      return gateway(koa.req, koa.res, koa.querystring);
    }
    if (koa.path === '/downloadBillFile.resource' && koa.method === 'GET') return bills(koa, next);
    if (koa.path === AUTH_PAGE_PATH && (koa.method === 'GET' || koa.method === 'POST'))
      return authPage(koa, next);
    await next();
    if (koa.status === 404 && koa.body === undefined) {
      koa.body = { error: { code: 'NOT_FOUND', message: `${koa.method} ${koa.path}: see docs/sandbox.md` } };
      koa.status = 404;
    }
  });
  app.use(control.routes());
  app.use(control.allowedMethods());

  const handle = app.callback();
  const server = http.createServer((req, res) => {
    snapshot?.markDirty();
    // The two routes of every terminal order skip Koa (http-answers.ts); odd spellings of them still reach
    // the same handlers through Koa (a `#`, a trailing slash, another case).
    const url = req.url ?? '';
    if (req.method === 'POST' && url === QR_SCAN_PATH) return void scan(req, res);
    if ((req.method === 'POST' || req.method === 'GET') && GATEWAY_URL.test(url))
      return void gateway(
        req,
        res,
        url.length > GATEWAY_PATH.length ? url.slice(GATEWAY_PATH.length + 1) : '',
      );
    return handle(req, res);
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  baseUrl = `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${address.port}`;
  logger.info('alipay sandbox listening', { url: baseUrl });

  let closing: Promise<void> | undefined;
  return {
    url: baseUrl,
    gatewayUrl: `${baseUrl}/gateway.do`,
    controlUrl: `${baseUrl}/control`,
    alipayPublicKey: keys.publicKeyPem,
    alipayPrivateKey: keys.privateKeyPem,
    context: sandbox,
    port: address.port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        snapshot?.close();
        timers.close();
        notifier.close();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
