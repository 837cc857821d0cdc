import assert from 'node:assert/strict';
import type {
  ChargeAttempt,
  ClaimedCampusCodePayment,
} from '../../../server/src/db/repos/campus-code/charges.js';
import { chargeCampusCodePayment } from '../../../server/src/domain/campus-code/payment-charging.js';
import { startStack, type Stack } from '../../support/stack.js';
import { gatewayFor, type Gateway } from '../withholding/helpers.js';
import { claimedCampusCodePayment } from './helpers.js';

/**
 * What a campus-code charge attempt leaves for the drainer to record in the cases the main charging rules
 * (charging-rules.test.ts) do not reach (issue 20, the campus-code module's survivors of session 8). The stack
 * runs no jobs (ROLE api): each test claims its payment and plays the drainer; each stands alone.
 */
describe('campus-code charges: what an attempt leaves', () => {
  let stack: Stack;
  let device: Gateway;
  let counter = 0;

  before(async function () {
    this.timeout(120_000);
    stack = await startStack({ env: { ROLE: 'api', ALIPAY_TIMEOUT_MS: '2000' } });
    device = await gatewayFor(stack);
  });
  after(() => stack.stop());

  /** An accepted payment of a student with `balanceFen` at Alipay, claimed as the drainer claims it. */
  function claimed(balanceFen: number): Promise<ClaimedCampusCodePayment> {
    counter += 1;
    return claimedCampusCodePayment(
      stack,
      device,
      balanceFen,
      { studentNo: `L${counter}`, studentName: '李四' },
      430,
    );
  }

  /** One attempt now: what it hands the drainer to record. */
  async function attempt(payment: ClaimedCampusCodePayment): Promise<ChargeAttempt> {
    let recorded: ChargeAttempt | undefined;
    await chargeCampusCodePayment(stack.app.deps, payment, {
      school: stack.school,
      finishAttempt: async (finished) => {
        recorded = finished.attempt;
        return true;
      },
    });
    assert.ok(recorded, 'an attempt was handed over');
    return recorded;
  }

  it("keeps a retried payment's last refusal while its charge waits for the buyer, and shows Alipay's newest error once asking about it fails", async () => {
    // A payment refused once for the student's balance, tried again now.
    const retry = (payment: ClaimedCampusCodePayment): ClaimedCampusCodePayment => ({
      ...payment,
      status: 'RETRYING',
      retriesUsed: 1,
      lastErrorCode: 'ACQ.BUYER_BALANCE_NOT_ENOUGH',
    });

    // The charge waits for the student (10003): nothing new went wrong, the refusal is still the last error.
    await stack.alipay.control.injectApiFault({ method: 'alipay.trade.pay', times: 1, payInProcess: {} });
    const waiting = await attempt(retry(await claimed(10_000)));
    assert.deepEqual(
      [waiting.status, waiting.chargeState, waiting.lastErrorCode],
      ['RETRYING', 'AWAITING_BUYER', 'ACQ.BUYER_BALANCE_NOT_ENOUGH'],
    );

    // The charge's answer is lost and the query fails: that failure is now the last error.
    await stack.alipay.control.injectApiFault({
      method: 'alipay.trade.pay',
      times: 1,
      error: { subCode: 'ACQ.SYSTEM_ERROR' },
    });
    await stack.alipay.control.injectApiFault({
      method: 'alipay.trade.query',
      times: 1,
      error: { code: '20000', subCode: 'isp.unknow-error' },
    });
    const unknown = await attempt(retry(await claimed(10_000)));
    assert.deepEqual(
      [unknown.status, unknown.chargeState, unknown.lastErrorCode],
      ['RETRYING', 'UNKNOWN', 'isp.unknow-error'],
    );
  });
});
