import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startAlipaySandbox, type AlipaySandbox } from '../../scripts/sandbox/alipay/server.js';
import type { SandboxSettings } from '../../scripts/sandbox/alipay/context.js';
import { AlipaySandboxControl } from '../../scripts/sandbox/alipay/control-client.js';
import { startCardsysSandbox, type CardsysSandbox } from '../../scripts/sandbox/cardsys/server.js';
import { CardsysSandboxControl } from '../../scripts/sandbox/cardsys/control-client.js';
import { MembercardSandboxControl } from '../../scripts/sandbox/membercard/control-client.js';
import { startMembercardSandbox, type MembercardSandbox } from '../../scripts/sandbox/membercard/server.js';
import { configureMembershipProgram } from '../../server/src/domain/membercard/programs.js';
import { freePort } from '../../server/src/db/embedded-postgres.js';
import type { SchoolRow } from '../../server/src/db/repos/schools/schools.js';
import { onboardSchool, type SchoolOnboarding } from '../../server/src/domain/schools/schools.js';
import { startTestApp, type TestApp } from './app.js';
import { client } from './http.js';
import type { Clock } from '../../server/src/lib/clock.js';
import type { Actor } from '../../server/src/domain/audit/audit.js';

/**
 * The whole product for a test: the BFF (HTTP + jobs) on a fresh database, the Alipay sandbox with our
 * app registered, the card-system sandbox, and one onboarded school (ISV-authorized, with its own SOAP
 * endpoint). Everything talks over HTTP exactly as in production.
 */

let appKeys: { privateKey: string; publicKey: string } | undefined;
function appKeyPair() {
  return (appKeys ??= (() => {
    const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    return {
      privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    };
  })());
}

export interface StackUser {
  userId: string;
  openId: string;
  /** Logs in through the mini-program route with a fresh auth code; returns an authorised client. */
  login(): Promise<ReturnType<typeof client> & { token: string; id: string }>;
}

/** The school's AntBuilder card management (the sandbox) and its membership program with us. */
export interface StackMembercard {
  sandbox: MembercardSandbox;
  control: MembercardSandboxControl;
  /** The business system's id at card management (the school code). */
  systemId: string;
  crmToken: string;
  templates: { student: string; staff: string; lost: string };
  /** Card management's Alipay app id (sent with mdCodeChange). */
  appId: string;
  publicKeyPem: string;
  signingKeyRef: string;
}

export interface Stack {
  app: TestApp;
  alipay: { sandbox: AlipaySandbox; control: AlipaySandboxControl; appId: string; url: string };
  cardsys: { sandbox: CardsysSandbox; control: CardsysSandboxControl };
  /** Only with `membercard` in the options. */
  membercard?: StackMembercard;
  school: SchoolRow;
  /** An Alipay sandbox user; `certNo` / `mobile` are what the account would share once granted. */
  createUser(balanceFen?: number, identity?: { certNo?: string; mobile?: string }): Promise<StackUser>;
  createCard(input?: {
    name?: string;
    balanceFen?: number;
    status?: 'NORMAL' | 'LOST' | 'FROZEN';
    schoolCode?: string;
    studentNo?: string | null;
    identity?: 'STUDENT' | 'STAFF';
  }): Promise<{ cardNo: string; holderName: string; studentNo: string | null }>;
  addSchool(input?: { name?: string; settings?: SchoolOnboarding['settings'] }): Promise<SchoolRow>;
  stop(): Promise<void>;
}

/** Who the audit log names for what the test stack sets up. */
const STACK_OPERATOR: Actor = { kind: 'OPERATOR', name: 'test-stack' };
const NAMES = ['张三', '李四', '王五', '赵六', '陈晨', '刘洋', '杨帆', '黄磊'];
let cardCounter = 0;

export interface StackOptions {
  env?: Record<string, string>;
  schoolSettings?: SchoolOnboarding['settings'];
  notifyTimeScale?: number;
  /** The BFF's clock (expiry, schedules); Agenda and the sandboxes keep real time. */
  clock?: Clock;
  /** Also start the card-management sandbox and give the school a membership program (issue 16). */
  membercard?: { pointsPerYuan?: number };
  /** Alipay sandbox rules tightened for a test (e.g. a short refund window, after which trades finish). */
  alipaySettings?: Partial<SandboxSettings>;
}

/** Our RSA2 key for card management, made at test time into a file the program refers to. */
function membercardKeyFile(): string {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'campus-membercard-key-'));
  const file = path.join(dir, 'private-key.pem');
  fs.writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), { mode: 0o600 });
  return file;
}

async function startMembercard(
  app: TestApp,
  school: SchoolRow,
  options: NonNullable<StackOptions['membercard']>,
): Promise<StackMembercard> {
  const sandbox = await startMembercardSandbox();
  const control = new MembercardSandboxControl(sandbox.url);
  const suffix = school.code;
  const templates = { student: `TS${suffix}`, staff: `TF${suffix}`, lost: `TL${suffix}` };
  const crmToken = crypto.randomBytes(24).toString('base64url');
  const signingKeyRef = `file:${membercardKeyFile()}`;
  const { publicKeyPem } = await configureMembershipProgram(app.deps, STACK_OPERATOR, school.id, {
    crmToken,
    cardManagementUrl: sandbox.url,
    templates,
    signingKeyRef,
    claimUrl: `${sandbox.url}/claim?templateId=${templates.student}`,
    pointsPerYuan: options.pointsPerYuan ?? 0,
  });
  const appId = `2021${crypto.randomInt(10 ** 11, 10 ** 12 - 1)}`;
  await control.configureSystem(school.code, {
    crmBaseUrl: `${app.url}/crm`,
    token: crmToken,
    publicKey: publicKeyPem,
    appId,
    templates: [
      { templateId: templates.student, name: '学生卡', formFields: ['name', 'certNo', 'mobile'] },
      { templateId: templates.staff, name: '教工卡', formFields: ['name', 'certNo', 'mobile'] },
      { templateId: templates.lost, name: '已挂失' },
    ],
  });
  return { sandbox, control, systemId: school.code, crmToken, templates, appId, publicKeyPem, signingKeyRef };
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const keys = appKeyPair();
  const appId = `2021${crypto.randomInt(10 ** 11, 10 ** 12 - 1)}`;
  const port = await freePort();
  const bffUrl = `http://127.0.0.1:${port}`;
  const alipaySandbox = await startAlipaySandbox({
    apps: [
      {
        appId,
        publicKey: keys.publicKey,
        idMode: 'open_id',
        name: 'campus-card',
        // The open platform console's settings of our ISV app (DESIGN §6.5).
        appGatewayUrl: `${bffUrl}/notify/alipay`,
        messageTopics: ['alipay.open.auth.appauth.cancelled', 'alipay.trade.order.settle.notify'],
        authRedirectUri: `${bffUrl}/isv/alipay/callback`,
      },
    ],
    notifyTimeScale: options.notifyTimeScale ?? 1000,
    settings: options.alipaySettings,
  });
  const alipayControl = new AlipaySandboxControl(alipaySandbox.url);
  const cardsysSandbox = await startCardsysSandbox();
  const cardsysControl = new CardsysSandboxControl(cardsysSandbox.url);
  const app = await startTestApp({
    env: {
      PORT: String(port),
      PUBLIC_BASE_URL: bffUrl,
      ALIPAY_APP_AUTH_URL: `${alipaySandbox.url}/oauth2/appToAppAuth.htm`,
      ALIPAY_APP_ID: appId,
      ALIPAY_PRIVATE_KEY: keys.privateKey,
      ALIPAY_PUBLIC_KEY: alipaySandbox.alipayPublicKey,
      ALIPAY_GATEWAY: alipaySandbox.gatewayUrl,
      ALIPAY_TIMEOUT_MS: '3000',
      CARDSYS_TIMEOUT_MS: '3000',
      ...options.env,
    },
    clock: options.clock,
  });

  const addSchool: Stack['addSchool'] = async (input = {}) => {
    const code = String(crypto.randomInt(10 ** 9, 10 ** 10 - 1));
    const name = input.name ?? `测试大学${code.slice(-4)}`;
    const cardsysSchool = await cardsysControl.createSchool({ code, name });
    const authorization = await alipayControl.authorizeMerchant({ isvAppId: appId, merchantName: name });
    return onboardSchool(app.deps, {
      code,
      name,
      cardsys: {
        endpoint: cardsysSchool.endpoint,
        username: cardsysSchool.username,
        password: cardsysSchool.password,
      },
      alipayAppAuthCode: authorization.appAuthCode,
      // Parents act without the holder's approval unless a test asks for it (the product's default, ADULTS,
      // is exercised by the approval tests).
      settings: { parentApproval: 'NEVER', ...input.settings },
    });
  };
  const school = await addSchool({ settings: options.schoolSettings });
  const membercard = options.membercard ? await startMembercard(app, school, options.membercard) : undefined;

  return {
    app,
    alipay: { sandbox: alipaySandbox, control: alipayControl, appId, url: alipaySandbox.url },
    cardsys: { sandbox: cardsysSandbox, control: cardsysControl },
    membercard,
    school,
    addSchool,
    async createUser(balanceFen = 100_000, identity = {}) {
      const user = await alipayControl.createUser({ balanceFen, ...identity });
      const openId = user.openIds[appId];
      return {
        userId: user.userId,
        openId,
        async login() {
          const { authCode } = await alipayControl.issueAuthCode({
            userId: user.userId,
            appId,
            scopes: 'auth_base',
          });
          const res = await app.http.post('/api/v1/session', { authCode });
          if (res.status !== 200) throw new Error(`login failed: ${res.status} ${res.text}`);
          return Object.assign(client(app.url, res.body.token), {
            token: res.body.token as string,
            id: res.body.user.id as string,
          });
        },
      };
    },
    async createCard(input = {}) {
      cardCounter += 1;
      const holderName = input.name ?? NAMES[cardCounter % NAMES.length];
      const card = await cardsysControl.createCard(input.schoolCode ?? school.code, {
        name: holderName,
        balanceFen: input.balanceFen ?? 10_000,
        status: input.status,
        identity: input.identity ?? 'STUDENT',
        ...(input.studentNo !== undefined ? { studentNo: input.studentNo } : {}),
      });
      return { cardNo: card.cardNo, holderName: card.name, studentNo: card.studentNo };
    },
    async stop() {
      await app.stop();
      await alipaySandbox.close();
      await cardsysSandbox.close();
      await membercard?.sandbox.close();
      if (membercard)
        fs.rmSync(path.dirname(membercard.signingKeyRef.slice('file:'.length)), { recursive: true });
    },
  };
}
