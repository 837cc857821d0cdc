import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runOperator } from '../../../scripts/operator/main.js';
import { createAuthorizationLink } from '../../../server/src/domain/schools/isv-authorization.js';
import { OffsetClock } from '../../support/clock.js';
import { eventually, request } from '../../support/http.js';
import { startStack, type Stack } from '../../support/stack.js';
import { userWithCard } from '../student/helpers.js';

const HOUR = 3_600_000;

/**
 * A school comes on board by itself (issue 10), over HTTP from end to end: the operator's commands, the
 * school's Alipay account on the sandbox's authorization page, Alipay's redirect to our callback, the card
 * system tested and connected, activation, and then a student of that school recharging.
 */
describe('school onboarding, from nothing to the first recharge', function () {
  this.timeout(90_000);
  let stack: Stack;
  let env: NodeJS.ProcessEnv;
  let dir: string;
  const clock = new OffsetClock();

  before(async () => {
    stack = await startStack({ clock });
    env = { ...stack.app.env, OPERATOR_NAME: 'bob' };
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onboarding-test-'));
  });
  after(async () => {
    fs.rmSync(dir, { recursive: true, force: true });
    await stack.stop();
  });

  async function operator(...argv: string[]) {
    let stdout = '';
    let stderr = '';
    const code = await runOperator(argv, { env, stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
    assert.equal(code, 0, `${argv.join(' ')}: ${stderr}`);
    return JSON.parse(stdout);
  }

  async function newSchool(name: string) {
    const code = String(crypto.randomInt(10 ** 9, 10 ** 10 - 1));
    const created = await operator('school', 'create', '--code', code, '--name', name);
    return { code, id: created.school.id as string, link: created.authorizationLink.url as string };
  }

  async function authorizationCount(schoolId: string): Promise<number> {
    const { rows } = await stack.app.deps.pool.query(
      'select count(*)::int as n from isv_authorizations where school_id = $1',
      [schoolId],
    );
    return rows[0].n;
  }

  it('creates, authorizes in Alipay, connects the card system, activates, and a student recharges', async () => {
    const school = await newSchool('新开大学');
    // The school's Alipay account opens the link and agrees; Alipay sends the browser to our callback.
    const { redirectUrl } = await stack.alipay.control.authorizeLink(school.link, {
      merchantName: '新开大学',
    });
    assert.ok(redirectUrl.startsWith(`${stack.app.url}/isv/alipay/callback?`), redirectUrl);
    const page = await request('GET', redirectUrl);
    assert.equal(page.status, 200, page.text);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    assert.match(page.text, /授权成功/);
    assert.match(page.text, /新开大学/);

    const vendor = await stack.cardsys.control.createSchool({ code: school.code, name: '新开大学' });
    const passwordFile = path.join(dir, 'password');
    fs.writeFileSync(passwordFile, vendor.password);
    await operator(
      'school',
      'connect-cardsys',
      school.code,
      '--endpoint',
      vendor.endpoint,
      '--username',
      vendor.username,
      '--password-file',
      passwordFile,
    );
    const shown = await operator('school', 'show', school.code);
    assert.equal(shown.school.status, 'PENDING');
    assert.equal(shown.alipay.query.isValid, true);
    assert.equal(shown.alipay.authorization.source, 'callback');
    assert.equal((await operator('school', 'activate', school.code)).status, 'ACTIVE');

    // A student of the new school finds it, binds a card and recharges ¥20.00.
    const {
      user: student,
      api: http,
      bindingId,
    } = await userWithCard(stack, {
      school: { id: school.id, code: school.code },
      balanceFen: 50_000,
      cardBalanceFen: 100,
    });
    const found = await http.get(`/api/v1/schools?q=${school.code}`);
    assert.deepEqual(
      found.body.items.map((s: { id: string }) => s.id),
      [school.id],
    );
    const recharge = await http.post('/api/v1/recharges', { bindingId, amountFen: 2000 });
    assert.equal(recharge.status, 201, recharge.text);
    await stack.alipay.control.payTrade({ tradeNO: recharge.body.tradeNo, userId: student.userId });
    await eventually(
      async () => (await http.get(`/api/v1/recharges/${recharge.body.id}`)).body.status === 'CREDITED',
      {
        timeoutMs: 15_000,
        message: 'the first recharge never reached the card',
      },
    );
    const { trades } = await stack.alipay.control.ledger({ outTradeNo: recharge.body.outTradeNo });
    assert.equal(trades[0].sellerId, shown.alipay.sellerId, "paid to the school's own Alipay account");

    const actions = (await operator('audit', '--school', school.code)).map(
      (e: { action: string }) => e.action,
    );
    assert.deepEqual(actions.reverse(), [
      'school.create',
      'school.isv.link',
      'school.isv.authorize',
      'school.cardsys.connect',
      'school.activate',
    ]);
  });

  it('changes nothing when the redirect is replayed, and says why', async () => {
    const school = await newSchool('重放大学');
    const { redirectUrl } = await stack.alipay.control.authorizeLink(school.link);
    assert.equal((await request('GET', redirectUrl)).status, 200);
    const replayed = await request('GET', redirectUrl);
    assert.equal(replayed.status, 409);
    assert.match(replayed.text, /授权没有完成/);
    assert.match(replayed.text, /已经用过了/);
    // The same state with another account's fresh code: still refused, nothing replaced.
    const other = await stack.alipay.control.authorizeLink(school.link, { merchantName: '冒充者' });
    assert.equal((await request('GET', other.redirectUrl)).status, 409);
    assert.equal(await authorizationCount(school.id), 1);
  });

  it('gives the link back when Alipay refuses the code, so the school can try again', async () => {
    const school = await newSchool('重试大学');
    const { redirectUrl } = await stack.alipay.control.authorizeLink(school.link);
    const broken = new URL(redirectUrl);
    broken.searchParams.set('app_auth_code', 'P0000000000000000');
    const refused = await request('GET', broken.toString());
    assert.equal(refused.status, 502);
    assert.equal((await request('GET', redirectUrl)).status, 200);
  });
  // Last: it moves the server's clock past every link made so far.
  it('refuses an expired link and a state that is not ours, and changes nothing', async () => {
    const school = await newSchool('过期大学');
    const { redirectUrl } = await stack.alipay.control.authorizeLink(school.link);
    clock.advance(stack.app.deps.config.isv.linkTtlHours * HOUR + 1000);
    const expired = await request('GET', redirectUrl);
    assert.equal(expired.status, 409);
    assert.match(expired.text, /过期/);
    const forged = new URL(redirectUrl);
    forged.searchParams.set('state', 'f'.repeat(48));
    assert.equal((await request('GET', forged.toString())).status, 400);
    const missing = await request('GET', `${stack.app.url}/isv/alipay/callback`);
    assert.equal(missing.status, 400);
    assert.equal(await authorizationCount(school.id), 0);
    // A new link works (made on the server's clock, which this test moved forward).
    const fresh = await createAuthorizationLink(stack.app.deps, { kind: 'OPERATOR', name: 'bob' }, school.id);
    const again = await stack.alipay.control.authorizeLink(fresh.url);
    assert.equal((await request('GET', again.redirectUrl)).status, 200);
    assert.equal(await authorizationCount(school.id), 1);
  });
});
