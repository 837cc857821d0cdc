import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../../support/app.js';
import { request } from '../../support/http.js';

describe('HTTP skeleton', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp({ env: { BODY_LIMIT_BYTES: '2048' } });
  });
  after(() => app.stop());

  it('takes the port it was given (PORT=0) as its public URL when none is configured', () => {
    assert.equal(app.deps.config.publicBaseUrl, app.url);
  });

  it('answers /healthz while the process runs', async () => {
    const res = await app.http.get('/healthz');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { status: 'ok' });
  });

  it('answers /readyz = ready when the database is reachable', async () => {
    const res = await app.http.get('/readyz');
    assert.equal(res.status, 200);
    assert.equal(res.body.status, 'ready');
    assert.equal(res.body.database, 'up');
  });

  it('gives every response a request id and keeps a well-formed incoming one', async () => {
    const generated = await app.http.get('/healthz');
    assert.match(generated.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
    const kept = await app.http.get('/healthz', { 'x-request-id': 'pos-gw-0001-abc' });
    assert.equal(kept.headers.get('x-request-id'), 'pos-gw-0001-abc');
  });

  it('answers unknown paths with 404 NOT_FOUND in the error model', async () => {
    const res = await app.http.get('/no/such/thing', { 'x-request-id': 'req-404-check' });
    assert.equal(res.status, 404);
    assert.deepEqual(res.body, {
      error: { code: 'NOT_FOUND', message: 'No such resource' },
      requestId: 'req-404-check',
    });
  });

  it('answers a wrong method on a known path with 405 METHOD_NOT_ALLOWED', async () => {
    const res = await app.http.post('/healthz', {});
    assert.equal(res.status, 405);
    assert.equal(res.body.error.code, 'METHOD_NOT_ALLOWED');
    assert.match(res.headers.get('allow') ?? '', /GET/);
  });

  it('refuses a body over the configured limit with 413 BODY_TOO_LARGE', async () => {
    const res = await app.http.post('/healthz', { padding: 'x'.repeat(4096) });
    assert.equal(res.status, 413);
    assert.equal(res.body.error.code, 'BODY_TOO_LARGE');
  });

  it('refuses malformed JSON with 400 naming the body', async () => {
    const res = await request('POST', `${app.url}/healthz`, {
      raw: '{"amountFen": 12',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(res.status, 400);
    assert.equal(res.body.error.code, 'VALIDATION_FAILED');
    assert.equal(res.body.error.field, 'body');
  });
});
