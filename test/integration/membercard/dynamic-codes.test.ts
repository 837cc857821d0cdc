import assert from 'node:assert/strict';
import {
  dynamicCodeHash,
  isSignedDynamicCode,
  signDynamicCode,
} from '../../../server/src/domain/membercard/dynamic-codes.js';
import { membershipCodes } from '../../../server/src/db/schema.js';
import { retentionJob } from '../../../server/src/jobs/retention.js';
import { ManualClock } from '../../../server/src/lib/clock.js';
import { startStack, type Stack } from '../../support/stack.js';
import { userWithCard } from '../student/helpers.js';
import {
  chargesOf,
  gatewayFor,
  signedPayer,
  txnNo,
  waitForDeduction,
  type Gateway,
} from '../withholding/helpers.js';
import { cardInWallet, crm, dynamicCode } from './helpers.js';

/** Dynamic codes from the wallet, presented at the POS instead of the card number (DESIGN §6.2, §6.4). */
describe('paying at the POS with a dynamic code', () => {
  let stack: Stack;
  let gateway: Gateway;
  const clock = new ManualClock();
  before(async () => {
    // The clock was made when mocha loaded every file; swipes carry the real time (here and at the card
    // system's POS), so it starts at this file's start, not the run's: else a run whose earlier files take
    // more than swipe_max_ahead (5 min) declines them all as OUTSIDE_TIME_WINDOW.
    clock.set(new Date());
    stack = await startStack({ membercard: {}, clock });
    gateway = await gatewayFor(stack);
    await stack.cardsys.control.configurePlatform(stack.school.code, {
      baseUrl: stack.app.url,
      clientId: gateway.clientId,
      secret: gateway.secret,
      readTimeoutMs: 5_000,
    });
  });
  after(() => stack.stop());

  const byCode = (code: string, amountFen: number, extra: Record<string, unknown> = {}) => ({
    txnNo: txnNo(),
    dynamicCode: code,
    amountFen,
    terminalId: 'POS-01',
    occurredAt: new Date().toISOString(),
    ...extra,
  });

  async function payerWithCode() {
    const payer = await signedPayer(stack, { balanceFen: 10_000 });
    await cardInWallet(stack, payer.user);
    return { payer, code: await dynamicCode(stack, payer.user) };
  }

  it('approves a code once, for the card it stands for, and collects one charge', async () => {
    const { payer, code } = await payerWithCode();
    const first = await gateway.deduct(byCode(code, 800));
    assert.equal(first.status, 200, first.text);
    assert.deepEqual([first.body.decision, first.body.cardNo], ['APPROVED', payer.card.cardNo]);
    const collected = await waitForDeduction(gateway, first.body.txnNo, 'COLLECTED');
    assert.deepEqual([collected.cardNo, collected.byDynamicCode], [payer.card.cardNo, true]);
    assert.equal((await chargesOf(stack, collected.deductionId)).paid.length, 1);

    const again = await gateway.deduct(byCode(code, 800));
    assert.deepEqual(
      [again.body.decision, again.body.reason, again.body.cardNo],
      ['DECLINED', 'CODE_USED', undefined],
    );
  });

  it('answers a repeated txnNo with its first answer, not as a second use of the code', async () => {
    const { code } = await payerWithCode();
    const sale = byCode(code, 300);
    const [first, repeat] = [await gateway.deduct(sale), await gateway.deduct(sale)];
    assert.deepEqual(
      [repeat.body.decision, repeat.body.deductionId, repeat.body.cardNo],
      [first.body.decision, first.body.deductionId, first.body.cardNo],
    );
    assert.equal(first.body.decision, 'APPROVED');
    const otherAmount = await gateway.deduct({ ...sale, amountFen: 301 });
    assert.deepEqual([otherAmount.status, otherAmount.body.error.code], [409, 'TXN_CONFLICT']);
  });

  it('lets exactly one of many simultaneous swipes with one code through', async () => {
    const { code } = await payerWithCode();
    const answers = await Promise.all(Array.from({ length: 12 }, () => gateway.deduct(byCode(code, 100))));
    const decisions = answers.map((a) => `${a.body.decision}/${a.body.reason ?? ''}`).sort();
    assert.deepEqual(decisions, ['APPROVED/', ...Array(11).fill('DECLINED/CODE_USED')]);
  });

  it('declines an expired code, and the unused codes of a card taken out of the wallet', async () => {
    const { payer, code } = await payerWithCode();
    clock.advance(121_000);
    const late = await gateway.deduct(byCode(code, 100));
    assert.deepEqual([late.body.decision, late.body.reason], ['DECLINED', 'CODE_EXPIRED']);

    const fresh = await dynamicCode(stack, payer.user);
    const removed = await crm(stack, 'cardChange', {
      type: 'DEL',
      templateId: stack.membercard!.templates.student,
      alipayUserId: payer.user.openId,
      bizCardNo: payer.card.cardNo,
      alipayCardNo: 'any',
    });
    assert.equal(removed.status, 200);
    const afterRemoval = await gateway.deduct(byCode(fresh, 100));
    assert.deepEqual([afterRemoval.body.decision, afterRemoval.body.reason], ['DECLINED', 'CODE_EXPIRED']);
  });

  it('refuses a code without the school’s signature as bad input, and declines a signed one never issued', async () => {
    const { code } = await payerWithCode();
    const tampered = `${code.slice(0, -1)}${(Number(code.at(-1)) + 1) % 10}`;
    const forged = await gateway.deduct(byCode(tampered, 100));
    assert.deepEqual([forged.status, forged.body.error.field], [400, 'body.dynamicCode']);

    // Signed with the platform's key (which only the platform holds), but never handed out.
    const unknown = signDynamicCode(stack.app.deps.protector, stack.school.id, '000000000000');
    assert.ok(isSignedDynamicCode(stack.app.deps.protector, stack.school.id, unknown));
    const never = await gateway.deduct(byCode(unknown, 100));
    assert.deepEqual(
      [never.body.decision, never.body.reason, never.body.cardNo],
      ['DECLINED', 'CODE_UNKNOWN', undefined],
    );
    const detail = await gateway.get(`/gateway/v1/deductions/${never.body.txnNo}`);
    assert.deepEqual([detail.body.cardNo, detail.body.byDynamicCode], [null, true]);
  });

  it('keeps only a keyed hash of each code', async () => {
    const { code } = await payerWithCode();
    const rows = await stack.app.deps.db.select().from(membershipCodes);
    assert.ok(rows.every((row) => row.codeHash !== code && !row.codeHash.includes(code)));
    assert.ok(
      rows.some((row) => row.codeHash === dynamicCodeHash(stack.app.deps.protector, stack.school.id, code)),
    );
  });

  it('deletes codes a day after they expired (retention), and keeps younger ones', async () => {
    const { payer, code: old } = await payerWithCode();
    const start = clock.now();
    clock.advance(86_400_000 + 121_000);
    let young: string;
    try {
      young = await dynamicCode(stack, payer.user);
      await retentionJob(stack.app.deps).run({}, stack.app.deps);
    } finally {
      // The card system's POS stamps swipes with the real time: later tests need the clock near it.
      clock.set(start);
    }
    const { protector } = stack.app.deps;
    const kept = (await stack.app.deps.db.select().from(membershipCodes)).map((row) => row.codeHash);
    assert.ok(!kept.includes(dynamicCodeHash(protector, stack.school.id, old)));
    assert.ok(kept.includes(dynamicCodeHash(protector, stack.school.id, young)));
  });

  it('names exactly one of cardNo and dynamicCode', async () => {
    const both = await gateway.deduct(byCode('900000000000000000', 100, { cardNo: '20260001' }));
    const neither = await gateway.deduct({
      txnNo: txnNo(),
      amountFen: 100,
      terminalId: 'T',
      occurredAt: new Date().toISOString(),
    });
    assert.deepEqual([both.status, neither.status], [400, 400]);
  });

  describe('at the card system’s POS', () => {
    it('records the sale on the code’s card without touching its balance, and refuses the code a second time', async () => {
      const { payer, code } = await payerWithCode();
      const before = (await stack.cardsys.control.getCard(stack.school.code, payer.card.cardNo)).balanceFen;
      const scan = (txn?: string) =>
        stack.cardsys.control.swipe({
          schoolCode: stack.school.code,
          dynamicCode: code,
          amountFen: 650,
          terminalId: 'T09',
          txnNo: txn,
        });
      const swipe = await scan();
      assert.deepEqual(
        [swipe.path, swipe.cardNo, swipe.platform.decision],
        ['ALIPAY', payer.card.cardNo, 'APPROVED'],
      );
      const again = await scan();
      assert.deepEqual(
        [again.path, again.declineReason, again.platform.reason],
        ['DECLINED', 'CODE_REFUSED', 'CODE_USED'],
      );
      assert.equal(
        (await stack.cardsys.control.getCard(stack.school.code, payer.card.cardNo)).balanceFen,
        before,
      );
      await waitForDeduction(gateway, swipe.txnNo, 'COLLECTED');
    });

    it('pays from the card balance when the code’s card is not paid by withholding', async () => {
      const { user, card } = await userWithCard(stack, { cardBalanceFen: 1_000 });
      await cardInWallet(stack, user);
      const code = await dynamicCode(stack, user);
      const swipe = await stack.cardsys.control.swipe({
        schoolCode: stack.school.code,
        dynamicCode: code,
        amountFen: 250,
        terminalId: 'T09',
      });
      assert.deepEqual(
        [swipe.path, swipe.cardNo, swipe.platform.reason, swipe.balanceAfterFen],
        ['CARD_BALANCE', card.cardNo, 'NOT_BOUND', 750],
      );
    });
  });
});
