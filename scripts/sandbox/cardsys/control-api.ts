/**
 * The sandbox's control API under /control (docs/sandbox.md): what a test, the dev launcher or a person
 * uses to set up schools and cards, look inside the vendor's books, inject faults and swipe cards.
 */
import Router from '@koa/router';
import Joi from 'joi';
import Koa from 'koa';
import { koaBody } from 'koa-body';
import type {
  CampusCodeScanInput,
  CampusCodeUploadSettings,
  CardView,
  ControlErrorBody,
  CreateCardInput,
  CreateSchoolInput,
  FaultInput,
  PlatformConfigInput,
  RecordView,
  SchoolView,
  SwipeInput,
} from './control-types.js';
import type { FaultBook } from './faults.js';
import {
  SandboxConflict,
  SandboxNotFound,
  type Card,
  type CardLedger,
  type CardRecord,
  type School,
} from './ledger.js';
import type { PosGateway } from './pos-gateway.js';
import type { CampusCodePos } from './campus-code-pos.js';
import type { SoapListener } from './soap-listener.js';
import { CARD_SERVICE_OPERATIONS } from './wsdl.js';

export interface ControlDeps {
  ledger: CardLedger;
  faults: FaultBook;
  soap: SoapListener;
  pos: PosGateway;
  campusCodes: CampusCodePos;
}

class ValidationFailed extends Error {
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
  }
}

const code = Joi.string().pattern(/^[A-Za-z0-9_-]{1,32}$/);
const cardNo = Joi.string().pattern(/^[A-Za-z0-9]{1,32}$/);
const fen = Joi.number().integer().min(0).max(Number.MAX_SAFE_INTEGER);
const ms = (max: number) => Joi.number().integer().min(1).max(max);

const schemas = {
  creditAmount: Joi.object<{ amountFen: number }>({
    amountFen: Joi.number().integer().min(1).max(100_000_000).required(),
  }),
  school: Joi.object<CreateSchoolInput>({
    code: code.required(),
    name: Joi.string().min(1).max(64).required(),
    username: Joi.string().min(1).max(64),
    password: Joi.string().min(1).max(128),
    supportsUnLoss: Joi.boolean(),
  }),
  platform: Joi.object<PlatformConfigInput>({
    baseUrl: Joi.string()
      .uri({ scheme: ['http', 'https'] })
      .required(),
    clientId: Joi.string().min(1).max(64).required(),
    secret: Joi.string().min(1).max(256).required(),
    connectTimeoutMs: ms(60_000),
    readTimeoutMs: ms(120_000),
    maxAttempts: Joi.number().integer().min(1).max(10),
    retryDelayMs: Joi.number().integer().min(0).max(60_000),
    reversalRetryMs: ms(3_600_000),
    reversalRetryMaxMs: ms(86_400_000),
  }),
  card: Joi.object<CreateCardInput>({
    cardNo,
    name: Joi.string().min(1).max(32).required(),
    identity: Joi.string().valid('STUDENT', 'STAFF'),
    status: Joi.string().valid('NORMAL', 'LOST', 'FROZEN'),
    balanceFen: fen,
    studentNo: Joi.string().max(32).allow(null),
  }),
  balance: Joi.object<{ balanceFen: number }>({ balanceFen: fen.required() }),
  status: Joi.object<{ status: Card['status'] }>({
    status: Joi.string().valid('NORMAL', 'LOST', 'FROZEN').required(),
  }),
  fault: Joi.object<FaultInput>({
    schoolCode: code,
    operation: Joi.string().valid('*', ...CARD_SERVICE_OPERATIONS),
    kind: Joi.string().valid('SOAP_FAULT', 'LATENCY', 'HTTP_503', 'HANG', 'RESET').required(),
    times: Joi.number().integer().min(1).max(1_000_000),
    latencyMs: Joi.number()
      .integer()
      .min(1)
      .max(600_000)
      .when('kind', { is: 'LATENCY', then: Joi.required(), otherwise: Joi.forbidden() }),
    faultCode: Joi.string().valid('soap:Server', 'soap:Client'),
    vendorCode: Joi.string().pattern(/^[A-Z_]{1,40}$/),
    // A vendor's fault text can be long (a stack trace): long enough to exercise what we keep of it.
    message: Joi.string().max(2_000),
  }),
  downtime: Joi.object<{ refuseConnections: boolean }>({ refuseConnections: Joi.boolean().required() }),
  scan: Joi.object<CampusCodeScanInput>({
    schoolCode: code.required(),
    terminalId: Joi.string()
      .pattern(/^[A-Za-z0-9_-]{1,32}$/)
      .required(),
    amountFen: fen.min(1).max(2_147_483_647).required(),
    code: Joi.object({
      finalData: Joi.string().base64().required(),
      userData: Joi.string().base64().allow('').required(),
      templateId: Joi.number().integer().min(0).max(4_294_967_295).required(),
      encodeType: Joi.string().max(32).required(),
      inUseTime: Joi.number().integer().min(0).required(),
    })
      .unknown(true)
      .required(),
    txnNo: Joi.string().pattern(/^[A-Za-z0-9_]{1,64}$/),
    scannedAt: Joi.string().isoDate(),
  }),
  uploads: Joi.object<Partial<CampusCodeUploadSettings>>({
    held: Joi.boolean(),
    intervalMs: Joi.number().integer().min(10).max(3_600_000),
    batchSize: Joi.number().integer().min(1).max(500),
  }),
  swipe: Joi.object<SwipeInput>({
    schoolCode: code.required(),
    cardNo,
    dynamicCode: Joi.string().pattern(/^\d{6,32}$/),
    amountFen: fen.min(1).required(),
    terminalId: Joi.string()
      .pattern(/^[A-Za-z0-9_-]{1,32}$/)
      .required(),
    txnNo: Joi.string().pattern(/^[A-Za-z0-9_]{1,64}$/),
    place: Joi.string().min(1).max(64),
    occurredAt: Joi.string().isoDate(),
  }).xor('cardNo', 'dynamicCode'),
};

function valid<T>(schema: Joi.ObjectSchema<T>, body: unknown): T {
  const { value, error } = schema.validate(body ?? {}, { abortEarly: true, convert: false });
  if (error) throw new ValidationFailed(error.message, error.details[0]?.path.join('.') ?? '');
  return value;
}

export function cardView(schoolCode: string, card: Card): CardView {
  return {
    schoolCode,
    cardNo: card.cardNo,
    name: card.name,
    identity: card.identity,
    status: card.status,
    balanceFen: card.balanceFen,
    studentNo: card.studentNo,
    alipayBind: card.bind
      ? {
          alipayUserId: card.bind.alipayUserId,
          password: card.bind.password,
          boundAt: card.bind.boundAt.toISOString(),
        }
      : null,
  };
}

function recordView(record: CardRecord): RecordView {
  return { ...record, occurredAt: record.occurredAt.toISOString() };
}

export function createControlApp(deps: ControlDeps): Koa {
  const { ledger, faults, soap, pos, campusCodes } = deps;
  const schoolView = (school: School): SchoolView => {
    const endpoint = soap.endpointFor(school.code);
    return {
      code: school.code,
      name: school.name,
      endpoint,
      wsdlUrl: `${endpoint}?wsdl`,
      username: school.username,
      password: school.password,
      supportsUnLoss: school.supportsUnLoss,
      platform: pos.platformOf(school.code),
      stats: structuredClone(school.stats),
    };
  };

  const router = new Router({ prefix: '/control' });

  router.get('/health', (ctx) => {
    ctx.body = { ok: true, soapUrl: soap.baseUrl, refuseConnections: soap.isRefusingConnections };
  });

  router.post('/reset', async (ctx) => {
    pos.reset();
    campusCodes.reset();
    faults.clear();
    ledger.reset();
    await soap.setRefusingConnections(false);
    ctx.status = 204;
  });

  router.post('/schools', (ctx) => {
    ctx.status = 201;
    ctx.body = schoolView(ledger.createSchool(valid(schemas.school, ctx.request.body)));
  });
  router.get('/schools', (ctx) => {
    ctx.body = { schools: ledger.listSchools().map(schoolView) };
  });
  router.get('/schools/:code', (ctx) => {
    ctx.body = schoolView(ledger.school(ctx.params.code));
  });
  router.put('/schools/:code/platform', (ctx) => {
    ctx.body = pos.configurePlatform(ctx.params.code, valid(schemas.platform, ctx.request.body));
  });

  router.post('/schools/:code/cards', (ctx) => {
    const card = ledger.createCard(ctx.params.code, valid(schemas.card, ctx.request.body));
    ctx.status = 201;
    ctx.body = cardView(ctx.params.code, card);
  });
  router.get('/schools/:code/cards', (ctx) => {
    ctx.body = {
      cards: [...ledger.school(ctx.params.code).cards.values()].map((c) => cardView(ctx.params.code, c)),
    };
  });
  router.get('/schools/:code/cards/:cardNo', (ctx) => {
    ctx.body = cardView(ctx.params.code, ledger.card(ctx.params.code, ctx.params.cardNo));
  });
  router.put('/schools/:code/cards/:cardNo/balance', (ctx) => {
    const { balanceFen } = valid(schemas.balance, ctx.request.body);
    ctx.body = cardView(ctx.params.code, ledger.setBalance(ctx.params.code, ctx.params.cardNo, balanceFen));
  });
  router.put('/schools/:code/cards/:cardNo/status', (ctx) => {
    const { status } = valid(schemas.status, ctx.request.body);
    ctx.body = cardView(ctx.params.code, ledger.setStatus(ctx.params.code, ctx.params.cardNo, status));
  });
  router.get('/schools/:code/cards/:cardNo/records', (ctx) => {
    const card = ledger.card(ctx.params.code, ctx.params.cardNo);
    ctx.body = {
      records: [...card.records]
        .sort((a, b) => b.occurredAt.getTime() - a.occurredAt.getTime() || b.serial.localeCompare(a.serial))
        .map(recordView),
    };
  });

  // Reconciliation faults: the vendor loses (DROP), doubles (DOUBLE) or misbooks (AMOUNT, {amountFen}) the
  // credit of one flow number.
  router.post('/schools/:code/credits/:flowNo/:how', (ctx) => {
    const how = ctx.params.how.toUpperCase();
    if (how !== 'DROP' && how !== 'DOUBLE' && how !== 'AMOUNT') {
      ctx.status = 404;
      ctx.body = { error: { code: 'NOT_FOUND', message: 'drop, double or amount' } };
      return;
    }
    const amountFen = how === 'AMOUNT' ? valid(schemas.creditAmount, ctx.request.body).amountFen : undefined;
    const card = ledger.tamperCredit(ctx.params.code, ctx.params.flowNo, how, new Date(), amountFen);
    ctx.body = cardView(ctx.params.code, card);
  });

  router.post('/faults', (ctx) => {
    const spec = valid(schemas.fault, ctx.request.body);
    if (spec.schoolCode) ledger.school(spec.schoolCode);
    ctx.status = 201;
    ctx.body = faults.add(spec);
  });
  router.get('/faults', (ctx) => {
    ctx.body = { faults: faults.list() };
  });
  router.delete('/faults', (ctx) => {
    faults.clear();
    ctx.status = 204;
  });
  router.delete('/faults/:id', (ctx) => {
    if (!faults.remove(ctx.params.id)) throw new SandboxNotFound(`no fault ${ctx.params.id}`);
    ctx.status = 204;
  });

  router.get('/downtime', (ctx) => {
    ctx.body = { refuseConnections: soap.isRefusingConnections };
  });
  router.put('/downtime', async (ctx) => {
    const { refuseConnections } = valid(schemas.downtime, ctx.request.body);
    await soap.setRefusingConnections(refuseConnections);
    ctx.body = { refuseConnections: soap.isRefusingConnections };
  });

  router.post('/swipe', async (ctx) => {
    ctx.body = await pos.swipe(valid(schemas.swipe, ctx.request.body));
  });
  router.get('/swipes', (ctx) => {
    const { schoolCode, cardNo } = ctx.query;
    ctx.body = {
      swipes: pos.list({
        schoolCode: typeof schoolCode === 'string' ? schoolCode : undefined,
        cardNo: typeof cardNo === 'string' ? cardNo : undefined,
      }),
    };
  });
  router.get('/swipes/:txnNo', (ctx) => {
    const schoolCode = typeof ctx.query.schoolCode === 'string' ? ctx.query.schoolCode : undefined;
    const found = pos.find(ctx.params.txnNo, schoolCode);
    if (found.length === 0) throw new SandboxNotFound(`no swipe ${ctx.params.txnNo}`);
    if (found.length > 1)
      throw new SandboxConflict(`txnNo ${ctx.params.txnNo} exists in several schools; add ?schoolCode=`);
    ctx.body = found[0];
  });
  // Campus codes (seed 001): a device scans, says "paid" offline and uploads in batches.
  router.post('/scan', (ctx) => {
    ctx.body = campusCodes.scan(valid(schemas.scan, ctx.request.body));
  });
  router.get('/scans', (ctx) => {
    const { schoolCode, terminalId } = ctx.query;
    ctx.body = {
      scans: campusCodes.listScans({
        schoolCode: typeof schoolCode === 'string' ? schoolCode : undefined,
        terminalId: typeof terminalId === 'string' ? terminalId : undefined,
      }),
    };
  });
  router.get('/scans/:txnNo', (ctx) => {
    const schoolCode = typeof ctx.query.schoolCode === 'string' ? ctx.query.schoolCode : undefined;
    const found = campusCodes.findScans(ctx.params.txnNo, schoolCode);
    if (found.length === 0) throw new SandboxNotFound(`no scan ${ctx.params.txnNo}`);
    if (found.length > 1)
      throw new SandboxConflict(`txnNo ${ctx.params.txnNo} exists in several schools; add ?schoolCode=`);
    ctx.body = found[0];
  });
  router.get('/schools/:code/campus-code-uploads', (ctx) => {
    ctx.body = campusCodes.uploadSettings(ctx.params.code);
  });
  router.put('/schools/:code/campus-code-uploads', (ctx) => {
    ctx.body = campusCodes.setUploadSettings(ctx.params.code, valid(schemas.uploads, ctx.request.body));
  });
  router.post('/schools/:code/campus-code-uploads/flush', async (ctx) => {
    ctx.body = { batches: await campusCodes.flush(ctx.params.code) };
  });
  router.get('/campus-code-batches', (ctx) => {
    const schoolCode = typeof ctx.query.schoolCode === 'string' ? ctx.query.schoolCode : undefined;
    ctx.body = { batches: campusCodes.listBatches(schoolCode) };
  });
  router.post('/campus-code-batches/:batchId/resend', async (ctx) => {
    ctx.body = await campusCodes.resend(ctx.params.batchId);
  });

  router.post('/reversals/retry', (ctx) => {
    ctx.body = { started: pos.retryReversalsNow() };
  });

  const app = new Koa();
  app.use(async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        ctx.status = 404;
        ctx.body = {
          error: { code: 'NOT_FOUND', message: `no route ${ctx.method} ${ctx.path}` },
        } satisfies ControlErrorBody;
      }
    } catch (error) {
      const [status, body]: [number, ControlErrorBody] =
        error instanceof ValidationFailed
          ? [400, { error: { code: 'VALIDATION_FAILED', message: error.message, field: error.field } }]
          : error instanceof SandboxNotFound
            ? [404, { error: { code: 'NOT_FOUND', message: error.message } }]
            : error instanceof SandboxConflict
              ? [409, { error: { code: error.code, message: error.message } }]
              : (error as { status?: number }).status === 400 || (error as { status?: number }).status === 415
                ? [400, { error: { code: 'VALIDATION_FAILED', message: (error as Error).message } }]
                : [500, { error: { code: 'INTERNAL', message: (error as Error).message } }];
      ctx.status = status;
      ctx.body = body;
    }
  });
  app.use(koaBody({ jsonLimit: '100kb', text: false, urlencoded: false, multipart: false }));
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}
