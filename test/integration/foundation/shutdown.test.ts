import assert from 'node:assert/strict';
import { eventually } from '../../support/http.js';
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
      studentNo: card.studentNo,
    });
    await stack.alipay.control.injectApiFault({ method: 'alipay.trade.create', times: 1, latencyMs: 800 });
    const inFlight = api.post('/api/v1/recharges', { bindingId: bound.body.id, amountFen: 1_000 });
    // In flight: Alipay has the trade and is holding its answer (the latency fault).
    await eventually(
      async () => (await stack.alipay.control.ledger({ userId: user.userId })).trades.length === 1,
    );
    const stopping = stack.app.stop();
    await eventually(
      () =>
        fetch(`${stack.app.url}/healthz`).then(
          () => false,
          () => true,
        ),
      { message: 'new connections are refused' },
    );
    const res = await inFlight;
    assert.equal(res.status, 201, res.text);
    assert.match(res.body.tradeNo, /^\d{28}$/);
    await stopping;
  });
});
