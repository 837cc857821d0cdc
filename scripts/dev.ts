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
 * Settings are the server's (README table); besides those: ALIPAY_SANDBOX_PORT (default 4010),
 * CARDSYS_SANDBOX_PORT (4020; its SOAP port is the next one).
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
import { findMembership } from '../server/src/db/repos/admin/admins.js';
import { findUserByAlipayIds } from '../server/src/db/repos/users/users.js';
import { createInvitation } from '../server/src/domain/admin/admins.js';
import type { Actor } from '../server/src/domain/audit/audit.js';
import { connectCardSystem } from '../server/src/domain/schools/card-system-connection.js';
import { createAuthorizationLink } from '../server/src/domain/schools/isv-authorization.js';
import { activateSchool, createSchool } from '../server/src/domain/schools/school-lifecycle.js';
import { schoolById, updateSchoolSettings } from '../server/src/domain/schools/schools.js';
import { createLogger } from '../server/src/lib/logger.js';
import { startServer, type RunningServer } from '../server/src/server.js';
import { AlipaySandboxControl } from './sandbox/alipay/control-client.js';
import { startAlipaySandbox, type AlipaySandbox } from './sandbox/alipay/server.js';
import { CardsysSandboxControl } from './sandbox/cardsys/control-client.js';
import { startCardsysSandbox, type CardsysSandbox } from './sandbox/cardsys/server.js';

const DEMO_SCHOOL = { code: '4132010001', name: '示例大学' };
/**
 * A failed withholding is retried after 15 s and 30 s, then it is arrears: short enough to watch
 * RETRYING → ARREARS → repaid by hand (real schools keep DESIGN §7.4's days-long default).
 */
const DEMO_SETTINGS = {
  retryScheduleSeconds: [15, 30],
  /** Alipay's campus id of the demo school (made up): the card home's 校园码 entry opens with it. */
  alipayInstitutionCode: '2088000000000900',
};
const DEMO_CARDS = [
  { cardNo: '20260001', name: '张三', balanceFen: 10_000, studentNo: 'S2026001' },
  { cardNo: '20260002', name: '李四', balanceFen: 5_000, studentNo: 'S2026002' },
  { cardNo: '20260003', name: '王小明', balanceFen: 2_000, studentNo: 'S2026003' },
];
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
}).unknown(true);

function devPorts(env: NodeJS.ProcessEnv): { alipay: number; cardsys: number } {
  const { value, error } = devSchema.validate(env, { abortEarly: false });
  if (error)
    throw new ConfigError(
      error.details.map((d) => `${d.path.join('.')}: ${d.message.replace(/^"[^"]*" /, '')}`),
    );
  return { alipay: value.ALIPAY_SANDBOX_PORT, cardsys: value.CARDSYS_SANDBOX_PORT };
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
 * starts the fresh sandboxes know nothing of it, so it authorizes again as the same Alipay app (its
 * auth_app_id) and its card system is connected again.
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

  // The card system forgot its Alipay bind docs with the restart; our bindings remember them.
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
  return createGatewayClient(deps, {
    schoolId: school.id,
    name: 'demo canteen POS gateway',
    actor: NPM_START,
  });
}

function walkthrough(info: {
  bff: string;
  alipay: string;
  cardsys: string;
  appId: string;
  schoolId: string;
  schoolCode: string;
  ownerCode: string | null;
  dataDir: string;
}): string {
  const j = "-H 'content-type: application/json'";
  const { bff, alipay, cardsys, appId, schoolId, schoolCode, ownerCode, dataDir } = info;
  // The tools find this server through <DATA_DIR>/dev.json: tell them where it is when it is not .data.
  const shortDir = path.relative('.', dataDir);
  const tool =
    dataDir === path.resolve('.data')
      ? 'npm run'
      : `DATA_DIR=${shortDir && !shortDir.startsWith('..') ? shortDir : dataDir} npm run`;
  return `
Campus Card × Alipay is running (data in ${dataDir}, details in ${path.join(dataDir, 'dev.json')}).
  BFF                 ${bff}            (/healthz, /readyz, /api/v1, /gateway/v1, /notify/alipay)
  Alipay sandbox      ${alipay}          (control API: ${alipay}/control, docs/sandbox.md)
  Card-system sandbox ${cardsys}          (control API: ${cardsys}/control)
  Demo school         ${DEMO_SCHOOL.name} ${schoolCode}  id ${schoolId}
  Demo cards          ${DEMO_CARDS.map((c) => `${c.cardNo} ${c.name}`).join(', ')}
  Demo Alipay users   student ${DEMO_USERS[0].userId}, parent ${DEMO_USERS[1].userId}

Walk the student journey by hand (what the mini-program does; ALIPAY stands in for the Alipay app):
  1. auth code (my.getAuthCode):  curl -s ${alipay}/control/auth-codes ${j} -d '{"userId":"${DEMO_USERS[0].userId}","appId":"${appId}"}'
  2. log in:   TOKEN=$(curl -s ${bff}/api/v1/session ${j} -d '{"authCode":"<authCode>"}' | node -pe 'JSON.parse(require("fs").readFileSync(0)).token')
  3. bind:     curl -s ${bff}/api/v1/bindings ${j} -H "authorization: Bearer $TOKEN" -d '{"schoolId":"${schoolId}","cardNo":"20260001","name":"张三","relation":"SELF","studentNo":"S2026001"}'
  4. recharge: curl -s ${bff}/api/v1/recharges ${j} -H "authorization: Bearer $TOKEN" -d '{"bindingId":"<binding id>","amountFen":5000}'
  5. pay (my.tradePay): curl -s ${alipay}/control/trades/pay ${j} -d '{"tradeNO":"<tradeNo>","userId":"${DEMO_USERS[0].userId}"}'
  6. see it:   curl -s ${bff}/api/v1/recharges/<order id> -H "authorization: Bearer $TOKEN"     (CREATED → PAID → CREDITED)
               curl -s ${bff}/api/v1/bindings/<binding id> -H "authorization: Bearer $TOKEN"    (balance from the card system)
               curl -s '${bff}/api/v1/bindings/<binding id>/statement' -H "authorization: Bearer $TOKEN"
  7. loss / unbind: curl -s -XPOST ${bff}/api/v1/bindings/<binding id>/loss … ; curl -s -XDELETE ${bff}/api/v1/bindings/<binding id> …

Withholding and a canteen swipe:
  8. sign:     curl -s ${bff}/api/v1/withholding/sign ${j} -H "authorization: Bearer $TOKEN" -d '{"bindingId":"<binding id>"}'
     confirm (my.paySignCenter): curl -s ${alipay}/control/agreements/sign ${j} -d '{"signStr":"<signStr>","userId":"${DEMO_USERS[0].userId}"}'
               curl -s ${bff}/api/v1/withholding -H "authorization: Bearer $TOKEN"   (ACTIVE, card bound at the card system)
  9. swipe at the canteen POS: curl -s ${cardsys}/control/swipe ${j} -d '{"schoolCode":"${schoolCode}","cardNo":"20260001","amountFen":1200,"terminalId":"POS-01"}'
     follow the deduction: ${tool} pos:client -- status --txn <txnNo>        (APPROVED; status PENDING → COLLECTED)
 10. arrears: set the payer's Alipay balance to 0 and swipe again: RETRYING, retried after 15 s and 30 s, then
     ARREARS (the demo school's short schedule); further swipes are DECLINED IN_ARREARS. Then repay:
               curl -s -XPUT ${alipay}/control/users/${DEMO_USERS[0].userId}/balance ${j} -d '{"balanceFen":0}'
               curl -s ${bff}/api/v1/debts -H "authorization: Bearer $TOKEN";  curl -s -XPOST ${bff}/api/v1/debts/repay -H "authorization: Bearer $TOKEN" ${j} -d '{}'
               then pay the repayment's tradeNo as in step 5 (after restoring the balance).

Campus code (校园码): the student shows Alipay's code, a shop till scans it offline and uploads it later:
 11. show the code: curl -s ${alipay}/control/campus-codes ${j} -d '{"userId":"${DEMO_USERS[0].userId}","schoolCode":"${schoolCode}","studentNo":"S2026001","studentName":"张三"}' > /tmp/code.json
 12. scan at a till: curl -s ${cardsys}/control/scan ${j} -d "{\\"schoolCode\\":\\"${schoolCode}\\",\\"terminalId\\":\\"TILL-01\\",\\"amountFen\\":800,\\"code\\":$(cat /tmp/code.json)}"
     (PAID at once; the till uploads within a second) then: curl -s ${cardsys}/control/scans/<txnNo>
     (answer ACCEPTED) and the statement of step 6 shows 校园码消费 ¥8.00 已支付. Within 2 minutes the same till
     refuses the code again (ALREADY_SCANNED); another till takes it and the platform answers DUPLICATE_CODE.
     Hold a till's uploads with curl -s -XPUT ${cardsys}/control/schools/${schoolCode}/campus-code-uploads ${j} -d '{"held":true}'
     (and '{"held":false}' to send them): uploads more than 24 h after the code are late, 10 days EXPIRED.
     Without waiting 10 days: a till that scanned a code 11 days ago and uploads it now (add "madeAt" to step 11
     and the same "scannedAt" to step 12):
               T=$(date -u -d '11 days ago' +%Y-%m-%dT%H:%M:%SZ)
               curl -s ${alipay}/control/campus-codes ${j} -d '{"userId":"${DEMO_USERS[0].userId}","schoolCode":"${schoolCode}","studentNo":"S2026001","studentName":"张三","madeAt":"'$T'"}' > /tmp/old-code.json
               curl -s ${cardsys}/control/scan ${j} -d "{\\"schoolCode\\":\\"${schoolCode}\\",\\"terminalId\\":\\"TILL-02\\",\\"amountFen\\":600,\\"scannedAt\\":\\"$T\\",\\"code\\":$(cat /tmp/old-code.json)}"
     the upload is answered EXPIRED (curl -s ${cardsys}/control/scans/<txnNo>); the school's admin (step 13) sees it
     in the mini-program's 校园码异常 → 上传过期, or: curl -s "${bff}/api/v1/admin/schools/${schoolId}/campus-code/exceptions?kind=EXPIRED" -H "authorization: Bearer $TOKEN"

School admin (the demo student ${DEMO_USERS[0].userId} is invited as owner of ${DEMO_SCHOOL.name}):
 13. ${ownerCode ? `owner invitation code: ${ownerCode}   (once, within 72 h; a new one is printed on the next start)` : 'the demo student is already an admin of the school'}
     in the mini-program: 选择学校 page → 我是学校管理员 → enter the code; or by hand:
               curl -s ${bff}/api/v1/admin/invitations/redeem ${j} -H "authorization: Bearer $TOKEN" -d '{"code":"<code>"}'
 14. change a setting, then read the audit log (the operator's view of it next to it):
               curl -s -XPUT ${bff}/api/v1/admin/schools/${schoolId}/settings ${j} -H "authorization: Bearer $TOKEN" -d '{"rechargeMinFen":500}'
               curl -s ${bff}/api/v1/admin/schools/${schoolId}/audit -H "authorization: Bearer $TOKEN";  ${tool} operator -- audit --school ${schoolCode}

Another school, from nothing to its first recharge, as the platform operator does it (README "Onboarding a school"):
 15. create it: ${tool} operator -- school create --code 4132010002 --name 新大学      (PENDING; prints authorizationLink.url)
 16. the school's Alipay account authorizes: open that url in a browser and press 确认授权 (the Alipay sandbox's
     authorization page sends it on to our callback, which answers 授权成功), or the same by hand:
               curl -sL '<authorizationLink.url>' --data-urlencode merchant_name=新大学
 17. its card system (the sandbox answers endpoint, username, password) and a student's card:
               curl -s ${cardsys}/control/schools ${j} -d '{"code":"4132010002","name":"新大学"}'
               curl -s ${cardsys}/control/schools/4132010002/cards ${j} -d '{"cardNo":"30260001","name":"赵六","studentNo":"N2026001","balanceFen":1000}'
 18. connect (tested with GetPersonInfo), activate, look (Alipay's .query answer included):
               echo '<password>' > /tmp/pw; ${tool} operator -- school connect-cardsys 4132010002 --endpoint <endpoint> --username <username> --password-file /tmp/pw
               ${tool} operator -- school activate 4132010002;  ${tool} operator -- school show 4132010002
 19. its first recharge: a new Alipay user logs in as in steps 1–2 (userId from this answer), then steps 3–6 with
     the new school's id and card 30260001 赵六, studentNo N2026001 (paid to 新大学's own Alipay account):
               curl -s ${alipay}/control/users ${j} -d '{"balanceFen":30000}'
 20. its owner: ${tool} operator -- admin invite --school 4132010002 --role owner   (redeem it as in step 13)
     the school withdraws its authorization in Alipay (then it is SUSPENDED; school link + step 16 lifts it):
               curl -s ${alipay}/control/merchant-authorizations/cancel ${j} -d '{"isvAppId":"${appId}","authAppId":"<school show: alipay.authAppId>"}'

Mini-program: BFF_URL=${bff} npm run build:miniprogram, then open dist/miniprogram in the Alipay IDE.
Stop with Ctrl-C (graceful).
`;
}

async function main(): Promise<void> {
  let base: Config;
  let ports: { alipay: number; cardsys: number };
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
  const logger = createLogger({ level: base.logLevel });
  const started = Date.now();
  const secrets = devSecrets(base.dataDir);
  let alipay: AlipaySandbox | undefined;
  let cardsys: CardsysSandbox | undefined;
  let server: RunningServer | undefined;
  const devFile = path.join(base.dataDir, 'dev.json');

  const stop = async () => {
    await server?.stop();
    await alipay?.close();
    await cardsys?.close();
    try {
      // The database URL dies with this process; tools must not try it later.
      const dev = JSON.parse(fs.readFileSync(devFile, 'utf8')) as Record<string, unknown>;
      delete dev.databaseUrl;
      dev.running = false;
      fs.writeFileSync(devFile, JSON.stringify(dev, null, 2), { mode: 0o600 });
    } catch {
      // nothing written yet
    }
  };
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    // Ctrl-C reaches this process twice under npm (from the terminal and relayed by tsx); one is enough.
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

    const env = {
      ...process.env,
      ALIPAY_APP_ID: process.env.ALIPAY_APP_ID || secrets.appId,
      ALIPAY_PRIVATE_KEY: process.env.ALIPAY_PRIVATE_KEY || secrets.appPrivateKey,
      ALIPAY_PUBLIC_KEY: process.env.ALIPAY_PUBLIC_KEY || alipay.alipayPublicKey,
      ALIPAY_GATEWAY: process.env.ALIPAY_GATEWAY || alipay.gatewayUrl,
      ALIPAY_APP_AUTH_URL: process.env.ALIPAY_APP_AUTH_URL || `${alipay.url}/oauth2/appToAppAuth.htm`,
    };
    const config = loadConfig(env);
    server = await startServer(config, { logger });
    const deps = server.deps;
    const sandboxes = {
      alipay: new AlipaySandboxControl(alipay.url),
      cardsys: new CardsysSandboxControl(cardsys.url),
      appId: secrets.appId,
    };
    // The open platform console's settings of our app, now that the server's address is known.
    await sandboxes.alipay.configureApp(secrets.appId, {
      appGatewayUrl: `${config.publicBaseUrl}/notify/alipay`,
      messageTopics: ['alipay.open.auth.appauth.cancelled'],
      authRedirectUri: `${config.publicBaseUrl}/isv/alipay/callback`,
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

    const dev = {
      running: true,
      pid: process.pid,
      bff: server.url,
      alipaySandbox: alipay.url,
      cardsysSandbox: cardsys.url,
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
      },
    };
    fs.writeFileSync(devFile, JSON.stringify(dev, null, 2), { mode: 0o600 });
    process.stdout.write(
      walkthrough({
        bff: server.url!,
        alipay: alipay.url,
        cardsys: cardsys.url,
        appId: secrets.appId,
        schoolId: school.id,
        schoolCode: school.code,
        ownerCode: invitation?.code ?? null,
        dataDir: base.dataDir,
      }),
    );
    logger.info('ready', { seconds: Math.round((Date.now() - started) / 100) / 10 });
  } catch (error) {
    logger.error('start failed', { error });
    await stop().catch(() => undefined);
    process.exit(1);
  }
}

void main();
