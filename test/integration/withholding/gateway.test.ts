import assert from 'node:assert/strict';
import { signGatewayRequest } from '../../../shared/gateway-signature.js';
import { startStack, type Stack } from '../../support/stack.js';
import { eventually, request } from '../../support/http.js';
import { userWithCard } from '../student/helpers.js';
import { chargesOf, gatewayFor, sale, signedPayer, txnNo, type Gateway } from './helpers.js';

describe('POS gateway authentication', () => {
  let stack: Stack;
  let gateway: Gateway;
  before(async () => {
    // A short client cache, so that rotation and revocation show within the test.
    stack = await startStack({ env: { GATEWAY_CLIENT_CACHE_MS: '200' } });
    gateway = await gatewayFor(stack);
  });
  after(() => stack.stop());

  const expectRejected = (res: { status: number; body: any }) => {
    assert.equal(res.status, 401);
    assert.equal(res.body.error.code, 'GATEWAY_AUTH_FAILED');
  };

  it('accepts a signed request and refuses the same nonce a second time', async () => {
    const body = sale('20240001', 100);
    const first = await gateway.post('/gateway/v1/deductions', body, { nonce: 'nonce-replayed-0001' });
    assert.equal(first.status, 200, first.text);
    expectRejected(await gateway.post('/gateway/v1/deductions', body, { nonce: 'nonce-replayed-0001' }));
    expectRejected(
      await gateway.post('/gateway/v1/deductions/whatever/reversal', {}, { nonce: 'nonce-replayed-0001' }),
    );
  });

  it('refuses a timestamp outside the five-minute window', async () => {
    expectRejected(
      await gateway.post('/gateway/v1/deductions', sale('20240001', 100), {
        timestamp: Date.now() - 301_000,
      }),
    );
    expectRejected(
      await gateway.post('/gateway/v1/deductions', sale('20240001', 100), {
        timestamp: Date.now() + 301_000,
      }),
    );
  });

  it('refuses a bad signature, an unknown client and missing headers alike', async () => {
    expectRejected(
      await gateway.post('/gateway/v1/deductions', sale('20240001', 100), { secret: 'not-the-secret' }),
    );
    const body = JSON.stringify(sale('20240001', 100));
    const timestamp = String(Date.now());
    const signature = signGatewayRequest(gateway.secret, {
      method: 'POST',
      path: '/gateway/v1/deductions',
      timestamp,
      nonce: 'nonce-unknown-client',
      body,
    });
    const headers = {
      'content-type': 'application/json',
      'x-client-id': 'gw_nobody',
      'x-timestamp': timestamp,
      'x-nonce': 'nonce-unknown-client',
      'x-signature': signature,
    };
    expectRejected(await request('POST', `${stack.app.url}/gateway/v1/deductions`, { raw: body, headers }));
    expectRejected(await request('POST', `${stack.app.url}/gateway/v1/deductions`, { raw: body }));
    // A body changed after signing: signed right for the original body, with a fresh nonce, by a real
    // client; only the body hash can tell.
    const tampered = body.replace('"amountFen":100', '"amountFen":1');
    assert.notEqual(tampered, body);
    const signedForOriginal = signGatewayRequest(gateway.secret, {
      method: 'POST',
      path: '/gateway/v1/deductions',
      timestamp,
      nonce: 'nonce-tampered-body',
      body,
    });
    expectRejected(
      await request('POST', `${stack.app.url}/gateway/v1/deductions`, {
        raw: tampered,
        headers: {
          ...headers,
          'x-client-id': gateway.clientId,
          'x-nonce': 'nonce-tampered-body',
          'x-signature': signedForOriginal,
        },
      }),
    );
  });

  it('reproduces the worked example of docs/gateway-api.md', () => {
    const signature = signGatewayRequest('demo-secret-0123456789', {
      method: 'POST',
      path: '/gateway/v1/deductions',
      timestamp: '1767225600000',
      nonce: '6f1c2a9e4b7d4e0f',
      body: '{"txnNo":"POS20260101080000000001","cardNo":"20240001","amountFen":1250,"terminalId":"T09","occurredAt":"2026-01-01T00:00:00.000Z"}',
    });
    assert.equal(signature, '1088c2795dc759bf60c3fbd79f219f386d4cc46010255cad6faf44f7c7b98e1d');
  });

  it('names the field of a malformed deduction (400), after checking the signature', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ ...sale('20240001', 100), amountFen: 10.5 }, 'body.amountFen'],
      [{ ...sale('20240001', 100), amountFen: '100' }, 'body.amountFen'],
      [{ ...sale('20240001', 100), amountFen: 0 }, 'body.amountFen'],
      [{ ...sale('20240001', 100), txnNo: 'has space' }, 'body.txnNo'],
      [{ ...sale('20240001', 100), occurredAt: 'yesterday' }, 'body.occurredAt'],
      [{ ...sale('20240001', 100), terminalId: undefined }, 'body.terminalId'],
    ];
    for (const [body, field] of cases) {
      const res = await gateway.deduct(body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.error.field, field);
    }
  });

  it('stops accepting a revoked client and keeps the old secret during a rotation grace period', async () => {
    const { rotateGatewayClient, revokeGatewayClientById } =
      await import('../../../server/src/domain/schools/gateway-clients.js');
    const other = await gatewayFor(stack);
    const rotated = await rotateGatewayClient(stack.app.deps, other.clientId, 5);
    // The cached client is rebuilt within GATEWAY_CLIENT_CACHE_MS; the old secret stays valid meanwhile.
    assert.equal((await other.deduct(sale('20240001', 100))).status, 200);
    await eventually(
      async () =>
        (await other.post('/gateway/v1/deductions', sale('20240001', 100), { secret: rotated.secret }))
          .status === 200,
      { timeoutMs: 5_000 },
    );
    await revokeGatewayClientById(stack.app.deps, other.clientId, { kind: 'OPERATOR', name: 'alice' });
    await eventually(
      async () =>
        (await other.post('/gateway/v1/deductions', sale('20240001', 100), { secret: rotated.secret }))
          .status === 401,
      { timeoutMs: 5_000 },
    );
    // Each change is in the school's audit log, the secrets nowhere in it.
    const { rows } = await stack.app.deps.pool.query(
      `select action, actor_id, after::text as after from audit_log where target = $1 order by id`,
      [other.clientId],
    );
    assert.deepEqual(
      rows.map((r) => [r.action, r.actor_id]),
      [
        ['gateway-client.create', 'platform'],
        ['gateway-client.rotate', 'platform'],
        ['gateway-client.revoke', 'alice'],
      ],
    );
    assert.ok(rows.every((r) => !r.after.includes(rotated.secret) && !r.after.includes(other.secret)));
  });
});

describe('deciding a swipe at once (decline reasons, DESIGN §6.2)', () => {
  let stack: Stack;
  let gateway: Gateway;
  before(async () => {
    stack = await startStack({ schoolSettings: { txnLimitFen: 5_000, dailyLimitFen: 8_000 } });
    gateway = await gatewayFor(stack);
  });
  after(() => stack.stop());

  const decline = async (body: Record<string, unknown>, reason: string) => {
    const res = await gateway.deduct(body);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual([res.body.decision, res.body.reason, res.body.status], ['DECLINED', reason, 'DECLINED']);
    assert.equal(res.body.txnNo, body.txnNo);
    return res.body;
  };

  it('declines a card nobody signed for (NOT_BOUND)', async () => {
    const { card } = await userWithCard(stack);
    await decline(sale(card.cardNo, 100), 'NOT_BOUND');
    await decline(sale('99999999', 100), 'NOT_BOUND');
  });

  it('declines when the school has switched withholding off (WITHHOLDING_DISABLED)', async () => {
    const school = await stack.addSchool({ settings: { withholdingEnabled: false } });
    const other = await gatewayFor(stack, school.id);
    const res = await other.deduct(sale('20240001', 100));
    assert.deepEqual([res.body.decision, res.body.reason], ['DECLINED', 'WITHHOLDING_DISABLED']);
  });

  it('declines a card reported lost (CARD_LOST)', async () => {
    const payer = await signedPayer(stack);
    assert.equal((await payer.api.post(`/api/v1/bindings/${payer.bindingId}/loss`)).status, 200);
    await decline(sale(payer.card.cardNo, 100), 'CARD_LOST');
  });

  it('declines over the per-transaction limit and over the daily limit, counting only approved, unreversed swipes', async () => {
    const payer = await signedPayer(stack);
    await decline(sale(payer.card.cardNo, 5_001), 'OVER_TXN_LIMIT');
    const first = await gateway.deduct(sale(payer.card.cardNo, 5_000));
    assert.equal(first.body.decision, 'APPROVED');
    await decline(sale(payer.card.cardNo, 3_001), 'OVER_DAILY_LIMIT');
    const fits = await gateway.deduct(sale(payer.card.cardNo, 3_000));
    assert.equal(fits.body.decision, 'APPROVED');
    await decline(sale(payer.card.cardNo, 1), 'OVER_DAILY_LIMIT');
    // A reversed swipe gives its amount back to the day.
    await eventually(
      async () =>
        (await gateway.get(`/gateway/v1/deductions/${fits.body.txnNo}`)).body.status === 'COLLECTED',
    );
    assert.equal((await gateway.reverse(fits.body.txnNo)).status, 200);
    assert.equal((await gateway.deduct(sale(payer.card.cardNo, 1_000))).body.decision, 'APPROVED');
  });

  it('keeps the daily limit exact when one card is swiped at many terminals at once', async () => {
    const payer = await signedPayer(stack);
    // This school's daily limit is 8,000 fen: of forty concurrent swipes of 1,000 fen exactly eight fit.
    const answers = await Promise.all(
      Array.from({ length: 40 }, () => gateway.deduct(sale(payer.card.cardNo, 1_000))),
    );
    const decisions = answers.map(
      (res) => `${res.body.decision}${res.body.reason ? ` ${res.body.reason}` : ''}`,
    );
    assert.equal(decisions.filter((d) => d === 'APPROVED').length, 8, decisions.join());
    assert.equal(decisions.filter((d) => d === 'DECLINED OVER_DAILY_LIMIT').length, 32, decisions.join());
  });

  it('declines a txnNo that was reversed before it arrived (REVERSED tombstone)', async () => {
    const payer = await signedPayer(stack);
    const late = sale(payer.card.cardNo, 700);
    const reversal = await gateway.reverse(late.txnNo);
    assert.equal(reversal.status, 200);
    assert.deepEqual(
      [reversal.body.status, reversal.body.decision, reversal.body.reason],
      ['REVERSED', 'DECLINED', 'REVERSED'],
    );
    const res = await gateway.deduct(late);
    assert.deepEqual(
      [res.body.decision, res.body.reason, res.body.status],
      ['DECLINED', 'REVERSED', 'REVERSED'],
    );
    assert.equal((await gateway.reverse(late.txnNo)).status, 200, 'a second reversal is accepted too');
    assert.equal((await chargesOf(stack, res.body.deductionId)).trades.length, 0);
  });

  it('answers a repeated txnNo with its first answer, and 409 TXN_CONFLICT for another amount or card', async () => {
    const payer = await signedPayer(stack);
    const body = sale(payer.card.cardNo, 300);
    const first = await gateway.deduct(body);
    const again = await gateway.deduct(body);
    assert.equal(again.status, 200);
    assert.deepEqual([again.body.deductionId, again.body.decision], [first.body.deductionId, 'APPROVED']);
    for (const changed of [
      { ...body, amountFen: 301 },
      { ...body, cardNo: '11112222' },
    ]) {
      const res = await gateway.deduct(changed);
      assert.equal(res.status, 409);
      assert.equal(res.body.error.code, 'TXN_CONFLICT');
    }
  });

  /** campus_deduction_decisions_total on /metrics, by its labels. */
  async function decisionCounts(): Promise<Map<string, number>> {
    const res = await request('GET', `${stack.app.url}/metrics`);
    assert.equal(res.status, 200);
    const counts = new Map<string, number>();
    for (const match of res.text.matchAll(/^campus_deduction_decisions_total\{(.*)\} (\d+)$/gm))
      counts.set(match[1], Number(match[2]));
    return counts;
  }

  it('counts each decision once on /metrics, by decision and decline reason: a repeated txnNo is not counted again', async () => {
    const payer = await signedPayer(stack);
    const { card } = await userWithCard(stack);
    const before = await decisionCounts();
    const approved = sale(payer.card.cardNo, 210);
    assert.equal((await gateway.deduct(approved)).body.decision, 'APPROVED');
    await decline(sale(card.cardNo, 220), 'NOT_BOUND');
    assert.equal(
      (await gateway.deduct(approved)).body.decision,
      'APPROVED',
      'the repeat gets its first answer',
    );
    const after = await decisionCounts();
    const added = (labels: string) => (after.get(labels) ?? 0) - (before.get(labels) ?? 0);
    assert.deepEqual(
      [added('decision="APPROVED",reason=""'), added('decision="DECLINED",reason="NOT_BOUND"')],
      [1, 1],
    );
    assert.equal(
      [...after.values()].reduce((a, b) => a + b, 0) - [...before.values()].reduce((a, b) => a + b, 0),
      2,
      'nothing else counted',
    );
  });

  it('records one deduction for 100 concurrent requests with one txnNo, and charges it once', async () => {
    const payer = await signedPayer(stack);
    const body = sale(payer.card.cardNo, 450);
    const answers = await Promise.all(Array.from({ length: 100 }, () => gateway.deduct(body)));
    assert.deepEqual([...new Set(answers.map((a) => a.status))], [200]);
    assert.equal(new Set(answers.map((a) => a.body.deductionId)).size, 1);
    assert.deepEqual([...new Set(answers.map((a) => a.body.decision))], ['APPROVED']);
    const conflicting = await Promise.all(
      Array.from({ length: 10 }, () => gateway.deduct({ ...body, amountFen: 451 })),
    );
    assert.deepEqual([...new Set(conflicting.map((a) => a.status))], [409]);
    const { rows } = await stack.app.deps.pool.query(
      'select count(*)::int as n from deductions where txn_no = $1',
      [body.txnNo],
    );
    assert.equal(rows[0].n, 1);
    const detail = await eventually(async () => {
      const res = await gateway.get(`/gateway/v1/deductions/${body.txnNo}`);
      return res.body.status === 'COLLECTED' ? res.body : undefined;
    });
    assert.equal((await chargesOf(stack, detail.deductionId)).paid.length, 1);
  });

  it('shows a deduction with its attempts; another school’s client cannot see it', async () => {
    const payer = await signedPayer(stack);
    const body = sale(payer.card.cardNo, 120);
    await gateway.deduct(body);
    const detail = await eventually(async () => {
      const res = await gateway.get(`/gateway/v1/deductions/${body.txnNo}`);
      return res.body.status === 'COLLECTED' ? res.body : undefined;
    });
    assert.equal(detail.attempts.length, 1);
    assert.equal(detail.attempts[0].outcome, 'PAID');
    const stranger = await gatewayFor(stack, (await stack.addSchool()).id);
    const res = await stranger.get(`/gateway/v1/deductions/${body.txnNo}`);
    assert.equal(res.status, 404);
    assert.equal(res.body.error.code, 'DEDUCTION_NOT_FOUND');
    assert.equal((await gateway.get(`/gateway/v1/deductions/${txnNo()}`)).status, 404);
  });
});
