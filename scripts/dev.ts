/**
 * `npm start`: the whole product on one machine with no setup (DESIGN §8 "Local run contract"):
 * the embedded PostgreSQL (data in .data/pg, kept across restarts), the Alipay and card-system sandboxes,
 * the BFF with its jobs, and a demo school with cards, Alipay users and a POS gateway client. Writes
 * `.data/dev.json` with every URL and demo credential, then prints how to walk each flow by hand.
 *
 * The sandboxes keep their books in .data/sandboxes/ across restarts (scripts/sandbox/snapshot.ts), so a
 * start seeds only what is missing: the demo user_ids and open_ids (the open_id secret and all keys live in
 * .data/dev/), the card numbers, the school's authorization, and the card system's Alipay bind docs
 * restored from our bindings (a no-op when the card system kept them).
 *
 * One start per DATA_DIR (dev/instance-lock.ts): a second one says "already running" in one line and leaves the
 * running one's files alone, as does a start whose ports are taken.
 *
 * SIGINT or SIGTERM stops everything gracefully, PostgreSQL last (README "Stopping it"). The start script is
 * `exec node --import tsx scripts/dev.ts` so that the signal npm passes on reaches this process: without
 * `exec`, npm's shell took it and died, leaving this process running; and the `tsx` command would SIGKILL
 * this process when it does not acknowledge a relayed signal within 30 ms.
 *
 * Settings are the server's (README table); besides those: ALIPAY_SANDBOX_PORT (default 4010),
 * CARDSYS_SANDBOX_PORT (4020; its SOAP port is the next one), MEMBERCARD_SANDBOX_PORT (4030),
 * VENDING_SANDBOX_PORT (4040: the demo vending machine's callbacks; its control API on the next one).
 */
import '../server/src/lib/timezone.js';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Joi from 'joi';
import { ConfigError, loadConfig, type Config } from '../server/src/config.js';
import { listLiveBindingsOfSchool } from '../server/src/db/repos/cards/bindings.js';
import { findGatewayClient } from '../server/src/db/repos/schools/gateway-clients.js';
import { findSchoolByCode, type SchoolRow } from '../server/src/db/repos/schools/schools.js';
import type { Deps } from '../server/src/deps.js';
import { createGatewayClient } from '../server/src/domain/schools/gateway-clients.js';
import { findTerminalByTerminalId } from '../server/src/db/repos/terminals/terminals.js';
import {
  createTerminal,
  editTerminal,
  setTerminalMoneyMode,
} from '../server/src/domain/terminals/terminals.js';
import { findMembership } from '../server/src/db/repos/admin/admins.js';
import { findUserByAlipayIds } from '../server/src/db/repos/users/users.js';
import { createInvitation } from '../server/src/domain/admin/admins.js';
import type { Actor } from '../server/src/domain/audit/audit.js';
import { connectCardSystem } from '../server/src/domain/schools/card-system-connection.js';
import { isMessageKind, MESSAGE_KINDS } from '../server/src/domain/messages/catalog.js';
import { createAuthorizationLink } from '../server/src/domain/schools/isv-authorization.js';
import { activateSchool, createSchool } from '../server/src/domain/schools/school-lifecycle.js';
import { schoolById, updateSchoolSettings } from '../server/src/domain/schools/schools.js';
import { configureMembershipProgram } from '../server/src/domain/membercard/programs.js';
import { createLogger } from '../server/src/lib/logger.js';
import { startServer, type RunningServer } from '../server/src/server.js';
import { AlipaySandboxControl } from './sandbox/alipay/control-client.js';
import { startAlipaySandbox, type AlipaySandbox } from './sandbox/alipay/server.js';
import { CardsysSandboxControl } from './sandbox/cardsys/control-client.js';
import { startCardsysSandbox, type CardsysSandbox } from './sandbox/cardsys/server.js';
import { lockDataDir } from './dev/instance-lock.js';
import { walkthrough } from './dev/walkthrough.js';
import { MembercardSandboxControl } from './sandbox/membercard/control-client.js';
import { startMembercardSandbox, type MembercardSandbox } from './sandbox/membercard/server.js';
import { startVendingControl, type VendingControl } from './sandbox/vending/control.js';
import { VendingMachine } from './sandbox/vending/machine.js';

const DEMO_SCHOOL = { code: '4132010001', name: '示例大学' };
/**
 * A failed withholding is retried after 15 s and 30 s, then it is arrears: short enough to watch
 * RETRYING → ARREARS → repaid by hand (real schools keep DESIGN §7.4's days-long default).
 */
const DEMO_SETTINGS = {
  retryScheduleSeconds: [15, 30],
  /** Alipay's campus id of the demo school (made up): the card home's 校园码 entry opens with it. */
  alipayInstitutionCode: '2088000000000900',
  /**
   * Parents bind without waiting for the holder's approval (a K-12 school's setting), so that the demo parent
   * can bind two children who have no Alipay account here; real schools keep the default (ADULTS).
   */
  parentApproval: 'NEVER' as const,
};
/**
 * The subscription-message templates "chosen in the merchant console" (domain/messages/catalog.ts): registered
 * at the Alipay sandbox and given to the server unless ALIPAY_MESSAGE_TEMPLATES says otherwise.
 */
const DEMO_TEMPLATES = {
  RECHARGE_CREDITED: 'DEMO_RECHARGE_CREDITED',
  WITHHOLDING_FAILED: 'DEMO_WITHHOLDING_FAILED',
  ARREARS: 'DEMO_ARREARS',
  BALANCE_LOW: 'DEMO_BALANCE_LOW',
  CARD_LOST: 'DEMO_CARD_LOST',
  CARD_BOUND: 'DEMO_CARD_BOUND',
};
const DEMO_CARDS = [
  { cardNo: '20260001', name: '张三', balanceFen: 10_000, studentNo: 'S2026001' },
  { cardNo: '20260002', name: '李四', balanceFen: 5_000, studentNo: 'S2026002' },
  { cardNo: '20260003', name: '王小明', balanceFen: 2_000, studentNo: 'S2026003' },
];
/** The demo school's membership card templates at its card management (AntBuilder template ids). */
const DEMO_CARD_TEMPLATES = {
  student: '20260101000000000000000000000001',
  staff: '20260101000000000000000000000002',
  lost: '20260101000000000000000000000003',
};
/** The Alipay app id of the demo card (card management sends it with mdCodeChange). */
const DEMO_CARD_APP_ID = '2021000000000099';
const DEMO_USERS = [
  { role: 'student', userId: '2088000000000001', balanceFen: 50_000 },
  { role: 'parent', userId: '2088000000000002', balanceFen: 100_000 },
];

interface DevSecrets {
  appId: string;
  appPrivateKey: string;
  appPublicKey: string;
  alipaySandboxPrivateKey: string;
  openIdSecret: string;
  cardsysUsername: string;
  cardsysPassword: string;
}

/** npm start's own settings, validated like the server's (config.ts). */
const devSchema = Joi.object({
  ALIPAY_SANDBOX_PORT: Joi.number().port().default(4010),
  CARDSYS_SANDBOX_PORT: Joi.number().port().max(65534).default(4020),
  MEMBERCARD_SANDBOX_PORT: Joi.number().port().default(4030),
  VENDING_SANDBOX_PORT: Joi.number().port().max(65534).default(4040),
}).unknown(true);

interface DevPorts {
  alipay: number;
  cardsys: number;
  membercard: number;
  /** The demo vending machine's callbacks; its control API listens on the next port. */
  vending: number;
}

function devPorts(env: NodeJS.ProcessEnv): DevPorts {
  const { value, error } = devSchema.validate(env, { abortEarly: false });
  if (error)
    throw new ConfigError(
      error.details.map((d) => `${d.path.join('.')}: ${d.message.replace(/^"[^"]*" /, '')}`),
    );
  return {
    alipay: value.ALIPAY_SANDBOX_PORT,
    cardsys: value.CARDSYS_SANDBOX_PORT,
    membercard: value.MEMBERCARD_SANDBOX_PORT,
    vending: value.VENDING_SANDBOX_PORT,
  };
}

/** Keys and ids that must stay the same across restarts, generated once into the data folder. */
function devSecrets(dataDir: string): DevSecrets {
  const file = path.join(dataDir, 'dev', 'secrets.json');
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as DevSecrets;
  } catch {
    const pair = () => {
      const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
      return {
        privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      };
    };
    const app = pair();
    const secrets: DevSecrets = {
      appId: `2021${crypto.randomInt(10 ** 11, 10 ** 12 - 1)}`,
      appPrivateKey: app.privateKey,
      appPublicKey: app.publicKey,
      alipaySandboxPrivateKey: pair().privateKey,
      openIdSecret: crypto.randomBytes(32).toString('base64'),
      cardsysUsername: 'demo-school',
      cardsysPassword: crypto.randomBytes(12).toString('base64url'),
    };
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
    return secrets;
  }
}

const NPM_START: Actor = { kind: 'OPERATOR', name: 'npm-start' };

/**
 * The demo school comes on board the way every school does (issue 10): created PENDING with an
 * authorization link; the school's Alipay account authorizes on the Alipay sandbox's page and Alipay's
 * redirect reaches our callback over HTTP; its card system is tested and connected; activated. On later
 * starts it authorizes again as the same Alipay app (its auth_app_id), which also covers a sandbox whose
 * snapshot was deleted, and its card system is connected again.
 */
async function onboardDemoSchool(
  deps: Deps,
  alipay: AlipaySandboxControl,
  cardsys: { endpoint: string; username: string; password: string },
): Promise<SchoolRow> {
  const existing = await findSchoolByCode(deps.db, DEMO_SCHOOL.code);
  const created = existing ?? (await createSchool(deps, NPM_START, DEMO_SCHOOL));
  // The demo's own settings on every start (audited only when they differ from what the school has).
  await updateSchoolSettings(deps, NPM_START, created.id, DEMO_SETTINGS, '');
  const link = await createAuthorizationLink(deps, NPM_START, created.id);
  const { redirectUrl } = await alipay.authorizeLink(link.url, {
    merchantName: DEMO_SCHOOL.name,
    merchantAppId: existing?.alipayAuthAppId ?? undefined,
  });
  const callback = await fetch(redirectUrl);
  if (!callback.ok)
    throw new Error(
      `the callback refused the demo school's authorization: ${callback.status} ${await callback.text()}`,
    );
  await connectCardSystem(deps, NPM_START, { schoolId: created.id, ...cardsys });
  const school = await schoolById(deps, created.id);
  return school.status === 'PENDING' ? activateSchool(deps, NPM_START, school.id) : school;
}

/** A one-time owner invitation for the demo student, unless they already are an admin of the school. */
async function demoOwnerInvitation(
  deps: Deps,
  school: SchoolRow,
  student: { userId: string; openId: string },
): Promise<{ code: string; expiresAt: Date } | null> {
  const user = await findUserByAlipayIds(deps.db, { openId: student.openId, userId: student.userId });
  if (user && (await findMembership(deps.db, school.id, user.id))) return null;
  return createInvitation(deps, NPM_START, {
    schoolId: school.id,
    role: 'OWNER',
    displayName: '示例负责人（演示学生）',
  });
}

async function seedDemo(
  deps: Deps,
  sandboxes: { alipay: AlipaySandboxControl; cardsys: CardsysSandboxControl; appId: string },
  secrets: DevSecrets,
  soapEndpoint: (code: string) => string,
) {
  // The sandboxes keep their books across restarts (.data/sandboxes/): seed only what is not there yet.
  const cardsysSchool =
    (await sandboxes.cardsys.listSchools()).find((s) => s.code === DEMO_SCHOOL.code) ??
    (await sandboxes.cardsys.createSchool({
      ...DEMO_SCHOOL,
      username: secrets.cardsysUsername,
      password: secrets.cardsysPassword,
    }));
  const cards = new Set((await sandboxes.cardsys.listCards(DEMO_SCHOOL.code)).map((c) => c.cardNo));
  for (const card of DEMO_CARDS) {
    if (!cards.has(card.cardNo))
      await sandboxes.cardsys.createCard(DEMO_SCHOOL.code, { ...card, identity: 'STUDENT' });
  }
  const users = [];
  for (const user of DEMO_USERS) {
    const created =
      (await sandboxes.alipay.getUser(user.userId).catch(() => undefined)) ??
      (await sandboxes.alipay.createUser({
        userId: user.userId,
        balanceFen: user.balanceFen,
        nickName: user.role,
      }));
    users.push({
      role: user.role,
      userId: created.userId,
      openId: created.openIds[sandboxes.appId],
      balanceFen: user.balanceFen,
    });
  }
  const cardsys = {
    endpoint: soapEndpoint(DEMO_SCHOOL.code),
    username: cardsysSchool.username,
    password: cardsysSchool.password,
  };
  const school = await onboardDemoSchool(deps, sandboxes.alipay, cardsys);

  // Were the card system's snapshot lost, our bindings remember its Alipay bind docs (a no-op otherwise).
  const cardSystem = deps.schools.cardSystem(school);
  for (const binding of await listLiveBindingsOfSchool(deps.db, school.id)) {
    if (!binding.isWithholdingPayer || !binding.vendorBindPasswordEnc) continue;
    // The id the withholding job bound the card with (domain/withholding/agreements.ts): user_id, else open_id.
    const alipayUserId = binding.payerAlipayUserId ?? binding.payerOpenId;
    if (!alipayUserId) continue;
    await cardSystem
      .bindAlipay({
        cardNo: binding.cardNo,
        alipayUserId,
        password: deps.protector.decrypt(binding.vendorBindPasswordEnc),
      })
      .catch((error: unknown) =>
        deps.logger.warn('could not restore a bind doc', { cardNo: binding.cardNo, error }),
      );
  }
  return { school, users };
}

/** Our RSA2 key for the demo school's card management, made once into the data folder. */
function membercardKeyRef(dataDir: string): string {
  const file = path.join(dataDir, 'dev', 'membercard-private-key.pem');
  if (!fs.existsSync(file)) {
    const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), { mode: 0o600 });
  }
  return `file:${file}`;
}

/**
 * The demo school's card in the Alipay wallet: its membership program with us and its business system at the
 * card-management sandbox, with a fresh CRM token on every start (both sides are configured here).
 */
async function seedMembershipCard(
  deps: Deps,
  school: SchoolRow,
  sandbox: { url: string; control: MembercardSandboxControl },
  bffUrl: string,
  dataDir: string,
) {
  const crmToken = crypto.randomBytes(24).toString('base64url');
  const claimUrl = `${sandbox.url}/claim?templateId=${DEMO_CARD_TEMPLATES.student}`;
  const { publicKeyPem } = await configureMembershipProgram(deps, NPM_START, school.id, {
    crmToken,
    cardManagementUrl: sandbox.url,
    templates: DEMO_CARD_TEMPLATES,
    signingKeyRef: membercardKeyRef(dataDir),
    claimUrl,
    pointsPerYuan: 1,
  });
  await sandbox.control.configureSystem(school.code, {
    crmBaseUrl: `${bffUrl}/crm`,
    token: crmToken,
    publicKey: publicKeyPem,
    appId: DEMO_CARD_APP_ID,
    templates: [
      {
        templateId: DEMO_CARD_TEMPLATES.student,
        name: '示例大学学生卡',
        formFields: ['name', 'certNo', 'mobile'],
      },
      {
        templateId: DEMO_CARD_TEMPLATES.staff,
        name: '示例大学教工卡',
        formFields: ['name', 'certNo', 'mobile'],
      },
      { templateId: DEMO_CARD_TEMPLATES.lost, name: '已挂失' },
    ],
  });
  return { templates: DEMO_CARD_TEMPLATES, claimUrl };
}

const DEMO_TERMINAL = {
  terminalId: 'VM-DEMO-01',
  kind: 'VENDING' as const,
  name: '饮料机',
  location: '一食堂门口',
  operatorName: '示例售货机运营商',
  orderTimeoutSeconds: 300,
};

/**
 * The demo school's vending machine (issue 15): a terminal whose operator takes 30 % of each sale by royalty
 * (an Alipay sandbox merchant account), and the vending machine simulator that plays it, its callbacks on
 * `port` and its control API on the next port. Made once; on later starts its secret is read back (kept
 * encrypted like every client's) and a lost sandbox account is replaced.
 */
async function startDemoVendingMachine(
  deps: Deps,
  school: SchoolRow,
  alipay: AlipaySandboxControl,
  bffUrl: string,
  port: number,
): Promise<{ machine: VendingMachine; control: VendingControl; operatorAccount: string }> {
  const callbackUrl = `http://127.0.0.1:${port}/callback`;
  const royalty = (account: string) => ({ account, bps: 3_000, timing: 'ON_PAYMENT' as const });
  let terminal = await findTerminalByTerminalId(deps.db, school.id, DEMO_TERMINAL.terminalId);
  let secret: string;
  if (!terminal) {
    const operator = await alipay.createMerchant({ name: DEMO_TERMINAL.operatorName });
    const created = await createTerminal(deps, NPM_START, school.id, {
      ...DEMO_TERMINAL,
      moneyMode: 'ROYALTY',
      royalty: royalty(operator.accountId),
      callbackUrl,
    });
    secret = created.secret;
    terminal = (await findTerminalByTerminalId(deps.db, school.id, DEMO_TERMINAL.terminalId))!;
  } else {
    const client = await findGatewayClient(deps.db, terminal.gatewayClientId);
    secret = deps.protector.decrypt(client!.secretEnc);
    if (terminal.callbackUrl !== callbackUrl)
      await editTerminal(deps, NPM_START, school.id, terminal.id, { callbackUrl });
    const account = terminal.royaltyAccount;
    if (!account || !(await alipay.getAccount(account).catch(() => undefined))) {
      // The Alipay sandbox's books were deleted: a new operator account.
      const operator = await alipay.createMerchant({ name: DEMO_TERMINAL.operatorName });
      await setTerminalMoneyMode(deps, NPM_START, school.id, terminal.id, {
        moneyMode: 'ROYALTY',
        royalty: royalty(operator.accountId),
      });
    }
    terminal = (await findTerminalByTerminalId(deps.db, school.id, DEMO_TERMINAL.terminalId))!;
  }
  const machine = await new VendingMachine({
    platformUrl: bffUrl,
    terminalId: terminal.terminalId,
    clientId: terminal.gatewayClientId,
    secret,
    port,
  }).start();
  const control = await startVendingControl(machine, port + 1).catch(async (error: unknown) => {
    await machine.stop();
    throw error;
  });
  return { machine, control, operatorAccount: terminal.royaltyAccount! };
}

async function gatewayClientFor(
  deps: Deps,
  school: SchoolRow,
  devFile: string,
): Promise<{ clientId: string; secret: string }> {
  try {
    const previous = JSON.parse(fs.readFileSync(devFile, 'utf8')) as {
      demo?: { gatewayClientId?: string; gatewaySecret?: string };
    };
    const { gatewayClientId, gatewaySecret } = previous.demo ?? {};
    if (gatewayClientId && gatewaySecret) {
      const row = await findGatewayClient(deps.db, gatewayClientId);
      if (
        row?.status === 'ACTIVE' &&
        row.schoolId === school.id &&
        deps.protector.decrypt(row.secretEnc) === gatewaySecret
      ) {
        return { clientId: gatewayClientId, secret: gatewaySecret };
      }
    }
  } catch {
    // first start, or an old file: issue a new client
  }
  return createGatewayClient(deps, { schoolId: school.id, name: '示例大学食堂', actor: NPM_START });
}

async function main(): Promise<void> {
  let base: Config;
  let ports: DevPorts;
  try {
    // One message for every bad setting, the server's and npm start's own.
    const problems: string[] = [];
    const attempt = <T>(read: () => T): T | undefined => {
      try {
        return read();
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        problems.push(...error.problems);
        return undefined;
      }
    };
    const config = attempt(() => loadConfig());
    const devPortsValue = attempt(() => devPorts(process.env));
    if (problems.length > 0 || !config || !devPortsValue) throw new ConfigError(problems);
    base = config;
    ports = devPortsValue;
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const devFile = path.join(base.dataDir, 'dev.json');
  const lock = lockDataDir(base.dataDir);
  if (!lock.held) {
    // Before anything else: its database, sandbox snapshots and dev.json are the running one's.
    process.stderr.write(
      `npm start: already running (pid ${lock.pid}${runningBff(devFile)}) with its data in ${base.dataDir}; ` +
        'stop it first, or start another with its own DATA_DIR and ports\n',
    );
    process.exit(1);
  }
  const logger = createLogger({ level: base.logLevel });
  const started = Date.now();
  const secrets = devSecrets(base.dataDir);
  let alipay: AlipaySandbox | undefined;
  let cardsys: CardsysSandbox | undefined;
  let membercard: MembercardSandbox | undefined;
  let vending: { machine: VendingMachine; control: VendingControl } | undefined;
  let server: RunningServer | undefined;
  /** The server while it starts: a signal then must wait for it, or its PostgreSQL would outlive us. */
  let serverStarting: Promise<RunningServer> | undefined;
  let wroteDevFile = false;

  const stopEverything = async () => {
    await vending?.control.close();
    await vending?.machine.stop();
    await (server ?? (await serverStarting?.catch(() => undefined)))?.stop();
    await alipay?.close();
    await cardsys?.close();
    await membercard?.close();
    if (wroteDevFile) {
      // The database URL dies with this process; tools must not try it later.
      const dev = JSON.parse(fs.readFileSync(devFile, 'utf8')) as Record<string, unknown>;
      delete dev.databaseUrl;
      dev.running = false;
      fs.writeFileSync(devFile, JSON.stringify(dev, null, 2), { mode: 0o600 });
    }
    lock.release();
  };
  let stopped: Promise<void> | undefined;
  /** Once: a signal and a failed start may both ask. */
  const stop = (): Promise<void> => (stopped ??= stopEverything());
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    // Ctrl-C reaches this process twice under npm (from the terminal and relayed by npm); one is enough.
    if (stopping) return;
    stopping = true;
    logger.info('signal received', { signal });
    setTimeout(() => process.exit(1), base.shutdownTimeoutMs + 20_000).unref();
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error('shutdown failed', { error });
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    alipay = await startAlipaySandbox({
      stateFile: path.join(base.dataDir, 'sandboxes', 'alipay.json'),
      port: ports.alipay,
      alipayPrivateKey: secrets.alipaySandboxPrivateKey,
      apps: [
        {
          appId: secrets.appId,
          publicKey: secrets.appPublicKey,
          idMode: 'open_id',
          name: 'campus-card (demo)',
        },
      ],
      openIdSecret: Buffer.from(secrets.openIdSecret, 'base64'),
      notifyTimeScale: 60,
    });
    cardsys = await startCardsysSandbox({
      port: ports.cardsys,
      soapPort: ports.cardsys + 1,
      stateFile: path.join(base.dataDir, 'sandboxes', 'cardsys.json'),
    });
    membercard = await startMembercardSandbox({ port: ports.membercard });

    const env = {
      ...process.env,
      ALIPAY_APP_ID: process.env.ALIPAY_APP_ID || secrets.appId,
      ALIPAY_PRIVATE_KEY: process.env.ALIPAY_PRIVATE_KEY || secrets.appPrivateKey,
      ALIPAY_PUBLIC_KEY: process.env.ALIPAY_PUBLIC_KEY || alipay.alipayPublicKey,
      ALIPAY_GATEWAY: process.env.ALIPAY_GATEWAY || alipay.gatewayUrl,
      ALIPAY_APP_AUTH_URL: process.env.ALIPAY_APP_AUTH_URL || `${alipay.url}/oauth2/appToAppAuth.htm`,
      ALIPAY_MESSAGE_TEMPLATES: process.env.ALIPAY_MESSAGE_TEMPLATES || JSON.stringify(DEMO_TEMPLATES),
    };
    const config = loadConfig(env);
    if (stopping) return;
    serverStarting = startServer(config, { logger });
    server = await serverStarting;
    if (stopping) return;
    const deps = server.deps;
    const sandboxes = {
      alipay: new AlipaySandboxControl(alipay.url),
      cardsys: new CardsysSandboxControl(cardsys.url),
      appId: secrets.appId,
    };
    // The open platform console's settings of our app, now that the server's address is known.
    await sandboxes.alipay.configureApp(secrets.appId, {
      appGatewayUrl: `${config.publicBaseUrl}/notify/alipay`,
      messageTopics: ['alipay.open.auth.appauth.cancelled', 'alipay.trade.order.settle.notify'],
      authRedirectUri: `${config.publicBaseUrl}/isv/alipay/callback`,
    });
    // The message templates of the merchant console, as the sandbox must know them to deliver.
    for (const [kind, template] of Object.entries(config.messages.templates))
      if (template && isMessageKind(kind))
        await sandboxes.alipay.registerMessageTemplate({
          templateId: template.id,
          keywords: MESSAGE_KINDS[kind].keywords.length,
          longTerm: template.longTerm,
        });
    const cardsysSandbox = cardsys;
    const { school, users } = await seedDemo(deps, sandboxes, secrets, (code) =>
      cardsysSandbox.endpointFor(code),
    );
    const gateway = await gatewayClientFor(deps, school, devFile);
    const student = users.find((u) => u.role === 'student')!;
    const invitation = await demoOwnerInvitation(deps, school, student);
    // What `npm run operator` and other tools need to act like this server (scripts/lib/tool-database.ts).
    const keyFile = path.join(base.dataDir, 'dev', 'app-private-key.pem');
    fs.writeFileSync(keyFile, env.ALIPAY_PRIVATE_KEY, { mode: 0o600 });
    await sandboxes.cardsys.configurePlatform(school.code, {
      baseUrl: server.url!,
      clientId: gateway.clientId,
      secret: gateway.secret,
    });
    const membership = await seedMembershipCard(
      deps,
      school,
      { url: membercard.url, control: new MembercardSandboxControl(membercard.url) },
      server.url!,
      base.dataDir,
    );
    const demoVending = await startDemoVendingMachine(
      deps,
      school,
      sandboxes.alipay,
      server.url!,
      ports.vending,
    );
    vending = demoVending;

    const dev = {
      running: true,
      pid: process.pid,
      bff: server.url,
      alipaySandbox: alipay.url,
      cardsysSandbox: cardsys.url,
      membercardSandbox: membercard.url,
      databaseUrl: server.databaseUrl,
      alipay: { appId: secrets.appId, gateway: alipay.gatewayUrl },
      toolEnv: {
        PUBLIC_BASE_URL: config.publicBaseUrl,
        ALIPAY_APP_ID: env.ALIPAY_APP_ID,
        ALIPAY_PRIVATE_KEY_FILE: keyFile,
        ALIPAY_PUBLIC_KEY: env.ALIPAY_PUBLIC_KEY,
        ALIPAY_GATEWAY: env.ALIPAY_GATEWAY,
        ALIPAY_APP_AUTH_URL: env.ALIPAY_APP_AUTH_URL,
      },
      demo: {
        schoolId: school.id,
        schoolCode: school.code,
        gatewayClientId: gateway.clientId,
        gatewaySecret: gateway.secret,
        cards: DEMO_CARDS,
        alipayUsers: users,
        ownerInvitation: invitation
          ? {
              forUserId: student.userId,
              code: invitation.code,
              expiresAt: invitation.expiresAt.toISOString(),
            }
          : null,
        membershipCard: membership,
        vendingMachine: {
          terminalId: DEMO_TERMINAL.terminalId,
          control: demoVending.control.url,
          callbackUrl: demoVending.machine.callbackUrl,
          operatorAccount: demoVending.operatorAccount,
        },
      },
    };
    fs.writeFileSync(devFile, JSON.stringify(dev, null, 2), { mode: 0o600 });
    wroteDevFile = true;
    process.stdout.write(
      walkthrough({
        bff: server.url!,
        alipay: alipay.url,
        cardsys: cardsys.url,
        membercard: membercard.url,
        appId: secrets.appId,
        school: { id: school.id, code: school.code, name: school.name },
        dataDir: base.dataDir,
        dataDirIsDefault: base.dataDir === path.resolve('.data'),
        cards: DEMO_CARDS,
        users: { student: DEMO_USERS[0].userId, parent: DEMO_USERS[1].userId },
        templates: DEMO_TEMPLATES,
        ownerCode: invitation?.code ?? null,
        studentOpenId: users[0].openId,
        cardTemplates: DEMO_CARD_TEMPLATES,
        vending: { control: demoVending.control.url, operatorAccount: demoVending.operatorAccount },
        pid: process.pid,
      }),
    );
    logger.info('ready', { seconds: Math.round((Date.now() - started) / 100) / 10 });
  } catch (error) {
    // Stopped by a signal while starting: what failed is the shutdown's doing, and onSignal exits.
    if (stopping) return;
    const { code, port } = error as NodeJS.ErrnoException & { port?: number };
    if (code === 'EADDRINUSE')
      process.stderr.write(
        `npm start: port ${port ?? ''} is already in use (already running?); choose others with PORT, ` +
          'ALIPAY_SANDBOX_PORT, CARDSYS_SANDBOX_PORT, MEMBERCARD_SANDBOX_PORT and VENDING_SANDBOX_PORT\n',
      );
    else logger.error('start failed', { error });
    await stop().catch(() => undefined);
    process.exit(1);
  }
}

/** ", at <url>" of the running start, for the one line that says it is running. */
function runningBff(devFile: string): string {
  try {
    const dev = JSON.parse(fs.readFileSync(devFile, 'utf8')) as { running?: boolean; bff?: string };
    return dev.running && dev.bff ? `, at ${dev.bff}` : '';
  } catch {
    return '';
  }
}

void main();
