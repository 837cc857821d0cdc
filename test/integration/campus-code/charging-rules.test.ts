import assert from 'node:assert/strict';
import type {
  ChargeAttempt,
  ClaimedCampusCodePayment,
} from '../../../server/src/db/repos/campus-code/charges.js';
import {
  CAMPUS_CODE_LIFE_MS,
  chargeCampusCodePayment,
} from '../../../server/src/domain/campus-code/payment-charging.js';
import type { SchoolRow } from '../../../server/src/db/repos/schools/schools.js';
import { startStack, type Stack } from '../../support/stack.js';
import { gatewayFor, type Gateway } from '../withholding/helpers.js';
import { claimedCampusCodePayment } from './helpers.js';

/**
 * When a campus-code charge is tried again, held or given up (DESIGN §7.5; issue 20, mutation testing of
 * `campus-code`), read off the attempt the charging step hands the drainer to record, at chosen moments of
 * the code's 10 days: the school's retry schedule, the code's last chance (one poll window and a minute
 * before its end), the end itself to the millisecond, and a school whose authorization is gone. The stack
 * runs no jobs (ROLE api): the test claims each payment and plays the drainer, so nothing else charges it.
 */
describe('campus-code charges: retries, holds and the code’s 10 days', () => {
  let stack: Stack;
  let device: Gateway;
  let counter = 0;
  const SCHEDULE = [300, 600];

  before(async function () {
    this.timeout(120_000);
    stack = await startStack({ env: { ROLE: 'api', ALIPAY_TIMEOUT_MS: '2000' } });
    device = await gatewayFor(stack);
  });
  after(() => stack.stop());

  const deps = () => stack.app.deps;
  const scaled = (seconds: number) => Math.round(seconds * 1000 * deps().config.deductions.retryScale);

  /** An accepted payment of a student with `balanceFen` at Alipay, claimed as the drainer claims it. */
  function claimed(balanceFen: number): Promise<ClaimedCampusCodePayment> {
    counter += 1;
    return claimedCampusCodePayment(
      stack,
      device,
      balanceFen,
      { studentNo: `Q${counter}`, studentName: '张三' },
      420,
    );
  }

  /** One attempt at `atMs` (the domain's clock), for `school`: what it hands the drainer to record. */
  async function attemptAt(
    payment: ClaimedCampusCodePayment,
    atMs: number,
    school: SchoolRow = { ...stack.school, retryScheduleSeconds: SCHEDULE },
  ): Promise<{ outcome: string | undefined; attempt: ChargeAttempt }> {
    let recorded: ChargeAttempt | undefined;
    const outcome = await chargeCampusCodePayment(
      { ...deps(), clock: { now: () => new Date(atMs) } },
      payment,
      {
        school,
        finishAttempt: async (finished) => {
          recorded = finished.attempt;
          return true;
        },
      },
    );
    assert.ok(recorded, 'an attempt was handed over');
    return { outcome, attempt: recorded };
  }

  /** What an attempt decides: status, when next (ms), whether it used a retry slot and called Alipay, the error, the charge state. */
  const factsOf = (a: ChargeAttempt) => [
    a.status,
    a.nextAttemptAt?.getTime(),
    a.usesRetrySlot,
    a.isPayCall,
    a.lastErrorCode,
    a.chargeState,
  ];
  const endOf = (p: ClaimedCampusCodePayment) => p.generatedAt!.getTime() + CAMPUS_CODE_LIFE_MS;
  const lastChanceOf = (p: ClaimedCampusCodePayment) =>
    endOf(p) - deps().config.deductions.pollWindowMs - 60_000;

  it('retries a refusal for now at the school’s next delay, never after the code’s last chance, and fails when either runs out', async () => {
    const early = await claimed(0);
    const at = early.generatedAt!.getTime() + 3_600_000;
    const first = await attemptAt(early, at);
    assert.equal(first.outcome, first.attempt.outcome);
    assert.deepEqual(factsOf(first.attempt), [
      'RETRYING',
      at + scaled(300),
      true,
      true,
      'ACQ.BUYER_BALANCE_NOT_ENOUGH',
      null,
    ]);
    const second = await attemptAt({ ...(await claimed(0)), retriesUsed: 1 }, at);
    assert.deepEqual(
      [second.attempt.status, second.attempt.nextAttemptAt?.getTime()],
      ['RETRYING', at + scaled(600)],
      'the second slot’s delay',
    );
    const spent = await attemptAt({ ...(await claimed(0)), retriesUsed: 2 }, at);
    assert.deepEqual(
      [spent.attempt.status, spent.attempt.nextAttemptAt, spent.attempt.usesRetrySlot],
      ['FAILED', null, true],
      'the schedule is used up',
    );

    const late = await claimed(0);
    const nearEnd = lastChanceOf(late) - scaled(300) + 1;
    const squeezed = await attemptAt(late, nearEnd);
    assert.deepEqual(
      [squeezed.attempt.status, squeezed.attempt.nextAttemptAt?.getTime()],
      ['RETRYING', lastChanceOf(late)],
      'one last try shortly before the code ends',
    );
    const atLast = await claimed(0);
    const none = await attemptAt(atLast, lastChanceOf(atLast));
    assert.deepEqual(
      [none.attempt.status, none.attempt.nextAttemptAt, none.attempt.lastErrorCode],
      ['FAILED', null, 'ACQ.BUYER_BALANCE_NOT_ENOUGH'],
      'no time left for another try',
    );
  });

  it('gives a code up without a call from the very millisecond its 10 days end, or when its data is gone', async () => {
    const payment = await claimed(10_000);
    const expired = await attemptAt(payment, endOf(payment));
    assert.equal(expired.outcome, 'CODE_EXPIRED');
    assert.deepEqual(
      [
        expired.attempt.status,
        expired.attempt.isPayCall,
        expired.attempt.lastErrorCode,
        expired.attempt.nextAttemptAt,
        expired.attempt.outTradeNo,
      ],
      ['FAILED', false, 'CODE_EXPIRED', null, payment.outTradeNo],
    );
    const noData = await attemptAt({ ...payment, finalDataEnc: null }, payment.generatedAt!.getTime());
    assert.equal(noData.outcome, 'CODE_EXPIRED');
    const unread = await attemptAt(
      { ...payment, generatedAt: null },
      payment.scannedAt.getTime() + CAMPUS_CODE_LIFE_MS,
    );
    assert.equal(unread.outcome, 'CODE_EXPIRED', 'a code whose time could not be read lives from its scan');
    const { trades } = await stack.alipay.control.ledger({ outTradeNo: payment.outTradeNo! });
    assert.equal(trades.length, 0, 'Alipay was never asked');

    // One millisecond before the end it is still worth a charge (here: held, the school lost its authorization).
    const held = await attemptAt(payment, endOf(payment) - 1, {
      ...stack.school,
      status: 'SUSPENDED',
      suspensionReason: 'AUTHORIZATION_INVALID',
    });
    assert.equal(held.outcome, 'WAITING_FOR_AUTHORIZATION');
  });

  it('holds the payments of a school whose authorization is gone: looked at after its first delay, never past the code’s last chance', async () => {
    const suspended: SchoolRow = {
      ...stack.school,
      status: 'SUSPENDED',
      suspensionReason: 'AUTHORIZATION_CANCELLED',
      retryScheduleSeconds: SCHEDULE,
    };
    const payment = await claimed(10_000);
    const at = payment.generatedAt!.getTime() + 3_600_000;
    const held = await attemptAt(payment, at, suspended);
    assert.equal(held.outcome, 'WAITING_FOR_AUTHORIZATION');
    assert.deepEqual(factsOf(held.attempt), [
      'PENDING',
      at + scaled(300),
      false,
      false,
      'SCHOOL_SUSPENDED',
      null,
    ]);
    const retrying = await attemptAt({ ...payment, status: 'RETRYING' }, at, suspended);
    assert.equal(retrying.attempt.status, 'RETRYING', 'a payment already retrying stays so');

    const nearEnd = lastChanceOf(payment) - 1_000;
    const squeezed = await attemptAt(payment, nearEnd, suspended);
    assert.equal(squeezed.attempt.nextAttemptAt?.getTime(), lastChanceOf(payment));
    const past = await attemptAt(payment, lastChanceOf(payment), suspended);
    assert.equal(
      past.attempt.nextAttemptAt?.getTime(),
      endOf(payment),
      'at the last chance: looked at when the code ends (and failed then)',
    );
    const { trades } = await stack.alipay.control.ledger({ outTradeNo: payment.outTradeNo! });
    assert.equal(trades.length, 0, 'no call with a token Alipay would refuse');
  });

  it('holds a payment whose charge Alipay refused for the school’s token (20001): the call counted, no slot used, the same number', async () => {
    const payment = await claimed(10_000);
    const at = payment.generatedAt!.getTime() + 3_600_000;
    await stack.alipay.control.injectApiFault({
      method: 'alipay.trade.pay',
      times: 1,
      error: { code: '20001', subCode: 'aop.invalid-app-auth-token' },
    });
    const held = await attemptAt(payment, at);
    assert.equal(held.outcome, 'WAITING_FOR_AUTHORIZATION');
    assert.deepEqual(factsOf(held.attempt), [
      'PENDING',
      at + scaled(300),
      false,
      true,
      'aop.invalid-app-auth-token',
      null,
    ]);
    assert.deepEqual(
      [held.attempt.alipayCode, held.attempt.outTradeNo],
      ['20001', payment.outTradeNo],
      'nothing was charged: the next try goes under the same number',
    );
  });

  it('gives a payment back with one poll interval to look again when its attempt fails with an error of our own', async () => {
    const payment = await claimed(10_000);
    const at = payment.generatedAt!.getTime() + 60_000;
    // No Alipay client: the attempt throws before any call (a bug or our own database would do the same).
    const broken = { ...deps(), alipay: undefined, clock: { now: () => new Date(at) } };
    const outcome = await chargeCampusCodePayment(broken, payment, {
      school: stack.school,
      finishAttempt: () => assert.fail('nothing is recorded of an attempt that did not end'),
    });
    assert.equal(outcome, undefined);
    const { rows } = await deps().pool.query(
      'select lease_until, next_attempt_at, status, attempts from campus_code_payments where id = $1',
      [payment.id],
    );
    assert.deepEqual(rows[0], {
      lease_until: null,
      next_attempt_at: new Date(at + deps().config.deductions.pollIntervalMs),
      status: payment.status,
      attempts: payment.attempts,
    });
  });

  it('keeps a payment PENDING or RETRYING as it was while a charge of unknown outcome stays open', async () => {
    // Alipay answers the charge and the query that follows it with a system error: the charge stays open.
    const unknownOutcome = async (payment: ClaimedCampusCodePayment) => {
      for (const method of ['alipay.trade.pay', 'alipay.trade.query'])
        await stack.alipay.control.injectApiFault({
          method,
          times: 1,
          error: { subCode: 'ACQ.SYSTEM_ERROR' },
        });
      const { attempt } = await attemptAt(payment, Date.now());
      return [attempt.status, attempt.chargeState, attempt.usesRetrySlot ?? false];
    };
    assert.deepEqual(await unknownOutcome(await claimed(10_000)), ['PENDING', 'UNKNOWN', false]);
    const retrying = { ...(await claimed(10_000)), status: 'RETRYING' as const, retriesUsed: 1 };
    assert.deepEqual(await unknownOutcome(retrying), ['RETRYING', 'UNKNOWN', false]);
  });

  it('logs a paid payment as paid and a failed one as failed with its code, and neither as the other', async () => {
    const logged = async (payment: ClaimedCampusCodePayment, atMs: number) => {
      const lines: string[] = [];
      const record = (level: string) => (message: string, meta?: { code?: string }) => {
        lines.push([level, message, meta?.code].filter(Boolean).join(' '));
        return logger;
      };
      const logger = Object.assign(Object.create(deps().logger), {
        info: record('info'),
        warn: record('warn'),
        error: record('error'),
      });
      await chargeCampusCodePayment({ ...deps(), logger, clock: { now: () => new Date(atMs) } }, payment, {
        school: { ...stack.school, retryScheduleSeconds: SCHEDULE },
        finishAttempt: async () => true,
      });
      return lines;
    };
    assert.deepEqual(await logged(await claimed(10_000), Date.now()), ['info campus-code payment paid']);
    const broke = { ...(await claimed(0)), retriesUsed: SCHEDULE.length };
    assert.deepEqual(await logged(broke, broke.generatedAt!.getTime() + 3_600_000), [
      'warn campus-code payment failed ACQ.BUYER_BALANCE_NOT_ENOUGH',
    ]);
  });

  it('gives up a code past its end also on a retry with nothing open, but first asks about a charge still open, keeping its last error', async () => {
    const payment = await claimed(10_000);
    const retry = {
      ...payment,
      isFreshCharge: false,
      chargeState: null,
      status: 'RETRYING' as const,
      lastErrorCode: 'ACQ.BUYER_BALANCE_NOT_ENOUGH',
    };
    const expired = await attemptAt(retry, endOf(payment));
    assert.deepEqual([expired.outcome, expired.attempt.isPayCall], ['CODE_EXPIRED', false]);
    // Its charge was left open (unknown outcome): it may have taken the money, so Alipay is asked first.
    const open = {
      ...retry,
      chargeState: 'UNKNOWN' as const,
      chargeOpenSince: new Date(endOf(payment) - 60_000),
    };
    const resolved = await attemptAt(open, endOf(payment));
    assert.deepEqual(
      [resolved.outcome, resolved.attempt.isPayCall, resolved.attempt.status, resolved.attempt.lastErrorCode],
      ['NO_TRADE', false, 'RETRYING', 'ACQ.BUYER_BALANCE_NOT_ENOUGH'],
    );
  });

  it('answers nothing for an attempt whose lease was lost before it could be recorded', async () => {
    const payment = await claimed(10_000);
    const outcome = await chargeCampusCodePayment(deps(), payment, {
      school: stack.school,
      finishAttempt: async () => false,
    });
    assert.equal(outcome, undefined, 'another drainer holds the row: its attempt is the one recorded');
  });
});
