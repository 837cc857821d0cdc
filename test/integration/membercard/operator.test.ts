import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { runOperator } from '../../../scripts/operator/main.js';
import type { SystemInput } from '../../../scripts/sandbox/membercard/control-types.js';
import { membershipCards } from '../../../server/src/db/schema.js';
import { eventually, request } from '../../support/http.js';
import { startStack, type Stack } from '../../support/stack.js';
import { userWithCard } from '../student/helpers.js';
import { alipayUserId, crm, membercardOf } from './helpers.js';

/** `npm run operator -- membercard …`: a school's card in the Alipay wallet, set up and watched by the operator. */
describe('operator commands for the card in the Alipay wallet', function () {
  this.timeout(60_000);
  let stack: Stack;
  let env: NodeJS.ProcessEnv;
  let dir: string;

  before(async () => {
    stack = await startStack({ membercard: {}, env: { MEMBERCARD_SYNC_EVERY_MS: '500' } });
    env = { ...stack.app.env, PORT: String(new URL(stack.app.url).port), OPERATOR_NAME: 'mei' };
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'membercard-operator-'));
  });
  after(async () => {
    fs.rmSync(dir, { recursive: true, force: true });
    await stack.stop();
  });

  const mc = () => membercardOf(stack);
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
  /** An open-card request at the new (PENDING) school: 401 with a wrong token, else SCHOOL_DISABLED. */
  const openCardWith = (token: string) =>
    request('POST', `${stack.app.url}/crm/card/openCardInfo`, {
      body: { alipayUserId: alipayUserId() },
      headers: { token },
    });
  function keyFile(): string {
    const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const file = path.join(dir, `${crypto.randomUUID()}.pem`);
    fs.writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    return file;
  }
  /** Card management's settings for the stack's school, with some changed (restored by the caller). */
  async function reconfigureCardManagement(changes: (current: SystemInput) => Partial<SystemInput>) {
    const view = await mc().control.getSystem(mc().systemId);
    const current: SystemInput = {
      crmBaseUrl: view.crmBaseUrl,
      token: mc().crmToken,
      publicKey: view.publicKey,
      appId: view.appId,
      timeoutMs: view.timeoutMs,
      templates: view.templates.map(({ claimUrl: _url, ...template }) => template),
    };
    await mc().control.configureSystem(mc().systemId, { ...current, ...changes(current) });
    return () => mc().control.configureSystem(mc().systemId, current);
  }
  async function cardClaimed() {
    const bound = await userWithCard(stack);
    const claim = await mc().control.claim({
      templateId: mc().templates.student,
      alipayUserId: bound.user.openId,
    });
    assert.equal(claim.status, 'CLAIMED', claim.reason ?? '');
    return { ...bound, walletCard: claim.card! };
  }

  it('configures a school: the CRM token is shown once, kept on a change, and replaced only when asked', async () => {
    const code = String(crypto.randomInt(10 ** 9, 10 ** 10 - 1));
    assert.equal((await operator('school', 'create', '--code', code, '--name', '钱包大学')).code, 0);
    const key = `file:${keyFile()}`;
    const incomplete = await operator('membercard', 'configure', code, '--key', key);
    assert.equal(incomplete.code, 2);
    assert.match(incomplete.stderr, /--url is required/);

    const settings = ['--url', 'https://cards.example.edu/', '--key', key];
    const templates = ['--student-template', 'S1', '--staff-template', 'F1', '--lost-template', 'L1'];
    const made = await operator('membercard', 'configure', code, ...settings, ...templates);
    assert.equal(made.code, 0, made.stderr);
    assert.match(made.json.crmToken, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(made.json.crmBaseUrl, `${stack.app.env.PUBLIC_BASE_URL?.replace(/\/+$/, '')}/crm`);
    assert.match(made.json.publicKeyPem, /^-----BEGIN PUBLIC KEY-----/);
    assert.deepEqual(made.json.program, {
      cardManagementUrl: 'https://cards.example.edu',
      templates: { student: 'S1', staff: 'F1', lost: 'L1' },
      signingKeyRef: key,
      claimUrl: null,
      pointsPerYuan: 0,
    });
    const token = made.json.crmToken as string;
    assert.equal((await openCardWith(token)).body.error.code, 'SCHOOL_DISABLED');

    const changed = await operator('membercard', 'configure', code, '--points-per-yuan', '3');
    assert.equal(changed.code, 0, changed.stderr);
    assert.equal(changed.json.crmToken, undefined);
    assert.deepEqual([changed.json.program.pointsPerYuan, changed.json.program.templates.lost], [3, 'L1']);
    assert.equal((await openCardWith(token)).body.error.code, 'SCHOOL_DISABLED');

    const rotated = await operator('membercard', 'configure', code, '--new-token');
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.notEqual(rotated.json.crmToken, token);
    assert.equal((await openCardWith(token)).status, 401);
    assert.equal((await openCardWith(rotated.json.crmToken)).body.error.code, 'SCHOOL_DISABLED');

    const audit = await operator('audit', '--school', code);
    const actions = (audit.json as Array<{ action: string; who: string }>)
      .filter((row) => row.action.startsWith('membercard.'))
      .map((row) => `${row.who} ${row.action}`);
    assert.deepEqual(actions, [
      'operator:mei membercard.program.update',
      'operator:mei membercard.program.update',
      'operator:mei membercard.program.create',
    ]);
    const logged = JSON.stringify(audit.json);
    assert.ok(!logged.includes(token) && !logged.includes(rotated.json.crmToken));
  });

  it('shows the updates card management refused, and sends them again on the operator’s word', async () => {
    const { api, bindingId, user, walletCard } = await cardClaimed();
    // Card management checks with a key that is not ours: the loss's template change is refused.
    const { publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const restore = await reconfigureCardManagement(() => ({
      publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    }));
    await api.post(`/api/v1/bindings/${bindingId}/loss`);
    await eventually(async () => {
      const [row] = await stack.app.deps.db
        .select()
        .from(membershipCards)
        .where(eq(membershipCards.cardNo, walletCard.bizCardNo));
      return row.syncFailedAt !== null;
    });
    const shown = await operator('membercard', 'show', stack.school.code);
    assert.equal(shown.code, 0, shown.stderr);
    assert.equal(shown.json.cards.failed, 1);
    const [failed] = shown.json.failedUpdates;
    assert.deepEqual(
      [failed.cardNo, failed.wanted, failed.showing],
      [walletCard.bizCardNo, mc().templates.lost, mc().templates.student],
    );
    assert.match(failed.error, /验签失败/);

    await restore();
    const resent = await operator('membercard', 'resync', stack.school.code, '--card', walletCard.bizCardNo);
    assert.deepEqual([resent.code, resent.json.retried], [0, 1]);
    await mc().control.waitForCard(
      user.openId,
      walletCard.alipayCardNo,
      (card) => card.templateId === mc().templates.lost,
    );
    assert.equal((await operator('membercard', 'show', stack.school.code)).json.cards.failed, 0);
  });

  it('frees a campus card opened but never added to a wallet, and leaves a card in a wallet to its holder', async () => {
    const { user, card } = await userWithCard(stack);
    const opened = await crm(stack, 'openCardInfo', { alipayUserId: user.openId });
    assert.equal(opened.status, 200, opened.text);
    const released = await operator('membercard', 'release', stack.school.code, '--card', card.cardNo);
    assert.deepEqual([released.code, released.json], [0, { released: card.cardNo }]);
    const again = await operator('membercard', 'release', stack.school.code, '--card', card.cardNo);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /MEMBERSHIP_CARD_NOT_FOUND/);

    const { walletCard } = await cardClaimed();
    const inWallet = await operator(
      'membercard',
      'release',
      stack.school.code,
      '--card',
      walletCard.bizCardNo,
    );
    assert.equal(inWallet.code, 1);
    assert.match(inWallet.stderr, /MEMBERSHIP_CARD_TAKEN/);
    const audit = await operator('audit', '--school', stack.school.code, '--limit', '5');
    assert.ok(
      (audit.json as Array<{ action: string; target: string }>).some(
        (row) => row.action === 'membercard.card.release' && row.target === card.cardNo,
      ),
    );
  });

  it('moves the wallet cards to new template ids', async () => {
    const { user, walletCard } = await cardClaimed();
    const student2 = `${mc().templates.student}N`;
    await reconfigureCardManagement((current) => ({
      templates: [...current.templates, { templateId: student2, name: '学生卡（新版）' }],
    }));
    const moved = await operator(
      'membercard',
      'configure',
      stack.school.code,
      '--student-template',
      student2,
    );
    assert.equal(moved.code, 0, moved.stderr);
    assert.ok(moved.json.cardsToUpdate >= 1);
    await mc().control.waitForCard(
      user.openId,
      walletCard.alipayCardNo,
      (card) => card.templateId === student2,
    );
  });
});
