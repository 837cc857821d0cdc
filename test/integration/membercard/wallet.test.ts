import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { SystemInput } from '../../../scripts/sandbox/membercard/control-types.js';
import { findBinding } from '../../../server/src/db/repos/cards/bindings.js';
import { markCredited } from '../../../server/src/db/repos/recharge/credit-batches.js';
import { markCreditedMany } from '../../../server/src/db/repos/recharge/recharges.js';
import { membershipCards } from '../../../server/src/db/schema.js';
import { signParams } from '../../../server/src/integrations/membercard/signature.js';
import { privateKeyOf } from '../../../server/src/lib/key-references.js';
import { eventually, request } from '../../support/http.js';
import { startStack, type Stack } from '../../support/stack.js';
import { insertedRecharge, userWithCard, waitForRecharge } from '../student/helpers.js';
import { addRosterEntry, alipayUserId, identifiers, membercardOf } from './helpers.js';

/**
 * The card in the Alipay wallet, end to end with the AntBuilder card-management sandbox: it calls our CRM
 * routes with the school's token and checks our RSA2-signed updates with our public key.
 */
describe('the campus card in the Alipay card wallet', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({
      membercard: { pointsPerYuan: 2 },
      env: { MEMBERCARD_SYNC_RETRY_MS: '100,200', MEMBERCARD_SYNC_EVERY_MS: '500' },
    });
  });
  after(() => stack.stop());

  const mc = () => membercardOf(stack);
  const claimBound = async (cardBalanceFen = 2_000) => {
    const bound = await userWithCard(stack, { cardBalanceFen });
    const claim = await mc().control.claim({
      templateId: mc().templates.student,
      alipayUserId: bound.user.openId,
    });
    assert.equal(claim.status, 'CLAIMED', claim.reason ?? '');
    return { ...bound, walletCard: claim.card! };
  };
  const walletRow = async (cardNo: string) =>
    (await stack.app.deps.db.select().from(membershipCards).where(eq(membershipCards.cardNo, cardNo)))[0];
  /** Card management's settings for the school, with some changed (restored by the caller). */
  const reconfigure = async (changes: Partial<SystemInput>) => {
    const view = await mc().control.getSystem(mc().systemId);
    const current: SystemInput = {
      crmBaseUrl: view.crmBaseUrl,
      token: mc().crmToken,
      publicKey: view.publicKey,
      appId: view.appId,
      timeoutMs: view.timeoutMs,
      templates: view.templates.map(({ claimUrl: _url, ...template }) => template),
    };
    await mc().control.configureSystem(mc().systemId, { ...current, ...changes });
    return () => mc().control.configureSystem(mc().systemId, current);
  };

  it('lets a student claim the card with the open-card form and see its balance in the wallet', async () => {
    const card = await stack.createCard({ name: '王小明', balanceFen: 2_000 });
    const { idNumber } = identifiers();
    await addRosterEntry(stack, { name: '王小明', cardNo: card.cardNo, idNumber });
    const user = alipayUserId();
    const claim = await mc().control.claim({
      templateId: mc().templates.student,
      alipayUserId: user,
      form: { name: '王小明', certNo: idNumber, gender: 'M' },
    });
    assert.equal(claim.status, 'CLAIMED', claim.reason ?? '');
    // Only the fields the template's form asks for are sent (gender is not one of them).
    assert.equal(claim.openCardInfo.request.gender, undefined);
    assert.deepEqual(
      [claim.card!.bizCardNo, claim.card!.balance, claim.card!.templateId, claim.cardChange?.outcome],
      [card.cardNo, '20.00', mc().templates.student, 'OK'],
    );
    assert.equal((await walletRow(card.cardNo)).status, 'IN_WALLET');

    await stack.cardsys.control.setBalance(stack.school.code, card.cardNo, 1_550);
    const shown = await mc().control.showCard(user, claim.card!.alipayCardNo);
    assert.deepEqual([shown.refresh.outcome, shown.card.balance], ['OK', '15.50']);
  });

  it('switches the wallet card to the LOST template when the card is reported lost, signed and verified', async () => {
    const { api, bindingId, user, walletCard } = await claimBound();
    const loss = await api.post(`/api/v1/bindings/${bindingId}/loss`);
    assert.equal(loss.status, 200, loss.text);
    const lost = await mc().control.waitForCard(
      user.openId,
      walletCard.alipayCardNo,
      (c) => c.templateId === mc().templates.lost,
    );
    assert.equal(lost.templateName, '已挂失');
    const { inbound } = await mc().control.calls();
    const change = inbound.find(
      (c) => c.path === '/card/changeTemplate' && c.params.bizCardNo === walletCard.bizCardNo,
    );
    assert.deepEqual(
      [change?.signatureValid, change?.status, change?.params.templateId, change?.params.targetTemplateId],
      [true, 'OK', mc().templates.student, mc().templates.lost],
    );
    assert.equal(change?.params.changeReason, '校园卡已挂失');
    // Card management took it: our record says so once the job has written the answer down.
    await eventually(async () => {
      const row = await walletRow(walletCard.bizCardNo);
      return row.templateId === mc().templates.lost && row.nextSyncAt === null && row.lastSyncError === null;
    });
  });

  it('switches the wallet card back to its level’s template when the loss is cancelled (解挂)', async () => {
    const { api, bindingId, user, walletCard } = await claimBound();
    await api.post(`/api/v1/bindings/${bindingId}/loss`);
    await mc().control.waitForCard(
      user.openId,
      walletCard.alipayCardNo,
      (c) => c.templateId === mc().templates.lost,
    );
    const found = await api.delete(`/api/v1/bindings/${bindingId}/loss`);
    assert.equal(found.status, 200, found.text);
    const back = await mc().control.waitForCard(
      user.openId,
      walletCard.alipayCardNo,
      (c) => c.templateId === mc().templates.student,
    );
    assert.match(back.updates.at(-1)!.change, /已挂失 → 学生卡（校园卡已解挂）/);
  });

  it('shows the LOST template after a loss reported at the counter, once the wallet card is opened', async () => {
    const { user, card, walletCard } = await claimBound();
    await stack.cardsys.control.setStatus(stack.school.code, card.cardNo, 'LOST');
    await mc().control.showCard(user.openId, walletCard.alipayCardNo);
    await mc().control.waitForCard(
      user.openId,
      walletCard.alipayCardNo,
      (c) => c.templateId === mc().templates.lost,
    );
    await stack.cardsys.control.setStatus(stack.school.code, card.cardNo, 'NORMAL');
    await mc().control.showCard(user.openId, walletCard.alipayCardNo);
    await mc().control.waitForCard(
      user.openId,
      walletCard.alipayCardNo,
      (c) => c.templateId === mc().templates.student,
    );
  });

  it('sends the points total when a recharge is credited (the school gives 2 points per yuan)', async () => {
    const { api, bindingId, user, walletCard } = await claimBound();
    const created = await api.post('/api/v1/recharges', { bindingId, amountFen: 5_050 });
    await stack.alipay.control.payTrade({ tradeNO: created.body.tradeNo, userId: user.userId });
    await waitForRecharge(api, created.body.id, 'CREDITED');
    const card = await mc().control.waitForCard(user.openId, walletCard.alipayCardNo, (c) => c.point === 100);
    assert.match(card.updates.at(-1)!.change, /积分 0 → 100（充值50元）/);
  });

  /** A recharge of the binding's card, PAID at `now` and due only in an hour: the crediting drainer leaves it to the test. */
  async function paidRecharge(bindingId: string, amountFen: number, now: Date) {
    const later = new Date(now.getTime() + 3_600_000);
    return insertedRecharge(stack, bindingId, {
      amountFen,
      status: 'PAID',
      paidAt: now,
      nextCreditAt: later,
      expiresAt: later,
    });
  }

  it('adds up the points of two recharges of one card credited in the same statement', async () => {
    const { bindingId, user, walletCard } = await claimBound();
    const { pool } = stack.app.deps;
    const now = new Date();
    const [first, second] = [
      await paidRecharge(bindingId, 1_000, now),
      await paidRecharge(bindingId, 2_050, now),
    ];
    const credited = await markCreditedMany(pool, [
      { id: first.id, at: now },
      { id: second.id, at: now },
    ]);
    assert.deepEqual(
      credited.map((c) => c.isCredited),
      [true, true],
    );
    assert.deepEqual(
      credited.map((c) => c.pointsCardIds.length),
      [1, 1],
    );
    // 10 yuan and 20 yuan at 2 points per yuan: both count, not one of them.
    const card = await mc().control.waitForCard(user.openId, walletCard.alipayCardNo, (c) => c.point === 60);
    assert.match(card.updates.at(-1)!.change, /积分 0 → 60（充值30元）/);
    const again = await markCreditedMany(pool, [{ id: first.id, at: now }]);
    assert.deepEqual(again, [{ isCredited: false, pointsCardIds: [] }]);
    assert.equal((await walletRow(walletCard.bizCardNo)).points, 60);
  });

  it('credits the others written with it when one credit cannot be written: the bad one fails alone', async () => {
    const { bindingId } = await claimBound();
    const { pool } = stack.app.deps;
    const now = new Date();
    const binding = (await findBinding(stack.app.deps.db, bindingId))!;
    const [good, bad] = [
      await paidRecharge(bindingId, 1_000, now),
      await paidRecharge(bindingId, 1_000, now),
    ];
    // Submitted in the same turn: one statement for both, which the bad message makes fail.
    const broken = {
      userId: 'not-a-uuid',
      schoolId: binding.schoolId,
      kind: 'RECHARGE_CREDITED',
      dedupKey: `x:${bad.id}`,
      page: 'p',
      values: [],
    };
    const [goodResult, badResult] = await Promise.allSettled([
      markCredited(pool, { id: good.id, at: now }),
      markCredited(pool, { id: bad.id, at: now, message: broken }),
    ]);
    assert.equal(goodResult.status, 'fulfilled');
    assert.equal(badResult.status, 'rejected');
    const { rows } = await pool.query<{ id: string; status: string }>(
      'select id, status from recharge_orders where id = any($1)',
      [[good.id, bad.id]],
    );
    assert.deepEqual(Object.fromEntries(rows.map((r) => [r.id, r.status])), {
      [good.id]: 'CREDITED',
      [bad.id]: 'PAID',
    });
  });

  it('rejects a tampered signature at card management and keeps the card as it was', async () => {
    const { walletCard } = await claimBound();
    const signed = signParams(
      {
        templateId: walletCard.templateId,
        bizCardNo: walletCard.bizCardNo,
        point: '10',
        changeReason: 'test',
      },
      privateKeyOf(mc().signingKeyRef),
    );
    const answer = await request('POST', `${mc().sandbox.url}/card/update`, {
      body: { ...signed, point: '99999' },
    });
    assert.deepEqual(answer.body, { status: 'FAIL', errmsg: '验签失败' });
    const { inbound } = await mc().control.calls();
    assert.equal(inbound.at(-1)?.signatureValid, false);
    const card = (await mc().control.wallet(walletCard.alipayUserId))[0];
    assert.equal(card.point, 0);

    const genuine = await request('POST', `${mc().sandbox.url}/card/update`, { body: signed });
    assert.deepEqual(genuine.body, { status: 'OK' });
  });

  it('stops sending an update card management refuses, and says why', async () => {
    const { api, bindingId, user, walletCard } = await claimBound();
    // Card management checks with a key that is not ours: every update is refused.
    const { publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const restore = await reconfigure({
      publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    });
    try {
      await api.post(`/api/v1/bindings/${bindingId}/loss`);
      const row = await eventually(async () => {
        const current = await walletRow(walletCard.bizCardNo);
        return current.syncFailedAt ? current : undefined;
      });
      assert.match(row.lastSyncError ?? '', /FAIL: 验签失败/);
      assert.equal((await mc().control.wallet(user.openId))[0].templateId, mc().templates.student);
    } finally {
      await restore();
    }
  });

  it('retries an update that failed on the way until card management takes it', async () => {
    const { api, bindingId, user, walletCard } = await claimBound();
    await mc().control.injectFault({ path: '/card/changeTemplate', kind: 'HTTP_503', times: 2 });
    await api.post(`/api/v1/bindings/${bindingId}/loss`);
    await mc().control.waitForCard(
      user.openId,
      walletCard.alipayCardNo,
      (c) => c.templateId === mc().templates.lost,
    );
    await eventually(async () => {
      const row = await walletRow(walletCard.bizCardNo);
      return row.templateId === mc().templates.lost && row.syncFailedAt === null && row.syncAttempts === 0;
    });
  });

  it('makes a wrong token and our CRM being down visible in the claim', async () => {
    const { user, card } = await userWithCard(stack);
    const restore = await reconfigure({ token: 'a-token-nobody-configured-here' });
    try {
      const refused = await mc().control.claim({
        templateId: mc().templates.student,
        alipayUserId: user.openId,
      });
      assert.deepEqual(
        [refused.status, refused.openCardInfo.outcome, refused.openCardInfo.httpStatus],
        ['FAILED', 'AUTH_FAILED', 401],
      );
      await restore();
      await reconfigure({ crmBaseUrl: 'http://127.0.0.1:9/crm' });
      const down = await mc().control.claim({
        templateId: mc().templates.student,
        alipayUserId: user.openId,
      });
      assert.deepEqual([down.status, down.openCardInfo.outcome], ['FAILED', 'CONNECT_FAILED']);
      assert.equal(await walletRow(card.cardNo), undefined);
    } finally {
      await restore();
    }
  });

  it('shows a dynamic code in the wallet, and takes the card back out on removal', async () => {
    const { user, walletCard } = await claimBound();
    const { card, mdCodeChange } = await mc().control.requestCode(user.openId, walletCard.alipayCardNo);
    assert.equal(mdCodeChange.outcome, 'OK');
    assert.match(card.code?.codeValue ?? '', /^9\d{17}$/);
    const removed = await mc().control.removeCard(user.openId, walletCard.alipayCardNo);
    assert.deepEqual([removed.card.status, removed.cardChange.outcome], ['REMOVED', 'OK']);
    assert.equal((await walletRow(walletCard.bizCardNo)).status, 'REMOVED');
  });
});
