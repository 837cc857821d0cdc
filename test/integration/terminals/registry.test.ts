import assert from 'node:assert/strict';
import { runOperator } from '../../../scripts/operator/main.js';
import { adminOf } from '../../support/admins.js';
import { startStack, type Stack } from '../../support/stack.js';

const OPERATOR_ACCOUNT = '2088000000000077';

/** The terminals registry (issue #15 "Terminals"): admin pages and operator commands, every change audited. */
describe('Terminals registry: vending machines and windows of a school', function () {
  this.timeout(60_000);
  let stack: Stack;
  let owner: Awaited<ReturnType<typeof adminOf>>['http'];
  let staff: Awaited<ReturnType<typeof adminOf>>['http'];
  let base: string;

  before(async function () {
    // Starting PostgreSQL and both sandboxes can take long on a busy machine.
    this.timeout(180_000);
    stack = await startStack();
    owner = (await adminOf(stack, stack.school.id, 'OWNER')).http;
    staff = (await adminOf(stack, stack.school.id, 'STAFF')).http;
    base = `/api/v1/admin/schools/${stack.school.id}/terminals`;
  });
  after(async () => {
    await stack?.stop();
  });

  it('owners create a terminal with its HMAC client; the secret is shown once and the change audited', async () => {
    const created = await owner.post(base, {
      terminalId: 'VM-A-01',
      kind: 'VENDING',
      name: '一食堂饮料机',
      location: '一食堂门口',
      operatorName: '某饮料公司',
      moneyMode: 'ROYALTY',
      royalty: { account: OPERATOR_ACCOUNT, bps: 1_500, timing: 'ON_PAYMENT' },
    });
    assert.equal(created.status, 201, created.text);
    assert.match(created.body.secret, /^.{32,}$/);
    assert.equal(created.body.terminal.clientId, created.body.clientId);
    assert.deepEqual(created.body.terminal.royalty, {
      account: OPERATOR_ACCOUNT,
      bps: 1_500,
      fixedFen: null,
      timing: 'ON_PAYMENT',
    });
    const list = await staff.get(base);
    assert.deepEqual(
      list.body.items.map((t: { terminalId: string }) => t.terminalId),
      ['VM-A-01'],
    );
    assert.equal(
      JSON.stringify(list.body).includes(created.body.secret),
      false,
      'the secret is never listed',
    );
    const audit = await owner.get(`/api/v1/admin/schools/${stack.school.id}/audit`);
    assert.ok(
      audit.body.items.some(
        (e: { action: string; target: string }) => e.action === 'terminal.create' && e.target === 'VM-A-01',
      ),
      JSON.stringify(audit.body.items.map((e: { action: string }) => e.action)),
    );
    const again = await owner.post(base, {
      terminalId: 'VM-A-01',
      kind: 'VENDING',
      name: '重复',
      moneyMode: 'PLAIN',
    });
    assert.equal(again.status, 409);
  });

  it('refuses a money mode without its account, or with the wrong fields, naming the field', async () => {
    const restricted = await owner.post(base, {
      terminalId: 'VM-B',
      kind: 'VENDING',
      name: 'x',
      moneyMode: 'RESTRICTED',
    });
    assert.equal(restricted.status, 400);
    assert.equal(restricted.body.error.field, 'body.sellerId');
    const both = await owner.post(base, {
      terminalId: 'VM-B',
      kind: 'VENDING',
      name: 'x',
      moneyMode: 'ROYALTY',
      royalty: { account: OPERATOR_ACCOUNT, bps: 10, fixedFen: 10, timing: 'ON_PAYMENT' },
    });
    assert.equal(both.status, 400);
    assert.match(both.body.error.field, /^body\.royalty/);
  });

  it('staff edit and disable a terminal but may not create one or change where the money goes', async () => {
    const { body } = await owner.post(base, {
      terminalId: 'WIN-01',
      kind: 'CASHIER',
      name: '二食堂窗口',
      moneyMode: 'PLAIN',
    });
    const id = body.terminal.id;
    assert.equal(
      (await staff.post(base, { terminalId: 'WIN-02', kind: 'CASHIER', name: 'y', moneyMode: 'PLAIN' }))
        .status,
      403,
    );
    const edited = await staff.put(`${base}/${id}`, { name: '二食堂3号窗口', orderTimeoutSeconds: 300 });
    assert.equal(edited.status, 200, edited.text);
    assert.equal(edited.body.name, '二食堂3号窗口');
    const money = await staff.put(`${base}/${id}/money-mode`, {
      moneyMode: 'RESTRICTED',
      sellerId: OPERATOR_ACCOUNT,
    });
    assert.equal(money.status, 403);
    const byOwner = await owner.put(`${base}/${id}/money-mode`, {
      moneyMode: 'RESTRICTED',
      sellerId: OPERATOR_ACCOUNT,
    });
    assert.equal(byOwner.body.sellerId, OPERATOR_ACCOUNT);
    const disabled = await staff.put(`${base}/${id}/status`, { status: 'DISABLED' });
    assert.equal(disabled.body.status, 'DISABLED');
    const audit = await owner.get(`/api/v1/admin/schools/${stack.school.id}/audit`);
    const actions = audit.body.items
      .filter((e: { target: string }) => e.target === 'WIN-01')
      .map((e: { action: string }) => e.action);
    assert.deepEqual(actions.sort(), [
      'terminal.create',
      'terminal.disable',
      'terminal.money-mode.change',
      'terminal.update',
    ]);
  });

  it('the operator creates, lists and disables terminals from the command line', async () => {
    let stdout = '';
    const operator = async (...argv: string[]) => {
      stdout = '';
      let stderr = '';
      const code = await runOperator(argv, {
        env: { ...stack.app.env, OPERATOR_NAME: 'alice' },
        stdout: (text) => (stdout += text),
        stderr: (text) => (stderr += text),
      });
      return { code, json: stdout ? JSON.parse(stdout) : undefined, stderr };
    };
    const created = await operator(
      'terminal',
      'create',
      '--school',
      stack.school.code,
      '--terminal-id',
      'VM-OP-1',
      '--kind',
      'vending',
      '--name',
      '图书馆售货机',
      '--royalty-account',
      OPERATOR_ACCOUNT,
      '--royalty-fen',
      '20',
      '--royalty-timing',
      'after_dispense',
    );
    assert.equal(created.code, 0, created.stderr);
    assert.deepEqual(created.json.terminal.royalty, {
      account: OPERATOR_ACCOUNT,
      bps: null,
      fixedFen: 20,
      timing: 'AFTER_DISPENSE',
    });
    const bad = await operator(
      'terminal',
      'create',
      '--school',
      stack.school.code,
      '--terminal-id',
      'bad id!',
      '--kind',
      'vending',
      '--name',
      'x',
    );
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /terminalId/);
    const disabled = await operator(
      'terminal',
      'disable',
      '--school',
      stack.school.code,
      '--terminal-id',
      'VM-OP-1',
    );
    assert.equal(disabled.code, 0, disabled.stderr);
    assert.equal(disabled.json.status, 'DISABLED');
    const listed = await operator('terminal', 'list', '--school', stack.school.code);
    assert.ok(
      listed.json.some(
        (t: { terminalId: string; status: string }) => t.terminalId === 'VM-OP-1' && t.status === 'DISABLED',
      ),
    );
  });
});
