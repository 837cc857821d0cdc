import type { IncomingMessage, ServerResponse } from 'node:http';
import Router from '@koa/router';
import Joi from 'joi';
import type { SandboxContext } from '../context.js';
import type {
  AdvanceClockRequest,
  AppSettingsRequest,
  CancelAuthorizationRequest,
  AuthCodeRequest,
  AuthScope,
  CreateUserRequest,
  FaultView,
  MerchantAuthorizationRequest,
  PayTradeRequest,
  ScanQrRequest,
  ScanQrResult,
  CreateMerchantRequest,
  PaymentCodeRequest,
  CampusCodeRequest,
  CampusCodeView,
  RegisterAppRequest,
  ResetRequest,
  MessageTemplateRequest,
  SharedInfoRequest,
  SignAgreementRequest,
  BillCorruptionRequest,
  SubscribeRequest,
} from '../control-types.js';
import type { ApiFaultRule, ApiFaultSpec, NotifyFaultRule, NotifyFaultSpec } from '../faults.js';
import { endJson, endUnexpected } from '../http-answers.js';
import { createMerchant, createUser } from '../domain/accounts.js';
import { scanQrCode } from '../domain/precreate.js';
import { cancelAuthorization } from '../domain/app-auth-tokens.js';
import { authorizeMerchant, configureApp, registerApp } from '../domain/apps.js';
import { issuePaymentCode, issueUserAuthCode, payAsBuyer } from '../domain/cashier.js';
import { isEncodable, isPlausibleMadeAt, issueCampusCode } from '../domain/campus-codes.js';
import { signFromSignStr, unsignAgreement } from '../domain/agreements.js';
import { subscribe } from '../domain/messages.js';
import type { Trade, User } from '../state/types.js';
import { newTradeNo, randomHex } from '../ids.js';
import {
  accountView,
  agreementView,
  appView,
  clockView,
  ledgerFilterOf,
  ledgerView,
  notificationsView,
  userView,
} from './views.js';

/** A control-route failure, answered as `{error:{code,message}}` with this HTTP status. */
class ControlError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const MAX_BODY_BYTES = 1024 * 1024;

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES)
      throw new ControlError(413, 'BODY_TOO_LARGE', 'control bodies are limited to 1 MB');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (!text) return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new ControlError(400, 'INVALID_JSON', 'the body is not JSON');
  }
}

async function body<T>(req: IncomingMessage, schema: Joi.ObjectSchema<T>): Promise<T> {
  return validated(await readJson(req), schema);
}

function validated<T>(input: unknown, schema: Joi.ObjectSchema<T>): T {
  const { value, error } = schema.validate(input, { abortEarly: true, convert: true });
  if (error) throw new ControlError(400, 'VALIDATION_FAILED', error.message);
  return value;
}

/** The answer to a failed control route, as the router answers it; undefined: not ours, a 500. */
function controlErrorAnswer(error: unknown): { status: number; body: unknown } | undefined {
  if (error instanceof ControlError) {
    return { status: error.status, body: { error: { code: error.code, message: error.message } } };
  }
  if (error instanceof TypeError && /key|PEM|DECODER/i.test(error.message)) {
    return { status: 400, body: { error: { code: 'INVALID_KEY', message: error.message } } };
  }
  return undefined;
}

const idMode = Joi.string().valid('open_id', 'user_id', 'both');
const scope = Joi.string().valid('auth_base', 'auth_user');
const fen = Joi.number().integer().min(0).max(Number.MAX_SAFE_INTEGER);
const selector = {
  times: Joi.number().integer().min(1),
  rate: Joi.number().min(0).max(1),
  seed: Joi.number().integer(),
};

const appSettings = {
  appGatewayUrl: Joi.string()
    .uri({ scheme: ['http', 'https'] })
    .allow(''),
  messageTopics: Joi.array()
    .items(Joi.string().pattern(/^[a-z.]+$/))
    .max(50),
  authRedirectUri: Joi.string()
    .uri({ scheme: ['http', 'https'] })
    .allow(''),
};

const schemas = {
  registerApp: Joi.object<RegisterAppRequest>({
    appId: Joi.string().pattern(/^\d{16}$/),
    publicKey: Joi.string().required(),
    idMode,
    name: Joi.string().max(64),
    ...appSettings,
  }),
  appSettings: Joi.object<AppSettingsRequest>(appSettings),
  cancelAuthorization: Joi.object<CancelAuthorizationRequest>({
    isvAppId: Joi.string().required(),
    authAppId: Joi.string().required(),
  }),
  merchantAuthorization: Joi.object<MerchantAuthorizationRequest>({
    isvAppId: Joi.string().required(),
    merchantAppId: Joi.string().pattern(/^\d{16}$/),
    merchantName: Joi.string().max(64),
    ttlSeconds: Joi.number().integer().min(1),
  }),
  createUser: Joi.object<CreateUserRequest>({
    balanceFen: fen,
    userId: Joi.string().pattern(/^2088\d{12}$/, 'user_id'),
    logonId: Joi.string().max(100),
    nickName: Joi.string().max(64),
    avatar: Joi.string().uri(),
    gender: Joi.string().valid('F', 'M'),
    province: Joi.string().max(32),
    city: Joi.string().max(32),
    certNo: Joi.string().pattern(/^\d{17}[\dX]$/, 'resident ID number'),
    mobile: Joi.string().pattern(/^1\d{10}$/, 'mobile number'),
  }),
  sharedInfo: Joi.object<SharedInfoRequest>({ certNo: Joi.boolean(), mobile: Joi.boolean() }),
  messageTemplate: Joi.object<MessageTemplateRequest>({
    templateId: Joi.string().min(1).max(64).required(),
    keywords: Joi.number().integer().min(1).max(20).required(),
    longTerm: Joi.boolean(),
  }),
  subscribe: Joi.object<SubscribeRequest>({
    userId: Joi.string().required(),
    templateIds: Joi.array().items(Joi.string().max(64)).min(1).max(3).required(),
    answer: Joi.string().valid('accept', 'reject'),
  }),
  balance: Joi.object<{ balanceFen: number }>({ balanceFen: fen.required() }),
  authCode: Joi.object<AuthCodeRequest>({
    userId: Joi.string().required(),
    appId: Joi.string().required(),
    scopes: Joi.alternatives(scope, Joi.array().items(scope).min(1)),
    ttlSeconds: Joi.number().integer().min(1),
  }),
  paymentCode: Joi.object<PaymentCodeRequest>({
    userId: Joi.string().required(),
    ttlSeconds: Joi.number().integer().min(1),
  }),
  campusCode: Joi.object<CampusCodeRequest>({
    userId: Joi.string().required(),
    schoolCode: Joi.string()
      .pattern(/^\d{10}$/, 'national school code')
      .required(),
    studentNo: Joi.string()
      .pattern(/^[\x21-\x7e]{1,32}$/, 'printable ASCII')
      .required(),
    studentName: Joi.string().min(1).max(32).required(),
    templateId: Joi.number().valid(4, 5),
    encodeType: Joi.string().valid('GB2312', 'UTF-8'),
    identifyId: Joi.string().pattern(/^[\x21-\x7e]{1,64}$/, 'printable ASCII'),
    cardType: Joi.number().integer().min(0).max(15),
    madeAt: Joi.date().iso(),
  }),
  payTrade: Joi.object<PayTradeRequest>({
    tradeNO: Joi.string().required(),
    userId: Joi.string(),
    openId: Joi.string(),
    action: Joi.string().valid('pay', 'cancel', 'fail'),
    reportResultCode: Joi.string().pattern(/^\d+$/),
  }).xor('userId', 'openId'),
  scanQr: Joi.object<ScanQrRequest>({
    qrCode: Joi.string().max(256).required(),
    userId: Joi.string(),
    openId: Joi.string(),
    action: Joi.string().valid('pay', 'cancel', 'fail'),
  }).xor('userId', 'openId'),
  createMerchant: Joi.object<CreateMerchantRequest>({ name: Joi.string().max(64) }),
  signAgreement: Joi.object<SignAgreementRequest>({
    signStr: Joi.string().required(),
    userId: Joi.string().required(),
    action: Joi.string().valid('sign', 'cancel', 'deny'),
  }),
  apiFault: Joi.object<ApiFaultSpec>({
    method: Joi.string().required(),
    ...selector,
    latencyMs: Joi.number().integer().min(0),
    error: Joi.object({
      code: Joi.string().pattern(/^\d{5}$/),
      msg: Joi.string(),
      subCode: Joi.string().required(),
      subMsg: Joi.string(),
    }),
    hangMs: Joi.number().integer().min(0),
    applyEffect: Joi.boolean(),
    payInProcess: Joi.object({
      completeAfterMs: Joi.number().integer().min(0),
      outcome: Joi.string().valid('success', 'close'),
    }),
  }).or('latencyMs', 'error', 'hangMs', 'payInProcess'),
  notifyFault: Joi.object<NotifyFaultSpec>({
    notifyType: Joi.string(),
    action: Joi.string().valid('duplicate', 'reorder', 'delay', 'drop', 'tamper').required(),
    ...selector,
    copies: Joi.number().integer().min(2).max(20),
    delayMs: Joi.number().integer().min(0),
    holdMs: Joi.number().integer().min(0),
    attempts: Joi.number().integer().min(1),
  }),
  advanceClock: Joi.object<AdvanceClockRequest>({
    ms: Joi.number().min(0),
    seconds: Joi.number().min(0),
    minutes: Joi.number().min(0),
    hours: Joi.number().min(0),
    days: Joi.number().min(0),
  }),
  reset: Joi.object<ResetRequest>({ apps: Joi.boolean() }),
  benchTrades: Joi.object<{
    sellerId: string;
    count: number;
    prefix: string;
    amountFen: number;
    subject: string;
  }>({
    sellerId: Joi.string().required(),
    count: Joi.number().integer().min(1).max(1_000_000).required(),
    prefix: Joi.string()
      .pattern(/^[A-Za-z0-9]{1,40}$/)
      .required(),
    amountFen: fen.min(1).required(),
    subject: Joi.string().max(128).required(),
  }),
  billCorruption: Joi.object<BillCorruptionRequest>({
    sellerId: Joi.string()
      .pattern(/^2088\d{12}$/, 'merchant PID')
      .required(),
    billDate: Joi.string()
      .pattern(/^\d{4}-\d{2}-\d{2}$/, 'yyyy-MM-dd')
      .required(),
    kind: Joi.string().valid('DROP', 'AMOUNT', 'ROYALTY', 'STRANGER').required(),
    // A stranger's refund (outRequestNo) is of a named trade.
    outTradeNo: Joi.string()
      .max(64)
      .when('kind', { not: 'STRANGER', then: Joi.required() })
      .when('outRequestNo', { is: Joi.exist(), then: Joi.required() }),
    outRequestNo: Joi.string().max(64),
    amountFen: Joi.when('kind', {
      switch: [
        { is: 'AMOUNT', then: fen.min(1).required() },
        { is: 'ROYALTY', then: fen.min(0).required() },
      ],
      otherwise: fen.min(1),
    }),
  }),
};

function faultView(rule: ApiFaultRule | NotifyFaultRule, kind: 'api' | 'notify'): FaultView {
  const { id, remaining, hits, random: _random, ...spec } = rule;
  return { id, kind, spec, ...(remaining === undefined ? {} : { remaining }), hits };
}

function findUser(sandbox: SandboxContext, userId: string): User {
  const user = sandbox.state.users.get(userId);
  if (!user) throw new ControlError(404, 'USER_NOT_FOUND', `no user ${userId}`);
  return user;
}

/** The buyer scans a precreate QR code with the Alipay app and pays (domain/precreate.ts). */
function scanAsBuyer(sandbox: SandboxContext, request: ScanQrRequest): ScanQrResult {
  const userId = request.userId ?? sandbox.state.openIds.get(request.openId ?? '')?.userId;
  if (!userId) throw new ControlError(404, 'USER_NOT_FOUND', `no user with open_id ${request.openId}`);
  return scanQrCode(sandbox, {
    qrCode: request.qrCode,
    user: findUser(sandbox, userId),
    action: request.action ?? 'pay',
  });
}

const SCAN_FIELDS: ReadonlySet<string> = new Set(['qrCode', 'userId', 'openId', 'action']);
const SCAN_ACTIONS: ReadonlySet<unknown> = new Set(['pay', 'cancel', 'fail']);

function isFilledText(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}

/**
 * A parsed scan body that `schemas.scanQr` accepts unchanged (only its own fields; `qrCode` 1–256 characters;
 * exactly one of `userId` / `openId`, not empty; a known `action` or none), checked without joi: every terminal
 * order makes one scan. Anything else, valid or not, goes through joi, which answers its own messages.
 */
function plainScanRequest(input: unknown): ScanQrRequest | undefined {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return undefined;
  for (const key of Object.keys(input)) if (!SCAN_FIELDS.has(key)) return undefined;
  const request = input as Record<string, unknown>;
  const { qrCode, userId, openId, action } = request;
  if (!isFilledText(qrCode) || qrCode.length > 256) return undefined;
  if (userId === undefined ? !isFilledText(openId) : !isFilledText(userId) || openId !== undefined)
    return undefined;
  if (action !== undefined && !SCAN_ACTIONS.has(action)) return undefined;
  return request as unknown as ScanQrRequest;
}

export const QR_SCAN_PATH = '/control/qr-codes/scan';

/**
 * POST /control/qr-codes/scan on node:http (http-answers.ts), answered as the router answers it. Never
 * rejects.
 */
export function qrScanHandler(
  sandbox: SandboxContext,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    try {
      const input = await readJson(req);
      endJson(res, 200, scanAsBuyer(sandbox, plainScanRequest(input) ?? validated(input, schemas.scanQr)));
    } catch (error) {
      const answer = controlErrorAnswer(error);
      if (answer) endJson(res, answer.status, answer.body);
      else endUnexpected(sandbox.logger, res, error);
    }
  };
}

/** The control API (docs/sandbox.md): stands in for the Alipay app and lets tests steer the sandbox. */
export function controlRouter(
  sandbox: SandboxContext,
  resetSandbox: (request: ResetRequest) => void,
): Router {
  const { state } = sandbox;
  const router = new Router({ prefix: '/control' });

  const userOr404 = (userId: string): User => findUser(sandbox, userId);

  router.use(async (koa, next) => {
    try {
      await next();
    } catch (error) {
      const answer = controlErrorAnswer(error);
      if (!answer) throw error;
      koa.status = answer.status;
      koa.body = answer.body;
    }
  });

  router.get('/health', (koa) => {
    koa.body = { ok: true, url: sandbox.baseUrl(), alipayPublicKey: sandbox.keys.publicKeyPem };
  });

  router.get('/apps', (koa) => {
    koa.body = [...state.apps.values()].map(appView);
  });

  router.post('/apps', async (koa) => {
    const request = await body(koa.req, schemas.registerApp);
    try {
      koa.body = appView(registerApp(sandbox, request));
    } catch (error) {
      throw new ControlError(
        400,
        'INVALID_KEY',
        `publicKey is not a usable RSA public key: ${String(error)}`,
      );
    }
  });

  router.patch('/apps/:appId', async (koa) => {
    const app = state.apps.get(koa.params.appId);
    if (!app) throw new ControlError(404, 'APP_NOT_FOUND', `no app ${koa.params.appId}`);
    koa.body = appView(configureApp(app, await body(koa.req, schemas.appSettings)));
  });

  router.post('/merchant-authorizations/cancel', async (koa) => {
    const request = await body(koa.req, schemas.cancelAuthorization);
    const result = cancelAuthorization(sandbox, request);
    if (!result)
      throw new ControlError(
        404,
        'AUTHORIZATION_NOT_FOUND',
        `no app ${request.isvAppId} or merchant ${request.authAppId}`,
      );
    koa.body = result;
  });

  router.post('/merchant-authorizations', async (koa) => {
    const request = await body(koa.req, schemas.merchantAuthorization);
    if (!state.apps.has(request.isvAppId))
      throw new ControlError(404, 'APP_NOT_FOUND', `no app ${request.isvAppId}`);
    const authorization = authorizeMerchant(sandbox, {
      isvAppId: request.isvAppId,
      merchantAppId: request.merchantAppId,
      merchantName: request.merchantName,
      ttlMs: (request.ttlSeconds ?? 600) * 1000,
    });
    koa.body = {
      appAuthCode: authorization.appAuthCode,
      isvAppId: authorization.isvAppId,
      authAppId: authorization.merchant.appId,
      sellerId: authorization.merchant.pid,
      merchantName: authorization.merchant.name,
      expiresAt: authorization.codeExpiresAt.toISOString(),
    };
  });

  router.post('/users', async (koa) => {
    const request = await body(koa.req, schemas.createUser);
    if (request.userId && sandbox.state.users.has(request.userId)) {
      throw new ControlError(409, 'USER_EXISTS', `user ${request.userId} exists`);
    }
    koa.body = userView(sandbox, createUser(sandbox, request));
  });

  router.get('/users/:userId', (koa) => {
    koa.body = userView(sandbox, userOr404(koa.params.userId));
  });

  router.put('/users/:userId/balance', async (koa) => {
    const user = userOr404(koa.params.userId);
    user.balanceFen = (await body(koa.req, schemas.balance)).balanceFen;
    koa.body = userView(sandbox, user);
  });

  router.put('/users/:userId/shared-info', async (koa) => {
    const user = userOr404(koa.params.userId);
    const request = await body(koa.req, schemas.sharedInfo);
    user.shares = {
      certNo: request.certNo ?? user.shares?.certNo ?? false,
      mobile: request.mobile ?? user.shares?.mobile ?? false,
    };
    koa.body = userView(sandbox, user);
  });

  router.post('/auth-codes', async (koa) => {
    const request = await body(koa.req, schemas.authCode);
    const user = userOr404(request.userId);
    const app = state.apps.get(request.appId);
    if (!app) throw new ControlError(404, 'APP_NOT_FOUND', `no app ${request.appId}`);
    const scopes: AuthScope[] = Array.isArray(request.scopes)
      ? request.scopes
      : [request.scopes ?? 'auth_base'];
    const ttlMs = request.ttlSeconds ? request.ttlSeconds * 1000 : sandbox.settings.userAuthCodeTtlMs;
    const code = issueUserAuthCode(sandbox, user, app, scopes, ttlMs);
    koa.body = {
      authCode: code.code,
      authSuccessScopes: code.scopes,
      expiresAt: code.expiresAt.toISOString(),
    };
  });

  router.post('/payment-codes', async (koa) => {
    const request = await body(koa.req, schemas.paymentCode);
    const user = userOr404(request.userId);
    const ttlMs = request.ttlSeconds ? request.ttlSeconds * 1000 : sandbox.settings.paymentCodeTtlMs;
    const code = issuePaymentCode(sandbox, user, ttlMs);
    koa.body = { authCode: code.authCode, userId: code.userId, expiresAt: code.expiresAt.toISOString() };
  });

  router.post('/campus-codes', async (koa) => {
    const request = await body(koa.req, schemas.campusCode);
    const user = userOr404(request.userId);
    if (!isEncodable(request.studentName, request.encodeType ?? 'GB2312'))
      throw new ControlError(
        400,
        'VALIDATION_FAILED',
        `studentName cannot be written in ${request.encodeType ?? 'GB2312'}`,
      );
    const madeAt = request.madeAt === undefined ? undefined : new Date(request.madeAt);
    if (madeAt && !isPlausibleMadeAt(sandbox.clock.now(), madeAt))
      throw new ControlError(400, 'VALIDATION_FAILED', 'madeAt must lie within the last 30 days');
    const { code, encoded } = issueCampusCode(
      sandbox,
      user,
      {
        schoolCode: request.schoolCode,
        studentNo: request.studentNo,
        studentName: request.studentName,
        identifyId: request.identifyId ?? `E${request.studentNo}`,
        cardType: request.cardType,
      },
      { templateId: request.templateId ?? 4, encodeType: request.encodeType ?? 'GB2312', madeAt },
    );
    koa.body = {
      userId: user.userId,
      finalData: code.finalData,
      userData: encoded.userData.toString('base64'),
      templateId: encoded.templateId,
      templateIdBytes: encoded.templateIdBytes.toString('base64'),
      encodeType: encoded.encodeType,
      inUseTime: encoded.inUseTime,
      inUseTimeBytes: encoded.inUseTimeBytes.toString('base64'),
      expiresAt: code.expiresAt.toISOString(),
    } satisfies CampusCodeView;
  });

  router.post('/trades/pay', async (koa) => {
    const request = await body(koa.req, schemas.payTrade);
    const userId = request.userId ?? state.openIds.get(request.openId ?? '')?.userId;
    if (!userId) throw new ControlError(404, 'USER_NOT_FOUND', `no user with open_id ${request.openId}`);
    koa.body = payAsBuyer(sandbox, {
      tradeNo: request.tradeNO,
      user: userOr404(userId),
      action: request.action ?? 'pay',
      reportResultCode: request.reportResultCode,
    });
  });

  router.post('/qr-codes/scan', async (koa) => {
    koa.body = scanAsBuyer(sandbox, await body(koa.req, schemas.scanQr));
  });

  router.post('/merchants', async (koa) => {
    const request = await body(koa.req, schemas.createMerchant);
    const merchant = createMerchant(sandbox, { name: request.name });
    koa.body = accountView(sandbox, merchant.pid);
  });

  router.get('/accounts/:accountId', (koa) => {
    const view = accountView(sandbox, koa.params.accountId);
    if (!view)
      throw new ControlError(404, 'ACCOUNT_NOT_FOUND', `no user or merchant ${koa.params.accountId}`);
    koa.body = view;
  });

  router.post('/agreements/sign', async (koa) => {
    const request = await body(koa.req, schemas.signAgreement);
    const result = signFromSignStr(
      sandbox,
      request.signStr,
      userOr404(request.userId),
      request.action ?? 'sign',
    );
    if (result.memo) sandbox.logger.warn('signStr refused', { memo: result.memo });
    koa.body = result;
  });

  router.post('/agreements/:agreementNo/unsign', (koa) => {
    const agreement = state.agreements.get(koa.params.agreementNo);
    if (!agreement)
      throw new ControlError(404, 'AGREEMENT_NOT_FOUND', `no agreement ${koa.params.agreementNo}`);
    if (agreement.status !== 'NORMAL')
      throw new ControlError(409, 'AGREEMENT_NOT_NORMAL', 'already unsigned');
    unsignAgreement(sandbox, agreement, agreement.notifyUrl);
    koa.body = { agreementNo: agreement.agreementNo, status: agreement.status };
  });

  router.get('/agreements/:agreementNo', (koa) => {
    const agreement = state.agreements.get(koa.params.agreementNo);
    if (!agreement)
      throw new ControlError(404, 'AGREEMENT_NOT_FOUND', `no agreement ${koa.params.agreementNo}`);
    koa.body = agreementView(agreement);
  });

  router.post('/message-templates', async (koa) => {
    const request = await body(koa.req, schemas.messageTemplate);
    state.messageTemplates.set(request.templateId, {
      templateId: request.templateId,
      keywords: request.keywords,
      longTerm: request.longTerm ?? false,
    });
    koa.body = state.messageTemplates.get(request.templateId);
  });

  // my.requestSubscribeMessage: the user's answer to the consent sheet (at most 3 templates per call).
  router.post('/message-subscriptions', async (koa) => {
    const request = await body(koa.req, schemas.subscribe);
    koa.body = subscribe(sandbox, userOr404(request.userId), request.templateIds, request.answer ?? 'accept');
  });

  router.get('/messages', (koa) => {
    const userId = typeof koa.query.userId === 'string' ? koa.query.userId : undefined;
    koa.body = state.sentMessages
      .filter((m) => !userId || m.userId === userId)
      .map((m) => ({
        ...m,
        data: Object.fromEntries(Object.entries(m.data).map(([k, v]) => [k, String(v?.value ?? '')])),
        sentAt: m.sentAt.toISOString(),
      }));
  });

  router.get('/faults', (koa) => {
    const { api, notify } = sandbox.faults.list();
    koa.body = [...api.map((r) => faultView(r, 'api')), ...notify.map((r) => faultView(r, 'notify'))];
  });

  router.post('/faults/api', async (koa) => {
    koa.body = faultView(sandbox.faults.addApiFault(await body(koa.req, schemas.apiFault)), 'api');
  });

  router.post('/faults/notify', async (koa) => {
    koa.body = faultView(sandbox.faults.addNotifyFault(await body(koa.req, schemas.notifyFault)), 'notify');
  });

  router.delete('/faults/:id', (koa) => {
    if (!sandbox.faults.remove(koa.params.id))
      throw new ControlError(404, 'FAULT_NOT_FOUND', 'no such fault');
    koa.status = 204;
  });

  router.delete('/faults', (koa) => {
    sandbox.faults.clear();
    koa.status = 204;
  });

  router.get('/clock', (koa) => {
    koa.body = clockView(sandbox);
  });

  router.post('/clock/advance', async (koa) => {
    const r = await body(koa.req, schemas.advanceClock);
    const ms =
      (r.ms ?? 0) +
      (r.seconds ?? 0) * 1000 +
      (r.minutes ?? 0) * 60_000 +
      (r.hours ?? 0) * 3_600_000 +
      (r.days ?? 0) * 86_400_000;
    sandbox.clock.advance(ms);
    koa.body = clockView(sandbox);
  });

  router.get('/ledger', (koa) => {
    koa.body = ledgerView(sandbox, ledgerFilterOf(koa.query));
  });

  router.get('/notifications', (koa) => {
    koa.body = notificationsView(sandbox, ledgerFilterOf(koa.query));
  });

  // Bill faults (reconciliation tests): applied whenever that merchant's bill of that day is served.
  router.post('/bills/corruptions', async (koa) => {
    const request = await body(koa.req, schemas.billCorruption);
    if (!state.merchants.has(request.sellerId))
      throw new ControlError(404, 'MERCHANT_NOT_FOUND', `no merchant ${request.sellerId}`);
    const { sellerId, ...rest } = request;
    const corruption = { id: randomHex(8), sellerPid: sellerId, ...rest };
    state.billCorruptions.push(corruption);
    koa.status = 201;
    koa.body = corruption;
  });

  router.get('/bills/corruptions', (koa) => {
    koa.body = state.billCorruptions;
  });

  router.delete('/bills/corruptions', (koa) => {
    state.billCorruptions.length = 0;
    koa.status = 204;
  });

  // Benchmarks (bench:reconcile): a day's worth of paid trades for one merchant without driving each one
  // through the gateway; they show in its bills like any other.
  router.post('/bench/paid-trades', async (koa) => {
    const request = await body(koa.req, schemas.benchTrades);
    const merchant = state.merchants.get(request.sellerId);
    if (!merchant) throw new ControlError(404, 'MERCHANT_NOT_FOUND', `no merchant ${request.sellerId}`);
    const app = [...state.apps.values()][0];
    const at = sandbox.clock.now();
    for (let i = 0; i < request.count; i += 1) {
      const outTradeNo = `${request.prefix}${String(i).padStart(10, '0')}`;
      const trade: Trade = {
        tradeNo: newTradeNo(at),
        outTradeNo,
        appId: app?.appId ?? merchant.appId,
        merchant,
        seller: merchant,
        openIdAppId: app?.appId ?? merchant.appId,
        createdBy: 'alipay.trade.pay',
        productCode: 'GENERAL_WITHHOLDING',
        totalFen: request.amountFen + (i % 100),
        subject: request.subject,
        status: 'TRADE_SUCCESS',
        createdAt: at,
        paidAt: at,
        refundedFen: 0,
        refunds: new Map(),
        settlements: [],
        settledFen: 0,
        allocationFinished: false,
      };
      state.tradesByNo.set(trade.tradeNo, trade);
      state.tradesByOutNo.set(state.tradeKey(merchant.pid, outTradeNo), trade);
    }
    koa.status = 201;
    koa.body = { created: request.count };
  });

  router.post('/reset', async (koa) => {
    resetSandbox(await body(koa.req, schemas.reset));
    koa.body = { ok: true };
  });

  return router;
}
