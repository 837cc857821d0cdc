import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AlipaySandboxControl } from '../../../scripts/sandbox/alipay/control-client.js';
import { CardsysSandboxControl } from '../../../scripts/sandbox/cardsys/control-client.js';
import { runOperator } from '../../../scripts/operator/main.js';
import { freshDatabase } from '../../support/db.js';
import { DevStart, devStartPorts } from '../../support/dev-start.js';
import { client, eventually, request } from '../../support/http.js';

interface DevFile {
  bff: string;
  alipaySandbox: string;
  cardsysSandbox: string;
  alipay: { appId: string };
  demo: {
    schoolId: string;
    schoolCode: string;
    alipayUsers: { role: string; userId: string }[];
    ownerInvitation: { code: string } | null;
  };
}

/**
 * Issue 10's "done when", against `npm start` itself (scripts/dev.ts) on its own ports and data folder:
 * the demo school came on board through the authorization link and our callback, and a second school
 * goes from nothing to its first recharge with the operator commands — which find that server through
 * <DATA_DIR>/dev.json, as a person's `npm run operator` next to it does — the sandbox's authorization page,
 * an owner who changes a setting and reads it in the audit log, and a student who recharges.
 */
describe('npm start: the demo school and a second school onboarded by the operator', function () {
  this.timeout(180_000);
  let dataDir: string;
  let start: DevStart;
  let dev: DevFile;

  before(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'npm-start-test-'));
    start = new DevStart({
      DATA_DIR: dataDir,
      ...(await devStartPorts()),
      LOG_LEVEL: 'error',
      // A database of the tests' cluster rather than a cluster of its own in DATA_DIR (initdb is slow;
      // npm start's embedded cluster has its own tests in foundation/embedded-postgres.test.ts and
      // demo/npm-start-stop.test.ts).
      DATABASE_URL: await freshDatabase(),
    });
    await start.ready();
    dev = JSON.parse(fs.readFileSync(path.join(dataDir, 'dev.json'), 'utf8')) as DevFile;
  });

  after(async () => {
    await start?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  async function operator(...argv: string[]) {
    let stdout = '';
    let stderr = '';
    const { DATABASE_URL: _unused, ...env } = process.env;
    const code = await runOperator(argv, {
      // Like a person's `DATA_DIR=… npm run operator` next to that npm start: dev.json says the rest.
      env: { ...env, DATA_DIR: dataDir, OPERATOR_NAME: 'walkthrough' },
      stdout: (text) => (stdout += text),
      stderr: (text) => (stderr += text),
    });
    assert.equal(code, 0, `operator ${argv.join(' ')}: ${stderr}`);
    return JSON.parse(stdout);
  }

  async function login(alipay: AlipaySandboxControl, userId: string) {
    const { authCode } = await alipay.issueAuthCode({ userId, appId: dev.alipay.appId });
    const session = await request('POST', `${dev.bff}/api/v1/session`, { body: { authCode } });
    assert.equal(session.status, 200, session.text);
    return client(dev.bff, session.body.token);
  }

  it('onboarded the demo school through the link and the callback, and printed the walk-through for this data folder', async () => {
    const shown = await operator('school', 'show', dev.demo.schoolCode);
    assert.equal(shown.school.status, 'ACTIVE');
    assert.equal(shown.alipay.authorization.source, 'callback');
    assert.equal(shown.alipay.query.isValid, true);
    assert.ok(dev.demo.ownerInvitation, 'no owner invitation for the demo student');
    assert.match(start.output, new RegExp(`owner invitation code: ${dev.demo.ownerInvitation.code}`));
    assert.match(start.output, new RegExp(`DATA_DIR=${dataDir} npm run operator -- school create`));
  });

  it('takes a second school from nothing to its first recharge, with an owner who changes a setting', async () => {
    const alipay = new AlipaySandboxControl(dev.alipaySandbox);
    const cardsys = new CardsysSandboxControl(dev.cardsysSandbox);
    const code = '4132010002';

    const created = await operator('school', 'create', '--code', code, '--name', '新大学');
    assert.equal(created.school.status, 'PENDING');
    // The school's account opens the link (the sandbox's authorization page), confirms, and is sent on.
    const page = await fetch(created.authorizationLink.url);
    assert.match(await page.text(), /确认授权/);
    const { redirectUrl } = await alipay.authorizeLink(created.authorizationLink.url, {
      merchantName: '新大学',
    });
    const result = await fetch(redirectUrl);
    assert.equal(result.status, 200);
    assert.match(await result.text(), /授权成功/);

    const vendor = await cardsys.createSchool({ code, name: '新大学' });
    await cardsys.createCard(code, {
      cardNo: '30260001',
      name: '赵六',
      studentNo: 'N2026001',
      balanceFen: 1000,
    });
    const passwordFile = path.join(dataDir, 'vendor-password');
    fs.writeFileSync(passwordFile, `${vendor.password}\n`);
    await operator(
      'school',
      'connect-cardsys',
      code,
      '--endpoint',
      vendor.endpoint,
      '--username',
      vendor.username,
      '--password-file',
      passwordFile,
    );
    const activated = await operator('school', 'activate', code);
    assert.equal(activated.status, 'ACTIVE');
    const schoolId = activated.id as string;

    // Its owner, in the mini-program's admin API.
    const invitation = await operator(
      'admin',
      'invite',
      '--school',
      code,
      '--role',
      'owner',
      '--name',
      '王老师',
    );
    const person = await alipay.createUser({ balanceFen: 30_000 });
    const owner = await login(alipay, person.userId);
    const joined = await owner.post('/api/v1/admin/invitations/redeem', { code: invitation.code });
    assert.deepEqual([joined.status, joined.body.role], [201, 'OWNER']);
    const changed = await owner.put(`/api/v1/admin/schools/${schoolId}/settings`, { rechargeMinFen: 500 });
    assert.equal(changed.status, 200, changed.text);
    const audit = await owner.get(`/api/v1/admin/schools/${schoolId}/audit`);
    assert.deepEqual(audit.body.items[0].after, { rechargeMinFen: 500 });
    const operatorView = await operator('audit', '--school', code, '--limit', '1');
    assert.deepEqual([operatorView[0].action, operatorView[0].name], ['school.settings.update', '王老师']);

    // A student of the new school recharges; the money goes to the school's own Alipay account.
    const bound = await owner.post('/api/v1/bindings', {
      schoolId,
      cardNo: '30260001',
      name: '赵六',
      relation: 'SELF',
      studentNo: 'N2026001',
    });
    assert.equal(bound.status, 201, bound.text);
    const recharge = await owner.post('/api/v1/recharges', { bindingId: bound.body.id, amountFen: 5000 });
    assert.equal(recharge.status, 201, recharge.text);
    await alipay.payTrade({ tradeNO: recharge.body.tradeNo, userId: person.userId });
    await eventually(
      async () => (await owner.get(`/api/v1/recharges/${recharge.body.id}`)).body.status === 'CREDITED',
      { timeoutMs: 20_000, message: 'the first recharge of the new school was not credited' },
    );
    assert.equal((await cardsys.getCard(code, '30260001')).balanceFen, 6000);
    const shown = await operator('school', 'show', code);
    const ledger = await alipay.ledger({ tradeNo: recharge.body.tradeNo });
    assert.equal(ledger.trades[0].sellerId, shown.alipay.sellerId);
  });

  it('stops on Ctrl-C', async () => {
    assert.equal(await start.stop(), 0);
  });
});
