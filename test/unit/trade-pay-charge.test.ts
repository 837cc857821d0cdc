import assert from 'node:assert/strict';
import {
  attemptCharge,
  nextOutTradeNo,
  stepFacts,
  type ChargeCalls,
  type ChargeTarget,
} from '../../server/src/domain/payments/trade-pay-charge.js';
import { AlipayError, classifyFailure } from '../../server/src/integrations/alipay/errors.js';
import type { PayOutcome, TradeState } from '../../server/src/integrations/alipay/alipay.js';

/**
 * One attempt at a trade.pay charge whose answer may be lost (domain/payments/trade-pay-charge.ts, ALIPAY.md
 * §4.4, §4.16; issue 20): every answer of pay, query and cancel, and what the attempt does next, with the
 * calls scripted and the clock fixed. The deduction collector and the campus-code drainer hand it their own
 * calls; the integration tests (withholding/alipay-answers.test.ts …) drive the same rules through the sandbox.
 */

const T0 = Date.parse('2026-12-07T08:00:00.000Z');
const POLL_INTERVAL = 60_000;
const POLL_WINDOW = 300_000;

type Answer<T> = T | AlipayError | Error;

/** An Alipay failure as the client classifies it. */
function failure(method: string, code: string, subCode?: string): AlipayError {
  return new AlipayError(classifyFailure(code, subCode), method, code, subCode, 'scripted');
}

function trade(status: TradeState['status'], outTradeNo = 'D1'): TradeState {
  return {
    tradeNo: `T-${outTradeNo}`,
    outTradeNo,
    status,
    totalFen: 500,
    buyer: { userId: '2088000000000001' },
  };
}

/**
 * Calls that answer from a script, one answer per call in order, and record what was asked; `pay` may move
 * the clock (how long the call took).
 */
function scripted(
  script: {
    pay?: Answer<PayOutcome>[];
    query?: Answer<TradeState | null>[];
    cancel?: Answer<{ retry: boolean }>[];
  },
  options: { nowMs?: number; payTakesMs?: number } = {},
) {
  let now = options.nowMs ?? T0;
  const asked: string[] = [];
  const answer = async <T>(queue: Answer<T>[] | undefined, call: string): Promise<T> => {
    asked.push(call);
    const next = queue?.shift();
    if (next === undefined) throw new Error(`unexpected ${call}`);
    if (next instanceof Error) throw next;
    return next;
  };
  const calls: ChargeCalls = {
    pay: async (outTradeNo) => {
      now += options.payTakesMs ?? 0;
      return answer(script.pay, `pay ${outTradeNo}`);
    },
    query: (outTradeNo) => answer(script.query, `query ${outTradeNo}`),
    cancel: (outTradeNo) => answer(script.cancel, `cancel ${outTradeNo}`),
    now: () => new Date(now),
    pollIntervalMs: POLL_INTERVAL,
    pollWindowMs: POLL_WINDOW,
  };
  return { calls, asked };
}

const fresh: ChargeTarget = {
  reference: 'D1',
  outTradeNo: 'D1',
  chargeState: null,
  openSince: null,
  isFresh: true,
};

/** A charge sent earlier whose outcome is open since `sinceMs` before T0. */
function openCharge(state: 'UNKNOWN' | 'AWAITING_BUYER', sinceMs: number, extra: Partial<ChargeTarget> = {}) {
  return {
    ...fresh,
    isFresh: false,
    chargeState: state,
    openSince: new Date(T0 - sinceMs),
    ...extra,
  } satisfies ChargeTarget;
}

const at = (ms: number) => new Date(ms);

describe('a trade.pay charge: the answer of the pay itself', () => {
  it('is paid on 10000, in one call', async () => {
    const { calls, asked } = scripted({ pay: [{ status: 'PAID', tradeNo: 'T9' }] });
    assert.deepEqual(await attemptCharge(fresh, calls), {
      kind: 'PAID',
      outcome: 'PAID',
      tradeNo: 'T9',
      isPayCall: true,
    });
    assert.deepEqual(asked, ['pay D1']);
  });

  it('charges a row with nothing open that is not fresh, under its current number', async () => {
    const { calls, asked } = scripted({ pay: [{ status: 'PAID', tradeNo: 'T9' }] });
    const step = await attemptCharge({ ...fresh, isFresh: false, outTradeNo: 'D1_2' }, calls);
    assert.equal(step.kind, 'PAID');
    assert.deepEqual(asked, ['pay D1_2']);
  });

  it('waits for the buyer on 10003 (answered or thrown): looked at again one poll interval later', async () => {
    const expected = {
      kind: 'OPEN',
      outcome: 'AWAITING_BUYER',
      isPayCall: true,
      chargeState: 'AWAITING_BUYER',
      openSince: at(T0),
      nextAt: at(T0 + POLL_INTERVAL),
      errorReason: null,
      alipayCode: null,
      alipaySubCode: null,
    };
    const answered = scripted({ pay: [{ status: 'PENDING', tradeNo: 'T9' }] });
    assert.deepEqual(await attemptCharge(fresh, answered.calls), expected);
    const thrown = scripted({ pay: [failure('alipay.trade.pay', '10003')] });
    assert.deepEqual(await attemptCharge(fresh, thrown.calls), expected);
    assert.deepEqual(thrown.asked, ['pay D1'], 'no query: the trade is known to wait');
  });

  for (const [code, subCode] of [
    ['40004', 'ACQ.SYSTEM_ERROR'],
    ['20000', 'isp.unknow-error'],
    ['40004', 'ACQ.TRADE_HAS_SUCCESS'],
  ] as const) {
    it(`asks at once after ${code} ${subCode} (the money may have moved) and takes what the query finds paid`, async () => {
      const { calls, asked } = scripted({
        pay: [failure('alipay.trade.pay', code, subCode)],
        query: [trade('TRADE_SUCCESS')],
      });
      assert.deepEqual(await attemptCharge(fresh, calls), {
        kind: 'PAID',
        outcome: 'PAID_FOUND_BY_QUERY',
        tradeNo: 'T-D1',
        isPayCall: true,
      });
      assert.deepEqual(asked, ['pay D1', 'query D1']);
    });
  }

  it('takes TRADE_FINISHED as paid too', async () => {
    const { calls } = scripted({
      pay: [failure('alipay.trade.pay', '40004', 'ACQ.SYSTEM_ERROR')],
      query: [trade('TRADE_FINISHED')],
    });
    assert.equal((await attemptCharge(fresh, calls)).kind, 'PAID');
  });

  it('after an unknown answer, a trade found waiting is open since the pay was sent, not since it answered', async () => {
    const { calls } = scripted(
      { pay: [failure('alipay.trade.pay', '40004', 'ACQ.SYSTEM_ERROR')], query: [trade('WAIT_BUYER_PAY')] },
      { payTakesMs: 15_000 },
    );
    assert.deepEqual(await attemptCharge(fresh, calls), {
      kind: 'OPEN',
      outcome: 'AWAITING_BUYER',
      isPayCall: true,
      chargeState: 'AWAITING_BUYER',
      openSince: at(T0),
      nextAt: at(T0 + 15_000 + POLL_INTERVAL),
      errorReason: null,
      alipayCode: null,
      alipaySubCode: null,
    });
  });

  it('after an unknown answer, a trade found closed unpaid is a retryable failure, charged next under the next number', async () => {
    const { calls } = scripted({
      pay: [failure('alipay.trade.pay', '40004', 'ACQ.SYSTEM_ERROR')],
      query: [trade('TRADE_CLOSED')],
    });
    assert.deepEqual(await attemptCharge(fresh, calls), {
      kind: 'FAILED',
      outcome: 'TRADE_CLOSED',
      isPayCall: true,
      retryable: true,
      code: '40004',
      subCode: 'ACQ.SYSTEM_ERROR',
      alipayCode: '40004',
      alipaySubCode: 'ACQ.SYSTEM_ERROR',
      outTradeNo: 'D1_2',
    });
  });

  it('after an unknown answer, "no such trade" right away is not believed yet: asked again one poll interval later', async () => {
    const { calls, asked } = scripted({
      pay: [failure('alipay.trade.pay', '20000', 'isp.unknow-error')],
      query: [null],
    });
    assert.deepEqual(await attemptCharge(fresh, calls), {
      kind: 'OPEN',
      outcome: 'NO_TRADE_YET',
      isPayCall: true,
      chargeState: 'UNKNOWN',
      openSince: at(T0),
      nextAt: at(T0 + POLL_INTERVAL),
      errorReason: 'isp.unknow-error',
      alipayCode: '20000',
      alipaySubCode: 'isp.unknow-error',
    });
    assert.deepEqual(asked, ['pay D1', 'query D1'], 'never a second pay in the same attempt');
  });

  it('after an unknown answer whose query fails too, stays unknown and records the query failure', async () => {
    const { calls, asked } = scripted({
      pay: [failure('alipay.trade.pay', '40004', 'ACQ.SYSTEM_ERROR')],
      query: [failure('alipay.trade.query', '20000', 'isp.unknow-error')],
    });
    assert.deepEqual(await attemptCharge(fresh, calls), {
      kind: 'OPEN',
      outcome: 'QUERY_FAILED',
      isPayCall: true,
      chargeState: 'UNKNOWN',
      openSince: at(T0),
      nextAt: at(T0 + POLL_INTERVAL),
      errorReason: 'isp.unknow-error',
      alipayCode: '20000',
      alipaySubCode: 'isp.unknow-error',
    });
    assert.deepEqual(asked, ['pay D1', 'query D1']);
  });

  it('charges under the next number at once, with no failure counted, when the current one was closed earlier (ACQ.TRADE_HAS_CLOSE)', async () => {
    const { calls, asked } = scripted({ pay: [failure('alipay.trade.pay', '40004', 'ACQ.TRADE_HAS_CLOSE')] });
    assert.deepEqual(await attemptCharge({ ...fresh, outTradeNo: 'D1_2' }, calls), {
      kind: 'CHARGE_NOW',
      outcome: 'TRADE_CLOSED',
      isPayCall: false,
      alipayCode: '40004',
      alipaySubCode: 'ACQ.TRADE_HAS_CLOSE',
      errorReason: 'ACQ.TRADE_HAS_CLOSE',
      outTradeNo: 'D1_3',
    });
    assert.deepEqual(asked, ['pay D1_2'], 'no query: a closed number holds no money');
  });

  it('fails retryably on a refusal that may pass later, under the same number', async () => {
    const { calls, asked } = scripted({
      pay: [failure('alipay.trade.pay', '40004', 'ACQ.BUYER_BALANCE_NOT_ENOUGH')],
    });
    assert.deepEqual(await attemptCharge(fresh, calls), {
      kind: 'FAILED',
      outcome: 'RETRYABLE',
      isPayCall: true,
      retryable: true,
      code: '40004',
      subCode: 'ACQ.BUYER_BALANCE_NOT_ENOUGH',
      alipayCode: '40004',
      alipaySubCode: 'ACQ.BUYER_BALANCE_NOT_ENOUGH',
      outTradeNo: 'D1',
    });
    assert.deepEqual(asked, ['pay D1'], 'a clean refusal: nothing to ask');
  });

  it('fails for good on a refusal that cannot pass, and on one without a sub_code', async () => {
    const { calls } = scripted({ pay: [failure('alipay.trade.pay', '40004', 'ACQ.AGREEMENT_NOT_EXIST')] });
    assert.deepEqual(await attemptCharge(fresh, calls), {
      kind: 'FAILED',
      outcome: 'FINAL',
      isPayCall: true,
      retryable: false,
      code: '40004',
      subCode: 'ACQ.AGREEMENT_NOT_EXIST',
      alipayCode: '40004',
      alipaySubCode: 'ACQ.AGREEMENT_NOT_EXIST',
      outTradeNo: 'D1',
    });
    const bare = scripted({ pay: [failure('alipay.trade.pay', '40006')] });
    const step = await attemptCharge(fresh, bare.calls);
    assert.deepEqual(
      step.kind === 'FAILED' && [step.retryable, step.code, step.subCode, step.alipaySubCode],
      [false, '40006', null, null],
    );
  });

  it('lets an error that is not an answer of Alipay through (a bug is not a refusal)', async () => {
    const bug = new TypeError('bug');
    const pay = scripted({ pay: [bug] });
    await assert.rejects(attemptCharge(fresh, pay.calls), bug);
    const query = scripted({ pay: [failure('alipay.trade.pay', '40004', 'ACQ.SYSTEM_ERROR')], query: [bug] });
    await assert.rejects(attemptCharge(fresh, query.calls), bug);
    const cancel = scripted({ query: [trade('WAIT_BUYER_PAY')], cancel: [bug] });
    await assert.rejects(attemptCharge(openCharge('AWAITING_BUYER', POLL_WINDOW), cancel.calls), bug);
  });
});

describe('a trade.pay charge: an open charge looked at again', () => {
  it('is paid on the poll when the query finds it paid, without another pay', async () => {
    const { calls, asked } = scripted({ query: [trade('TRADE_SUCCESS', 'D1_2')] });
    const step = await attemptCharge(openCharge('AWAITING_BUYER', 1_000, { outTradeNo: 'D1_2' }), calls);
    assert.deepEqual(step, { kind: 'PAID', outcome: 'PAID_ON_POLL', tradeNo: 'T-D1_2', isPayCall: false });
    assert.deepEqual(asked, ['query D1_2']);
  });

  it('charges now, under the same number and with no failure counted, once "no such trade" holds a full poll interval', async () => {
    const { calls } = scripted({ query: [null] });
    assert.deepEqual(await attemptCharge(openCharge('UNKNOWN', POLL_INTERVAL), calls), {
      kind: 'CHARGE_NOW',
      outcome: 'NO_TRADE',
      isPayCall: false,
      alipayCode: null,
      alipaySubCode: null,
      errorReason: null,
      outTradeNo: 'D1',
    });
    const early = scripted({ query: [null] });
    const step = await attemptCharge(openCharge('UNKNOWN', POLL_INTERVAL - 1), early.calls);
    assert.deepEqual(
      [step.kind, step.outcome, step.kind === 'OPEN' && step.openSince],
      ['OPEN', 'NO_TRADE_YET', at(T0 - POLL_INTERVAL + 1)],
      'one millisecond before a poll interval: asked again',
    );
  });

  it('counts an open charge without a recorded start as open from now', async () => {
    const { calls } = scripted({ query: [null] });
    const step = await attemptCharge({ ...openCharge('UNKNOWN', 0), openSince: null }, calls);
    assert.deepEqual(
      [step.kind, step.outcome, step.kind === 'OPEN' && step.openSince],
      ['OPEN', 'NO_TRADE_YET', at(T0)],
    );
  });

  it('fails retryably when the query finds the trade closed unpaid, and charges next under the next number', async () => {
    const { calls, asked } = scripted({ query: [trade('TRADE_CLOSED', 'D1_2')] });
    assert.deepEqual(
      await attemptCharge(openCharge('AWAITING_BUYER', 1_000, { outTradeNo: 'D1_2' }), calls),
      {
        kind: 'FAILED',
        outcome: 'TRADE_CLOSED',
        isPayCall: false,
        retryable: true,
        code: 'QUERY',
        subCode: null,
        alipayCode: 'QUERY',
        alipaySubCode: null,
        outTradeNo: 'D1_3',
      },
    );
    assert.deepEqual(asked, ['query D1_2']);
  });

  it('keeps polling a waiting trade until the poll window ends, from the moment it began to wait', async () => {
    const { calls, asked } = scripted({ query: [trade('WAIT_BUYER_PAY')] });
    assert.deepEqual(await attemptCharge(openCharge('AWAITING_BUYER', POLL_WINDOW - 1), calls), {
      kind: 'OPEN',
      outcome: 'AWAITING_BUYER',
      isPayCall: false,
      chargeState: 'AWAITING_BUYER',
      openSince: at(T0 - POLL_WINDOW + 1),
      nextAt: at(T0 + POLL_INTERVAL),
      errorReason: null,
      alipayCode: null,
      alipaySubCode: null,
    });
    assert.deepEqual(asked, ['query D1'], 'no cancel inside the window');
  });

  it('cancels a trade still waiting when the poll window ends: a retryable failure, charged next under the next number', async () => {
    const { calls, asked } = scripted({ query: [trade('WAIT_BUYER_PAY')], cancel: [{ retry: false }] });
    assert.deepEqual(await attemptCharge(openCharge('AWAITING_BUYER', POLL_WINDOW), calls), {
      kind: 'FAILED',
      outcome: 'CANCELLED',
      isPayCall: false,
      retryable: true,
      code: 'WAIT_BUYER_PAY',
      subCode: null,
      alipayCode: 'WAIT_BUYER_PAY',
      alipaySubCode: null,
      outTradeNo: 'D1_2',
    });
    assert.deepEqual(asked, ['query D1', 'cancel D1']);
  });

  it('keeps the trade open when the cancel asks to be retried, or fails: the next query decides', async () => {
    const retry = scripted({ query: [trade('WAIT_BUYER_PAY')], cancel: [{ retry: true }] });
    assert.deepEqual(await attemptCharge(openCharge('AWAITING_BUYER', POLL_WINDOW), retry.calls), {
      kind: 'OPEN',
      outcome: 'CANCEL_RETRY',
      isPayCall: false,
      chargeState: 'AWAITING_BUYER',
      openSince: at(T0 - POLL_WINDOW),
      nextAt: at(T0 + POLL_INTERVAL),
      errorReason: null,
      alipayCode: null,
      alipaySubCode: null,
    });
    const failed = scripted({
      query: [trade('WAIT_BUYER_PAY')],
      cancel: [failure('alipay.trade.cancel', '40004', 'ACQ.SYSTEM_ERROR')],
    });
    assert.deepEqual(await attemptCharge(openCharge('AWAITING_BUYER', POLL_WINDOW), failed.calls), {
      kind: 'OPEN',
      outcome: 'CANCEL_FAILED',
      isPayCall: false,
      chargeState: 'UNKNOWN',
      openSince: at(T0 - POLL_WINDOW),
      nextAt: at(T0 + POLL_INTERVAL),
      errorReason: 'ACQ.SYSTEM_ERROR',
      alipayCode: '40004',
      alipaySubCode: 'ACQ.SYSTEM_ERROR',
    });
  });
});

describe('a trade.pay charge that was voided (a reversal was asked)', () => {
  it('is never charged when nothing is open', async () => {
    const { calls, asked } = scripted({});
    assert.deepEqual(await attemptCharge({ ...fresh, isFresh: false, isVoided: true }, calls), {
      kind: 'VOID',
      outcome: 'REVERSED',
      isPayCall: false,
    });
    assert.deepEqual(asked, []);
  });

  it('cancels a waiting trade at once, inside the poll window, and ends void', async () => {
    const { calls, asked } = scripted({ query: [trade('WAIT_BUYER_PAY')], cancel: [{ retry: false }] });
    assert.deepEqual(await attemptCharge(openCharge('AWAITING_BUYER', 1_000, { isVoided: true }), calls), {
      kind: 'VOID',
      outcome: 'CANCELLED',
      isPayCall: false,
    });
    assert.deepEqual(asked, ['query D1', 'cancel D1']);
  });

  it('ends void when the open charge proves closed or never made, and paid when the query finds the money', async () => {
    const closed = scripted({ query: [trade('TRADE_CLOSED')] });
    assert.deepEqual(await attemptCharge(openCharge('UNKNOWN', 1_000, { isVoided: true }), closed.calls), {
      kind: 'VOID',
      outcome: 'REVERSED',
      isPayCall: false,
    });
    const none = scripted({ query: [null] });
    assert.deepEqual(
      await attemptCharge(openCharge('UNKNOWN', POLL_INTERVAL, { isVoided: true }), none.calls),
      { kind: 'VOID', outcome: 'REVERSED', isPayCall: false },
    );
    const paid = scripted({ query: [trade('TRADE_SUCCESS')] });
    const step = await attemptCharge(openCharge('UNKNOWN', 1_000, { isVoided: true }), paid.calls);
    assert.deepEqual(
      [step.kind, step.outcome],
      ['PAID', 'PAID_ON_POLL'],
      'the money was taken: refunded next',
    );
  });
});

describe('a trade.pay charge: numbers and the attempts log', () => {
  it('numbers the next charge <reference>_2, then _3 …, whatever the reference holds', () => {
    assert.equal(nextOutTradeNo('D1', 'D1'), 'D1_2');
    assert.equal(nextOutTradeNo('D1', 'D1_2'), 'D1_3');
    assert.equal(nextOutTradeNo('D1', 'D1_9'), 'D1_10');
    assert.equal(nextOutTradeNo('D_1', 'D_1'), 'D_1_2');
    assert.equal(nextOutTradeNo('D_1', 'D_1_2'), 'D_1_3');
  });

  it("records each step's outcome, whether it called pay, and Alipay's codes or null", () => {
    assert.deepEqual(stepFacts({ kind: 'PAID', outcome: 'PAID', tradeNo: 'T', isPayCall: true }), {
      outcome: 'PAID',
      isPayCall: true,
      alipayCode: null,
      alipaySubCode: null,
    });
    assert.deepEqual(
      stepFacts({
        kind: 'CHARGE_NOW',
        outcome: 'TRADE_CLOSED',
        isPayCall: false,
        alipayCode: '40004',
        alipaySubCode: 'ACQ.TRADE_HAS_CLOSE',
        errorReason: null,
        outTradeNo: 'D1_2',
      }),
      {
        outcome: 'TRADE_CLOSED',
        isPayCall: false,
        alipayCode: '40004',
        alipaySubCode: 'ACQ.TRADE_HAS_CLOSE',
      },
    );
  });
});
