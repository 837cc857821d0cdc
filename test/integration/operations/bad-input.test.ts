import assert from 'node:assert/strict';
import { request } from '../../support/http.js';
import { startStack, type Stack } from '../../support/stack.js';
import { userWithCard, type Api } from '../student/helpers.js';
import { gatewayFor, sale, type Gateway } from '../withholding/helpers.js';

/** The inputs the security review's fuzzing answered with a 5xx: each is now a 4xx naming the field. */
describe('bad input that used to answer 5xx', () => {
  let stack: Stack;
  let api: Api;
  let bindingId: string;
  let gateway: Gateway;
  before(async () => {
    stack = await startStack();
    ({ api, bindingId } = await userWithCard(stack));
    gateway = await gatewayFor(stack);
  });
  after(() => stack.stop());

  it('answers 400 for a body whose Content-Encoding does not decode, and 415 for an unknown encoding', async () => {
    const send = (encoding: string) =>
      request('POST', `${stack.app.url}/api/v1/recharges`, {
        raw: 'not gzip at all',
        token: api.token,
        headers: { 'content-type': 'application/json', 'content-encoding': encoding },
      });
    const garbled = await send('gzip');
    assert.equal(garbled.status, 400, garbled.text);
    assert.equal(garbled.body.error.field, 'body');
    assert.equal((await send('x-unknown')).status, 415);
  });

  it('records an unsigned notification with a NUL byte as a bounded summary and answers fail', async () => {
    const body = new URLSearchParams({
      notify_type: 'trade_status_sync',
      out_trade_no: 'R\u0000evil',
      sign: 'forged',
      padding: 'x'.repeat(10_000),
    }).toString();
    const res = await request('POST', `${stack.app.url}/notify/alipay`, {
      raw: body,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(res.status, 200);
    assert.equal(res.text, 'fail');
    const { rows } = await stack.app.deps.pool.query(
      `select out_trade_no, body, pg_column_size(body) as size from notify_log where not is_verified order by id desc limit 1`,
    );
    assert.equal(rows[0].out_trade_no, 'R\uFFFDevil');
    assert.equal(rows[0].body._fields, 4);
    assert.ok(rows[0].size < 500, `stored ${rows[0].size} bytes of a 10 kB forgery`);
    const tooBig = await request('POST', `${stack.app.url}/notify/alipay`, {
      raw: `sign=x&padding=${'x'.repeat(20_000)}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(tooBig.status, 413);
  });

  it('answers 400 query.q for a NUL byte in the school search', async () => {
    const res = await api.get('/api/v1/schools?q=%00');
    assert.equal(res.status, 400, res.text);
    assert.equal(res.body.error.field, 'query.q');
  });

  it('answers 400 body.occurredAt for a swipe dated before 4713 BC', async () => {
    const res = await gateway.deduct(sale('20260001', 100, { occurredAt: '-004714-11-24T00:00:00Z' }));
    assert.equal(res.status, 400, res.text);
    assert.equal(res.body.error.field, 'body.occurredAt');
  });

  it('answers 400 naming the end of a statement window at the end of JavaScript time, or in year 0', async () => {
    const late = await api.get(
      `/api/v1/bindings/${bindingId}/statement?from=2026-01-01T00:00:00Z&to=%2B275760-09-13T00:00:00.000Z`,
    );
    assert.equal(late.status, 400, late.text);
    assert.equal(late.body.error.field, 'query.to');
    const early = await api.get(
      `/api/v1/bindings/${bindingId}/statement?from=0000-01-01T00:00:00Z&to=0000-01-02T00:00:00Z`,
    );
    assert.equal(early.status, 400, early.text);
    assert.equal(early.body.error.field, 'query.from');
  });
});
