import assert from 'node:assert/strict';
import { alipayCalls } from '../../../server/src/lib/metrics.js';
import { startStack, type Stack } from '../../support/stack.js';
import { userWithCard } from '../student/helpers.js';

/**
 * What one user can leave open: every unpaid recharge is a trade at Alipay, every unfinished sign page a
 * PENDING agreement that is asked about until abandoned. Both are capped, with a retry time.
 */
describe('things a user can leave unfinished', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ env: { AGREEMENT_QUERY_AFTER_MS: '0' } });
  });
  after(() => stack.stop());

  it('refuses a sixth unpaid recharge with 429 until the first one expires', async () => {
    const { api, bindingId } = await userWithCard(stack);
    for (let i = 0; i < 5; i += 1) {
      const res = await api.post('/api/v1/recharges', { bindingId, amountFen: 1_000 + i });
      assert.equal(res.status, 201, res.text);
    }
    const sixth = await api.post('/api/v1/recharges', { bindingId, amountFen: 1_000 });
    assert.equal(sixth.status, 429, sixth.text);
    assert.equal(sixth.body.error.details.limit, 'open-recharges');
    assert.ok(sixth.body.error.details.retryAfterSeconds > 800, 'until the first order expires (15 min)');
  });

  it('refuses a fourth unfinished sign page, and asks Alipay about at most one per look', async () => {
    const { api, bindingId } = await userWithCard(stack);
    for (let i = 0; i < 3; i += 1) {
      const res = await api.post('/api/v1/withholding/sign', { bindingId });
      assert.equal(res.status, 201, res.text);
    }
    const fourth = await api.post('/api/v1/withholding/sign', { bindingId });
    assert.equal(fourth.status, 429, fourth.text);
    assert.equal(fourth.body.error.details.limit, 'pending-agreements');

    const before = await queriesOfAgreements();
    assert.equal((await api.get('/api/v1/me')).status, 200);
    assert.equal((await queriesOfAgreements()) - before, 1);
  });

  /** The process's own count of agreement.query calls (lib/metrics.ts). */
  async function queriesOfAgreements(): Promise<number> {
    const { values } = await alipayCalls.get();
    return values
      .filter(
        (v) =>
          v.metricName === 'campus_alipay_call_seconds_count' &&
          v.labels.method === 'alipay.user.agreement.query',
      )
      .reduce((sum, v) => sum + v.value, 0);
  }
});
