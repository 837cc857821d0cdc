import assert from 'node:assert/strict';
import { startStack, type Stack } from '../../support/stack.js';

describe('graceful shutdown', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ env: { SHUTDOWN_TIMEOUT_MS: '5000' } });
  });
  after(() => stack.stop());

  it('stops taking requests but lets the one in flight finish', async () => {
    const user = await stack.createUser();
    const api = await user.login();
    const card = await stack.createCard();
    const bound = await api.post('/api/v1/bindings', {
      schoolId: stack.school.id,
      cardNo: card.cardNo,
      name: card.holderName,
      relation: 'SELF',
    });
    await stack.alipay.control.injectApiFault({ method: 'alipay.trade.create', times: 1, latencyMs: 800 });
    const inFlight = api.post('/api/v1/recharges', { bindingId: bound.body.id, amountFen: 1_000 });
    await new Promise((r) => setTimeout(r, 200));
    const stopping = stack.app.stop();
    await new Promise((r) => setTimeout(r, 50));
    await assert.rejects(fetch(`${stack.app.url}/healthz`), 'no new connections are accepted');
    const res = await inFlight;
    assert.equal(res.status, 201, res.text);
    assert.match(res.body.tradeNo, /^\d{28}$/);
    await stopping;
  });
});
