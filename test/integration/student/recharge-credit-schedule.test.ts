import assert from 'node:assert/strict';
import { ManualClock } from '../../../server/src/lib/clock.js';
import { eventually } from '../../support/http.js';
import { startStack, type Stack } from '../../support/stack.js';
import { userWithCard, vendorCreditsFor, waitForRecharge } from './helpers.js';

/**
 * When a paid recharge is credited again, and when it is given up, read on the injected clock (frozen: every
 * time compared is the clock's, so each delay is exact). The schedule is 1 min, 2 min, 5 min; the crediting
 * drainer looks every 200 ms; a Recharge that gets no answer within 1.5 s is unknown.
 */
const SCHEDULE_MS = [60_000, 120_000, 300_000];

describe('crediting a paid recharge on the retry schedule of the injected clock', () => {
  let stack: Stack;
  const clock = new ManualClock();
  before(async () => {
    stack = await startStack({
      clock,
      env: {
        RECHARGE_CREDIT_RETRY_MS: SCHEDULE_MS.join(','),
        RECHARGE_CREDIT_EVERY_MS: '200',
        RECHARGE_SWEEP_EVERY_MS: '3600000',
        CARDSYS_TIMEOUT_MS: '1500',
      },
    });
  });
  afterEach(() => stack.cardsys.control.clearFaults());
  after(() => stack.stop());

  interface CreditState {
    status: string;
    credit_attempts: number;
    last_error: string | null;
    next_credit_at: Date | null;
    credit_unknown_since: Date | null;
  }

  async function creditState(id: string): Promise<CreditState> {
    const { rows } = await stack.app.deps.pool.query(
      `select status, credit_attempts, last_error, next_credit_at, credit_unknown_since
         from recharge_orders where id = $1`,
      [id],
    );
    return rows[0] as CreditState;
  }

  /** The order once its `attempts`-th crediting attempt is recorded. */
  function afterAttempt(id: string, attempts: number): Promise<CreditState> {
    return eventually(
      async () => {
        const state = await creditState(id);
        return state.credit_attempts >= attempts ? state : undefined;
      },
      { message: `crediting attempt ${attempts}` },
    );
  }

  /** How long after the clock's now the order is due again (null: not due again). */
  function dueIn(state: CreditState): number | null {
    return state.next_credit_at ? state.next_credit_at.getTime() - clock.now().getTime() : null;
  }

  /**
   * The first `attempts` crediting attempts as [status, attempts so far, due again in ms]; after each, the clock
   * moves on by the delay the schedule gives it (its last delay once used up). `afterLast` runs before the
   * clock moves past the last one.
   */
  async function followSchedule(id: string, attempts: number, afterLast?: () => Promise<unknown>) {
    const seen: Array<[string, number, number | null]> = [];
    for (let attempt = 1; attempt <= attempts; attempt += 1) {
      const state = await afterAttempt(id, attempt);
      seen.push([state.status, state.credit_attempts, dueIn(state)]);
      if (attempt === attempts) await afterLast?.();
      clock.advance(SCHEDULE_MS[Math.min(attempt, SCHEDULE_MS.length) - 1]);
    }
    return seen;
  }

  /** A recharge paid by its buyer once `faults` (the card system's, for this order) are in place. */
  async function paidOrder(amountFen: number, faults: () => Promise<unknown> = async () => undefined) {
    const payer = await userWithCard(stack, { cardBalanceFen: 0 });
    const created = await payer.api.post('/api/v1/recharges', { bindingId: payer.bindingId, amountFen });
    assert.equal(created.status, 201, created.text);
    const order = created.body as { id: string; tradeNo: string; outTradeNo: string };
    await faults();
    await stack.alipay.control.payTrade({ tradeNO: order.tradeNo, userId: payer.user.userId });
    return { ...payer, order };
  }

  /** The first Recharge is carried out but answered after our timeout: it may have credited the card. */
  function lostAnswer() {
    return stack.cardsys.control.injectFault({
      schoolCode: stack.school.code,
      operation: 'Recharge',
      kind: 'LATENCY',
      latencyMs: 2_500,
      times: 1,
    });
  }

  it('tries a card system that answers 503 again after each delay, counted from the attempt, then CREDIT_FAILED', async () => {
    await stack.cardsys.control.injectFault({
      schoolCode: stack.school.code,
      operation: 'Recharge',
      kind: 'HTTP_503',
    });
    const { card, order } = await paidOrder(1_200);
    const seen = await followSchedule(order.id, SCHEDULE_MS.length + 1);
    assert.deepEqual(seen, [
      ['PAID', 1, 60_000],
      ['PAID', 2, 120_000],
      ['PAID', 3, 300_000],
      ['CREDIT_FAILED', 4, null],
    ]);
    const failed = await creditState(order.id);
    assert.equal(failed.last_error, 'SERVICE_UNAVAILABLE: card system answered HTTP 503');
    // The retries are Agenda runs of this job: the name is stored with every scheduled run.
    const { rows } = await stack.app.deps.pool.query(
      "select count(*)::int as n from agenda_jobs where name = 'recharge.credit'",
    );
    assert.ok(rows[0].n > 0, 'the crediting job is stored as recharge.credit');
    assert.equal(
      failed.credit_unknown_since,
      null,
      'a 503 never reached the vendor: nothing may be credited',
    );
    assert.equal((await vendorCreditsFor(stack, card.cardNo, order.outTradeNo)).length, 0);
  });

  it('gives up at once when the card system refuses the card for good, saying what it answered', async () => {
    await stack.cardsys.control.injectFault({
      schoolCode: stack.school.code,
      operation: 'Recharge',
      kind: 'SOAP_FAULT',
      vendorCode: 'CARD_FROZEN',
      message: '卡片已冻结',
    });
    const { api, card, order } = await paidOrder(1_300);
    await waitForRecharge(api, order.id, 'CREDIT_FAILED');
    const failed = await creditState(order.id);
    assert.deepEqual(
      [failed.credit_attempts, failed.next_credit_at, failed.last_error],
      [1, null, 'CARD_FROZEN: card system fault CARD_FROZEN: 卡片已冻结'],
    );
    assert.equal((await vendorCreditsFor(stack, card.cardNo, order.outTradeNo)).length, 0);
  });

  it("keeps the first 500 characters of a long answer of the card system as the order's last error", async () => {
    const answer = '系统内部错误'.repeat(150);
    await stack.cardsys.control.injectFault({
      schoolCode: stack.school.code,
      operation: 'Recharge',
      kind: 'SOAP_FAULT',
      vendorCode: 'CARD_FROZEN',
      message: answer,
    });
    const { api, order } = await paidOrder(1_350);
    await waitForRecharge(api, order.id, 'CREDIT_FAILED');
    const { last_error } = await creditState(order.id);
    assert.equal(last_error, `CARD_FROZEN: card system fault CARD_FROZEN: ${answer}`.slice(0, 500));
    assert.equal(last_error?.length, 500);
  });

  it('keeps an order the vendor may have credited PAID past the schedule, asking again after its last delay, and credits it once', async () => {
    // The vendor takes every Recharge and never answers: each attempt may have credited the card.
    await stack.cardsys.control.injectFault({
      schoolCode: stack.school.code,
      operation: 'Recharge',
      kind: 'HANG',
    });
    const { api, card, order } = await paidOrder(1_400);
    // After the fourth attempt the vendor answers again: the next one asks its records first.
    const seen = await followSchedule(order.id, SCHEDULE_MS.length + 1, () =>
      stack.cardsys.control.clearFaults(),
    );
    assert.deepEqual(seen, [
      ['PAID', 1, 60_000],
      ['PAID', 2, 120_000],
      ['PAID', 3, 300_000],
      ['PAID', 4, 300_000],
    ]);
    await waitForRecharge(api, order.id, 'CREDITED');
    assert.equal((await vendorCreditsFor(stack, card.cardNo, order.outTradeNo)).length, 1);
    assert.equal((await stack.cardsys.control.getCard(stack.school.code, card.cardNo)).balanceFen, 1_400);
  });

  it("finds a credit whose answer was lost in the vendor's records on the next attempt, while Recharge still fails", async () => {
    const { api, card, order } = await paidOrder(1_500, async () => {
      await lostAnswer();
      await stack.cardsys.control.injectFault({
        schoolCode: stack.school.code,
        operation: 'Recharge',
        kind: 'HTTP_503',
      });
    });
    const first = await afterAttempt(order.id, 1);
    assert.deepEqual([first.status, dueIn(first)], ['PAID', 60_000]);
    assert.ok(
      first.credit_unknown_since,
      'the attempt without an answer marks the order as possibly credited',
    );
    clock.advance(60_000);
    // Asked first, the records show the credit: CREDITED at once, not one more Recharge on the schedule.
    await waitForRecharge(api, order.id, 'CREDITED');
    assert.equal((await creditState(order.id)).credit_attempts, 2);
    assert.equal((await vendorCreditsFor(stack, card.cardNo, order.outTradeNo)).length, 1);
  });

  it("keeps asking while the vendor's records cannot be read: on the schedule, then on its last delay, never CREDIT_FAILED", async () => {
    const { api, card, order } = await paidOrder(1_600, async () => {
      await lostAnswer();
      // Then every call to the vendor answers 503: its records cannot be read either.
      await stack.cardsys.control.injectFault({ schoolCode: stack.school.code, kind: 'HTTP_503' });
    });
    const seen = await followSchedule(order.id, SCHEDULE_MS.length + 1, () =>
      stack.cardsys.control.clearFaults(),
    );
    assert.deepEqual(seen, [
      ['PAID', 1, 60_000],
      ['PAID', 2, 120_000],
      ['PAID', 3, 300_000],
      ['PAID', 4, 300_000],
    ]);
    await waitForRecharge(api, order.id, 'CREDITED');
    assert.equal((await vendorCreditsFor(stack, card.cardNo, order.outTradeNo)).length, 1);
  });

  it("credits from the vendor's records at the end of the schedule when they can be read again, without another Recharge", async () => {
    const { api, card, order } = await paidOrder(1_700, async () => {
      await lostAnswer();
      // The records (GetPersonDetails) cannot be read three times: at the start of attempts 2, 3 and 4.
      await stack.cardsys.control.injectFault({
        schoolCode: stack.school.code,
        operation: 'GetPersonDetails',
        kind: 'HTTP_503',
        times: 3,
      });
    });
    const seen = await followSchedule(order.id, SCHEDULE_MS.length);
    assert.deepEqual(seen, [
      ['PAID', 1, 60_000],
      ['PAID', 2, 120_000],
      ['PAID', 3, 300_000],
    ]);
    // Attempt 4: past the schedule, about to give up on an order that may be credited — the records decide.
    await waitForRecharge(api, order.id, 'CREDITED');
    assert.equal((await creditState(order.id)).credit_attempts, 4);
    assert.equal((await vendorCreditsFor(stack, card.cardNo, order.outTradeNo)).length, 1);
  });
});
