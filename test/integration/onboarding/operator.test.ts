import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { runOperator } from '../../../scripts/operator/main.js';
import { startStack, type Stack } from '../../support/stack.js';

const run = promisify(execFile);

/** `npm run operator -- …` (issue 10): each command in-process, one through npm to check the wiring. */
describe('operator commands', function () {
  this.timeout(60_000);
  let stack: Stack;
  let env: NodeJS.ProcessEnv;
  let passwordDir: string;

  before(async () => {
    stack = await startStack();
    env = {
      ...stack.app.env,
      PORT: String(new URL(stack.app.url).port),
      OPERATOR_NAME: 'alice',
      ALIPAY_APP_AUTH_URL: `${stack.alipay.url}/oauth2/appToAppAuth.htm`,
    };
    passwordDir = fs.mkdtempSync(path.join(os.tmpdir(), 'operator-test-'));
  });
  after(async () => {
    fs.rmSync(passwordDir, { recursive: true, force: true });
    await stack.stop();
  });

  async function operator(...argv: string[]) {
    let stdout = '';
    let stderr = '';
    const code = await runOperator(argv, {
      env,
      stdout: (text) => (stdout += text),
      stderr: (text) => (stderr += text),
    });
    return { code, json: stdout ? JSON.parse(stdout) : undefined, stderr };
  }

  function passwordFile(password: string): string {
    const file = path.join(passwordDir, crypto.randomUUID());
    fs.writeFileSync(file, `${password}\n`);
    return file;
  }

  const newCode = () => String(crypto.randomInt(10 ** 9, 10 ** 10 - 1));

  it('creates a PENDING school and prints an authorization link bound to it by a state', async () => {
    const code = newCode();
    const created = await operator('school', 'create', '--code', code, '--name', '运营创建大学');
    assert.equal(created.code, 0, created.stderr);
    assert.deepEqual([created.json.school.code, created.json.school.status], [code, 'PENDING']);
    const link = new URL(created.json.authorizationLink.url);
    assert.equal(`${link.origin}${link.pathname}`, `${stack.alipay.url}/oauth2/appToAppAuth.htm`);
    assert.equal(link.searchParams.get('app_id'), stack.alipay.appId);
    assert.equal(link.searchParams.get('redirect_uri'), `${stack.app.url}/isv/alipay/callback`);
    assert.match(link.searchParams.get('state') ?? '', /^[0-9a-f]{48}$/);

    const again = await operator('school', 'create', '--code', code, '--name', '重名');
    assert.equal(again.code, 1);
    assert.match(again.stderr, /SCHOOL_EXISTS/);
    const bad = await operator('school', 'create', '--code', '123', '--name', 'x');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /VALIDATION_FAILED: code/);
    const missing = await operator('school', 'create', '--code', newCode());
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--name is required/);
  });

  it('connects the card system only after a GetPersonInfo test passes, and stores no password in clear', async () => {
    const code = newCode();
    await operator('school', 'create', '--code', code, '--name', '接入大学');
    const vendor = await stack.cardsys.control.createSchool({ code, name: '接入大学' });
    const wrong = await operator(
      'school',
      'connect-cardsys',
      code,
      '--endpoint',
      vendor.endpoint,
      '--username',
      vendor.username,
      '--password-file',
      passwordFile('wrong'),
    );
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /CARD_SYSTEM_REJECTED.*AUTH_FAILED/);
    assert.equal((await operator('school', 'show', code)).json.cardSystem.endpoint, null);

    const right = await operator(
      'school',
      'connect-cardsys',
      code,
      '--endpoint',
      vendor.endpoint,
      '--username',
      vendor.username,
      '--password-file',
      passwordFile(vendor.password),
    );
    assert.equal(right.code, 0, right.stderr);
    assert.match(right.json.test, /GetPersonInfo/);
    const shown = await operator('school', 'show', code);
    assert.deepEqual(
      [shown.json.cardSystem.endpoint, shown.json.cardSystem.username],
      [vendor.endpoint, vendor.username],
    );
    const { rows } = await stack.app.deps.pool.query('select t::text as row from schools t where code = $1', [
      code,
    ]);
    assert.ok(!rows[0].row.includes(vendor.password), 'the password is stored encrypted');
  });

  it('activates only once both sides answer; suspends and resumes with the reason shown; audits every step as the operator', async () => {
    const code = newCode();
    await operator('school', 'create', '--code', code, '--name', '开通大学');
    const vendor = await stack.cardsys.control.createSchool({ code, name: '开通大学' });
    await operator(
      'school',
      'connect-cardsys',
      code,
      '--endpoint',
      vendor.endpoint,
      '--username',
      vendor.username,
      '--password-file',
      passwordFile(vendor.password),
    );
    const early = await operator('school', 'activate', code);
    assert.equal(early.code, 1);
    assert.match(early.stderr, /SCHOOL_NOT_READY.*Alipay: not authorized yet/);

    const { appAuthCode } = await stack.alipay.control.authorizeMerchant({ isvAppId: stack.alipay.appId });
    assert.equal((await operator('school', 'authorize', code, '--auth-code', appAuthCode)).code, 0);
    const activated = await operator('school', 'activate', code);
    assert.equal(activated.code, 0, activated.stderr);
    assert.equal(activated.json.status, 'ACTIVE');
    const shown = await operator('school', 'show', code);
    assert.equal(shown.json.alipay.query.isValid, true);

    const suspended = await operator('school', 'suspend', code, '--reason', '合同到期');
    assert.deepEqual(
      [suspended.json.status, suspended.json.suspension.reason, suspended.json.suspension.detail],
      ['SUSPENDED', 'OPERATOR', '合同到期'],
    );
    const resumed = await operator('school', 'resume', code);
    assert.equal(resumed.json.status, 'ACTIVE');

    const audit = await operator('audit', '--school', code);
    assert.deepEqual(audit.json.map((e: { action: string }) => e.action).reverse(), [
      'school.create',
      'school.isv.link',
      'school.cardsys.connect',
      'school.isv.authorize',
      'school.activate',
      'school.suspend',
      'school.resume',
    ]);
    assert.ok(audit.json.every((e: { who: string }) => e.who === 'operator:alice'));
    // Each command run is one request: `school create` wrote the school and its link under one id.
    const requestOf = (action: string) =>
      audit.json.find((e: { action: string }) => e.action === action).requestId as string;
    assert.match(requestOf('school.create'), /^op-/);
    assert.equal(requestOf('school.isv.link'), requestOf('school.create'));
    assert.notEqual(requestOf('school.activate'), requestOf('school.create'));
    const connect = audit.json.find((e: { action: string }) => e.action === 'school.cardsys.connect');
    assert.equal(JSON.stringify(connect).includes(vendor.password), false);
  });

  it('invites an admin with a one-time code for the mini-program', async () => {
    const invite = await operator(
      'admin',
      'invite',
      '--school',
      stack.school.code,
      '--role',
      'owner',
      '--name',
      '张校长',
    );
    assert.equal(invite.code, 0, invite.stderr);
    assert.equal(invite.json.role, 'OWNER');
    const http = await (await stack.createUser()).login();
    const joined = await http.post('/api/v1/admin/invitations/redeem', { code: invite.json.code });
    assert.deepEqual([joined.status, joined.body.role], [201, 'OWNER']);
    const listed = await operator('admin', 'list', '--school', stack.school.code);
    assert.ok(
      listed.json.some(
        (a: { userId: string; displayName: string }) => a.userId === http.id && a.displayName === '张校长',
      ),
    );
    const audit = await operator('audit', '--school', stack.school.code, '--limit', '5');
    const join = audit.json.find(
      (e: { action: string; who: string }) => e.action === 'admin.join' && e.who === `admin:${http.id}`,
    );
    assert.equal(join?.name, '张校长', 'the audit log names the admin');
    const wrongRole = await operator('admin', 'invite', '--school', stack.school.code, '--role', 'boss');
    assert.equal(wrongRole.code, 2);
  });

  it('lists its commands and runs through npm', async () => {
    const help = await operator('--help');
    assert.match(help.stderr, /school create --code <10 digits> --name <name>/);
    assert.match(help.stderr, /admin invite --school <code> --role owner\|staff\|viewer/);
    const { stdout } = await run(
      'npm',
      ['run', '--silent', 'operator', '--', 'school', 'show', stack.school.code],
      {
        env: { ...process.env, ...env },
      },
    );
    assert.equal(JSON.parse(stdout).school.status, 'ACTIVE');
  });
});
