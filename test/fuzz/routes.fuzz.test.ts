import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import fc from 'fast-check';
import { buildApp } from '../../server/src/app.js';
import { buildGatewayHeaders } from '../../shared/gateway-signature.js';
import { VendingMachine } from '../../scripts/sandbox/vending/machine.js';
import { createTerminal } from '../../server/src/domain/terminals/terminals.js';
import { TEST_OPERATOR } from '../support/admins.js';
import { request, type HttpResult } from '../support/http.js';
import { startStack, type Stack } from '../support/stack.js';
import { userWithCard } from '../integration/student/helpers.js';
import { gatewayFor, sale, type Gateway } from '../integration/withholding/helpers.js';
import { FUZZ_CATALOG, hostileString, hostileValue, type Fixture, type FuzzEntry } from './catalog.js';
import { mountedRoutes } from './routes.js';

/**
 * Property-based fuzzing of every mounted route (fast-check): whatever arrives — spoiled fields, hostile
 * strings (NUL, huge, dates at the ends of time), wrong types, undecodable bodies and encodings — the
 * answer is never a 5xx, a rejected request changes no row, and the service stays ready. FUZZ_RUNS
 * (default 12 per route in CI; `npm run test:fuzz` runs 200) sets how many requests each route gets.
 *
 * The API process runs no jobs (ROLE=api), so the database changes only through the requests themselves.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 12);
const METRICS_TOKEN = 'fuzz-metrics-token-0123456789';
/** Tables whose rows a rejected request may legitimately touch: counters and logs of the request itself. */
const REQUEST_BOOKKEEPING = new Set(['rate_limits', 'gateway_nonces', 'notify_log', 'agenda_jobs']);

interface FuzzRequest {
  params: Record<string, string>;
  query: Record<string, string>;
  body: unknown;
  raw?: { contentType?: string; contentEncoding?: string; bytes: Buffer };
}

const RAW_BODIES: fc.Arbitrary<NonNullable<FuzzRequest['raw']>> = fc.oneof(
  fc.constantFrom(
    { contentType: 'application/json', bytes: Buffer.from('{"amountFen":1,"amountFen":"x"}') },
    { contentType: 'application/json', bytes: Buffer.from('{"a":') },
    { contentType: 'application/json', bytes: Buffer.from('[1,2,3]') },
    { contentType: 'application/json', bytes: Buffer.from('"just a string"') },
    { contentType: 'application/json', bytes: Buffer.from('{"__proto__":{"admin":true}}') },
    { contentType: 'application/json', bytes: Buffer.from('{"a":"\\u0000"}') },
    { contentType: 'application/json', contentEncoding: 'gzip', bytes: Buffer.from('not gzip at all') },
    { contentType: 'application/json', contentEncoding: 'deflate', bytes: Buffer.from([0x78, 0x9c, 0xff]) },
    { contentType: 'application/json', contentEncoding: 'br', bytes: Buffer.from('garbage') },
    { contentType: 'application/json', contentEncoding: 'x-unknown', bytes: Buffer.from('{}') },
    { contentType: 'application/json', contentEncoding: 'gzip', bytes: zlib.gzipSync('{"a":1}') },
    { contentType: 'application/x-www-form-urlencoded', bytes: Buffer.from('a=%00&b=%zz&a=2') },
    { contentType: 'text/plain', bytes: Buffer.from('hello') },
    { contentType: 'multipart/form-data; boundary=x', bytes: Buffer.from('--x\r\n\r\n--x--') },
    { contentType: 'application/xml', bytes: Buffer.from('<a/>') },
    { bytes: Buffer.from('{"no":"content type"}') },
  ),
  fc
    .uint8Array({ maxLength: 64 })
    .map((bytes) => ({ contentType: 'application/json', bytes: Buffer.from(bytes) })),
);

/** Lone surrogates cannot be URL-encoded; what the wire would carry is U+FFFD. */
function wellFormed(text: string): string {
  return text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

/** Any generated value as text: objects without a prototype have no toString. */
function asText(value: unknown): string {
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? '');
}

function requestFor(entry: FuzzEntry, fixture: Fixture, paramNames: string[]): fc.Arbitrary<FuzzRequest> {
  const example = entry.example?.(fixture) ?? {};
  const base: FuzzRequest = {
    params: Object.fromEntries(paramNames.map((name) => [name, example.params?.[name] ?? 'x'])),
    query: example.query ?? {},
    body: example.body ?? {},
  };
  const spoilOne = fc
    .tuple(
      fc.constantFrom<'params' | 'query' | 'body'>('params', 'query', 'body'),
      hostileValue,
      fc.nat(),
      fc.boolean(),
    )
    .map(([part, value, pick, drop]): FuzzRequest => {
      const next = structuredClone(base);
      const target = (part === 'body' ? next.body : next[part]) as Record<string, unknown>;
      if (!target || typeof target !== 'object') return next;
      const keys = Object.keys(target);
      const key = keys.length > 0 ? keys[pick % keys.length] : `extra${pick % 3}`;
      if (drop && part === 'body') delete target[key];
      else target[key] = part === 'body' ? value : asText(value);
      return next;
    });
  const allHostile = fc.record({
    params: fc.record(Object.fromEntries(paramNames.map((name) => [name, hostileString]))) as fc.Arbitrary<
      Record<string, string>
    >,
    query: fc.dictionary(fc.constantFrom('q', 'from', 'to', 'page', 'schoolId', 'x'), hostileString, {
      maxKeys: 3,
    }),
    body: fc.oneof(hostileValue, fc.dictionary(fc.string({ maxLength: 10 }), hostileValue, { maxKeys: 5 })),
  });
  const rawBody = RAW_BODIES.map((raw): FuzzRequest => ({ ...base, raw }));
  return fc.oneof(
    { weight: 4, arbitrary: spoilOne },
    { weight: 3, arbitrary: allHostile },
    { weight: 2, arbitrary: rawBody },
  );
}

describe('fuzzing every route: no 5xx, no change on a rejected request', () => {
  let stack: Stack;
  let gateway: Gateway;
  let machine: { clientId: string; secret: string };
  let token: string;
  let fixture: Fixture;
  let routes: string[];

  before(async function () {
    this.timeout(120_000);
    stack = await startStack({
      env: { ROLE: 'api', RATE_LIMIT_SCALE: '0', METRICS_TOKEN, LOG_LEVEL: 'error' },
      membercard: {},
    });
    gateway = await gatewayFor(stack);
    const payer = await userWithCard(stack);
    token = payer.api.token;
    // An owner of the school, so that the admin routes are fuzzed past their role check.
    const me = await payer.api.get('/api/v1/me');
    await stack.app.deps.pool.query(
      `insert into school_admins (school_id, user_id, role) values ($1, $2, 'OWNER')`,
      [stack.school.id, me.body.user.id],
    );
    const recharge = await payer.api.post('/api/v1/recharges', {
      bindingId: payer.bindingId,
      amountFen: 1_000,
    });
    const swipe = await gateway.deduct(sale(payer.card.cardNo, 100));
    assert.equal(swipe.status, 200, swipe.text);
    const terminal = await createTerminal(stack.app.deps, TEST_OPERATOR, stack.school.id, {
      terminalId: 'FZ-VM-01',
      kind: 'VENDING',
      name: '模糊测试售货机',
      moneyMode: 'PLAIN',
    });
    machine = terminal;
    const order = await new VendingMachine({
      platformUrl: stack.app.url,
      terminalId: 'FZ-VM-01',
      clientId: terminal.clientId,
      secret: terminal.secret,
    }).createOrder([{ name: '可乐', quantity: 1, unitFen: 300 }]);
    assert.equal(order.status, 200, JSON.stringify(order.body));
    fixture = {
      schoolId: stack.school.id,
      bindingId: payer.bindingId,
      rechargeId: recharge.body.id,
      cardNo: payer.card.cardNo,
      txnNo: swipe.body.txnNo,
      terminalRef: terminal.terminal.id,
      outOrderNo: order.body.outOrderNo,
      orderNo: order.body.orderNo,
    };
    routes = mountedRoutes(buildApp(stack.app.deps));
  });
  after(() => stack?.stop());

  async function fingerprint(): Promise<string> {
    // Outside calls of earlier (accepted) requests are written by the recorder a moment later: in first.
    await stack.app.deps.calls.flush();
    const { rows } = await stack.app.deps.pool.query<{ table_name: string }>(
      `select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by 1`,
    );
    const parts: string[] = [];
    for (const { table_name: table } of rows) {
      if (REQUEST_BOOKKEEPING.has(table)) continue;
      const { rows: hash } = await stack.app.deps.pool.query(
        `select count(*) as n, md5(coalesce(string_agg(t::text, '|' order by t::text), '')) as h from "${table}" t`,
      );
      parts.push(`${table}:${hash[0].n}:${hash[0].h}`);
    }
    return parts.join('\n');
  }

  async function send(route: string, entry: FuzzEntry, input: FuzzRequest): Promise<HttpResult> {
    const [method, pattern] = route.split(' ');
    const path = pattern.replace(/:(\w+)/g, (_, name: string) => {
      // `raw:` values go into the path unencoded (broken escapes, invalid UTF-8); the rest as a client would.
      const value = input.params[name] ?? '';
      return value.startsWith('raw:') ? value.slice(4) : encodeURIComponent(wellFormed(value));
    });
    const search = new URLSearchParams(
      Object.entries(input.query).map(([k, v]): [string, string] => [wellFormed(k), wellFormed(v)]),
    ).toString();
    const target = search ? `${path}?${search}` : path;
    const headers: Record<string, string> = {};
    let raw: Buffer | string | undefined;
    if (input.raw && method !== 'GET') {
      raw = input.raw.bytes;
      if (input.raw.contentType) headers['content-type'] = input.raw.contentType;
      if (input.raw.contentEncoding) headers['content-encoding'] = input.raw.contentEncoding;
    } else if (method !== 'GET') {
      if (entry.bodyType === 'form') {
        const form = input.body && typeof input.body === 'object' ? input.body : { value: input.body };
        raw = new URLSearchParams(
          Object.entries(form).map(([k, v]): [string, string] => [k, asText(v)]),
        ).toString();
        headers['content-type'] = 'application/x-www-form-urlencoded';
      } else {
        raw = JSON.stringify(input.body) ?? 'null';
        headers['content-type'] = 'application/json';
      }
    }
    if (entry.auth === 'session') headers.authorization = `Bearer ${token}`;
    if (entry.auth === 'metrics') headers.authorization = `Bearer ${METRICS_TOKEN}`;
    if (entry.auth === 'crm') headers.token = stack.membercard!.crmToken;
    if (entry.auth === 'gateway' || entry.auth === 'terminal')
      Object.assign(
        headers,
        buildGatewayHeaders({
          clientId: entry.auth === 'terminal' ? machine.clientId : gateway.clientId,
          secret: entry.auth === 'terminal' ? machine.secret : gateway.secret,
          method,
          path: target,
          body: typeof raw === 'string' ? raw : (raw?.toString('utf8') ?? ''),
        }),
      );
    return request(method, stack.app.url + target, { raw: raw as string | undefined, headers });
  }

  it('has a fuzz entry for every mounted route, and none for a route that is gone', () => {
    const missing = routes.filter((route) => !FUZZ_CATALOG[route]);
    assert.deepEqual(missing, [], `add these routes to test/fuzz/catalog.ts: ${missing.join(', ')}`);
    const stale = Object.keys(FUZZ_CATALOG).filter((route) => !routes.includes(route));
    assert.deepEqual(stale, [], `these catalog entries name no mounted route: ${stale.join(', ')}`);
  });

  for (const route of Object.keys(FUZZ_CATALOG)) {
    it(`${route}: never 5xx, and a rejected request changes no row`, async function () {
      this.timeout(60_000 + RUNS * 2_000);
      if (!routes.includes(route)) this.skip();
      const entry = FUZZ_CATALOG[route];
      const paramNames = [...route.matchAll(/:(\w+)/g)].map((m) => m[1]);
      await fc.assert(
        fc.asyncProperty(requestFor(entry, fixture, paramNames), async (input) => {
          const before = await fingerprint();
          const res = await send(route, entry, input);
          assert.ok(res.status < 500, `${route} answered ${res.status}: ${res.text.slice(0, 300)}`);
          const rejected = res.status >= 400 || (route === 'POST /notify/alipay' && res.text === 'fail');
          if (rejected) assert.equal(await fingerprint(), before, `${route} ${res.status} changed rows`);
          if (
            res.status >= 400 &&
            res.status !== 404 &&
            res.status !== 405 &&
            res.headers.get('content-type')?.includes('json')
          )
            assert.ok(
              res.body?.error?.code,
              `${route} ${res.status} without an error code: ${res.text.slice(0, 200)}`,
            );
        }),
        { numRuns: RUNS, endOnFailure: true },
      );
    });
  }

  it('is still ready after all of it', async () => {
    const ready = await request('GET', `${stack.app.url}/readyz`);
    assert.equal(ready.status, 200, ready.text);
  });
});
