import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { PosGatewayClient } from '../../../scripts/pos-client.js';
import { freePort } from '../../../server/src/db/embedded-postgres.js';
import { eventually } from '../../support/http.js';
import { startStack, type Stack } from '../../support/stack.js';
import { gatewayFor, sale, signedPayer, txnNo } from './helpers.js';

const run = promisify(execFile);

/** The operator command and the reference POS client, against a running platform. */
describe('gateway client command and reference POS client', function () {
  // Each command is a new tsx process: slow on a busy machine, not a timing check.
  this.timeout(90_000);
  let stack: Stack;
  before(async () => {
    // No client cache, so that a rotated secret is used at once.
    stack = await startStack({ env: { GATEWAY_CLIENT_CACHE_MS: '0' } });
  });
  after(() => stack.stop());

  async function cli(...args: string[]) {
    const { stdout } = await run('npx', ['tsx', 'scripts/gateway-client.ts', ...args], {
      env: {
        ...process.env,
        DATABASE_URL: stack.app.databaseUrl,
        PII_KEY: stack.app.deps.config.piiKey,
        DATA_DIR: stack.app.deps.config.dataDir,
      },
    });
    return JSON.parse(stdout);
  }

  it('creates a client whose secret signs accepted requests, lists it, and rotates its secret', async () => {
    const created = await cli('create', '--school', stack.school.code, '--name', '一食堂');
    assert.match(created.clientId, /^gw_/);
    assert.equal(created.school.id, stack.school.id);
    const pos = new PosGatewayClient({
      baseUrl: stack.app.url,
      clientId: created.clientId,
      secret: created.secret,
    });
    const answered = await pos.deduct(sale('20240001', 100));
    assert.equal(answered.kind, 'ANSWERED');
    const listed = await cli('list');
    assert.ok(
      listed.some(
        (c: { clientId: string; name: string }) => c.clientId === created.clientId && c.name === '一食堂',
      ),
    );
    const rotated = await cli('rotate', '--client', created.clientId, '--grace-minutes', '10');
    assert.notEqual(rotated.secret, created.secret);
    const withNew = new PosGatewayClient({
      baseUrl: stack.app.url,
      clientId: created.clientId,
      secret: rotated.secret,
    });
    assert.equal((await withNew.status(txnNo())).status, 404, 'authenticated: an unknown txnNo is a 404');
    // Audited as the operator, one request id per command run.
    const { rows } = await stack.app.deps.pool.query(
      `select action, actor_kind, request_id from audit_log where target = $1 order by id`,
      [created.clientId],
    );
    assert.deepEqual(
      rows.map((r) => [r.action, r.actor_kind]),
      [
        ['gateway-client.create', 'OPERATOR'],
        ['gateway-client.rotate', 'OPERATOR'],
      ],
    );
    assert.ok(rows.every((r) => /^op-/.test(r.request_id)));
  });

  it('reference client: approves, shows status, and reverses a collected swipe with a refund', async () => {
    const gateway = await gatewayFor(stack);
    const payer = await signedPayer(stack);
    const pos = new PosGatewayClient({
      baseUrl: stack.app.url,
      clientId: gateway.clientId,
      secret: gateway.secret,
    });
    const txn = txnNo();
    const outcome = await pos.deduct({
      txnNo: txn,
      cardNo: payer.card.cardNo,
      amountFen: 250,
      terminalId: 'T01',
    });
    assert.equal(outcome.kind === 'ANSWERED' && outcome.answer.decision, 'APPROVED');
    await eventually(async () => (await pos.status(txn)).json?.status === 'COLLECTED');
    const reversed = await pos.reverse(txn);
    assert.equal(reversed.status, 200);
    await eventually(async () => (await pos.status(txn)).json?.reversal?.refund === 'REFUNDED');
    const { trades } = await stack.alipay.control.ledger({
      outTradeNo: outcome.kind === 'ANSWERED' ? outcome.answer.deductionId : '',
    });
    assert.deepEqual(
      trades.map((t) => [t.status, t.refundedFen]),
      [['TRADE_CLOSED', 250]],
    );
  });

  it('reference client: a connect failure means card balance and a reversal', async () => {
    const gateway = await gatewayFor(stack);
    const pos = new PosGatewayClient({
      baseUrl: `http://127.0.0.1:${await freePort()}`,
      clientId: gateway.clientId,
      secret: gateway.secret,
      reversalRetryMs: 10,
      reversalMaxTries: 3,
    });
    const outcome = await pos.deduct({
      txnNo: txnNo(),
      cardNo: '20240001',
      amountFen: 100,
      terminalId: 'T01',
    });
    assert.equal(outcome.kind, 'USE_CARD_BALANCE');
    assert.ok(outcome.kind === 'USE_CARD_BALANCE');
    assert.match(outcome.why, /connect failed/);
    // Nobody listens there: the reversal keeps trying, then says it was never acknowledged.
    await assert.rejects(outcome.reversal, /never acknowledged/);
  });
});
