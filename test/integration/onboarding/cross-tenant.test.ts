import assert from 'node:assert/strict';
import { createInvitation } from '../../../server/src/domain/admin/admins.js';
import { adminRoutes } from '../../../server/src/routes/admin/index.js';
import { adminOf, TEST_OPERATOR } from '../../support/admins.js';
import { startStack, type Stack } from '../../support/stack.js';

/**
 * Tenant isolation of the admin API, route by route (issue 10): every route mounted under /api/v1/admin is
 * called by an admin of another school and by a plain user, and must answer 403/404 and change nothing at
 * the school it aimed at. The routes are read from the router itself, so a route added later without an
 * entry below fails this test until someone says how to call it.
 */

/** victimAdmin: an admin of the target school; victimRecharge / victimImport: its objects; else a literal. */
type Param = 'victimAdmin' | 'victimRecharge' | 'victimImport' | (string & {});
interface RouteCall {
  /** Values for path parameters other than :schoolId, taken from the target school. */
  params?: Record<string, Param>;
  body?: unknown;
}
/** A route that is not about one school, and why it needs no tenant check. */
interface NotSchoolScoped {
  notSchoolScoped: string;
}

/** Any terminal id: a stranger is refused before the terminal is looked up. */
const SOME_TERMINAL = '0190f1d2-0000-7000-8000-000000000001';

const ROUTES: Record<string, RouteCall | NotSchoolScoped> = {
  'GET /api/v1/admin/schools': { notSchoolScoped: "lists the caller's own memberships only" },
  'POST /api/v1/admin/invitations/redeem': { notSchoolScoped: 'the code itself names the school' },
  'GET /api/v1/admin/schools/:schoolId': {},
  'GET /api/v1/admin/schools/:schoolId/settings': {},
  'PUT /api/v1/admin/schools/:schoolId/settings': { body: { rechargeMinFen: 777, name: '被改了' } },
  'GET /api/v1/admin/schools/:schoolId/admins': {},
  'PUT /api/v1/admin/schools/:schoolId/admins/:userId': {
    params: { userId: 'victimAdmin' },
    body: { role: 'VIEWER' },
  },
  'DELETE /api/v1/admin/schools/:schoolId/admins/:userId': { params: { userId: 'victimAdmin' } },
  'POST /api/v1/admin/schools/:schoolId/invitations': { body: { role: 'OWNER' } },
  'GET /api/v1/admin/schools/:schoolId/audit': {},
  'GET /api/v1/admin/schools/:schoolId/campus-code/exceptions': {},
  'GET /api/v1/admin/schools/:schoolId/campus-code/summary': {},
  'GET /api/v1/admin/schools/:schoolId/reconciliation/days': {},
  'GET /api/v1/admin/schools/:schoolId/reconciliation/days/:billDate': {},
  'POST /api/v1/admin/schools/:schoolId/reconciliation/days/:billDate/rerun': {},
  'GET /api/v1/admin/schools/:schoolId/reconciliation/findings': {},
  'GET /api/v1/admin/schools/:schoolId/reconciliation/days/:billDate/export': {},
  'POST /api/v1/admin/schools/:schoolId/reconciliation/days/:billDate/export-link': {},
  'GET /api/v1/admin/schools/:schoolId/dashboard': {},
  'GET /api/v1/admin/schools/:schoolId/orders': {},
  'GET /api/v1/admin/schools/:schoolId/orders/:kind/:id': {
    params: { kind: 'RECHARGE', id: 'victimRecharge' },
  },
  'GET /api/v1/admin/schools/:schoolId/inbox': {},
  'POST /api/v1/admin/schools/:schoolId/inbox/:kind/:id/:action': {
    params: { kind: 'recharge.credit-failed', id: 'victimRecharge', action: 'refund' },
  },
  'POST /api/v1/admin/schools/:schoolId/roster/imports': {},
  'GET /api/v1/admin/schools/:schoolId/terminals': {},
  'GET /api/v1/admin/schools/:schoolId/terminals/:id': { params: { id: SOME_TERMINAL } },
  'POST /api/v1/admin/schools/:schoolId/terminals': {
    body: { terminalId: 'VM-INTRUDER', kind: 'VENDING', name: '越权', moneyMode: 'PLAIN' },
  },
  'PUT /api/v1/admin/schools/:schoolId/terminals/:id': {
    params: { id: SOME_TERMINAL },
    body: { name: '被改了' },
  },
  'PUT /api/v1/admin/schools/:schoolId/terminals/:id/money-mode': {
    params: { id: SOME_TERMINAL },
    body: { moneyMode: 'PLAIN' },
  },
  'PUT /api/v1/admin/schools/:schoolId/terminals/:id/status': {
    params: { id: SOME_TERMINAL },
    body: { status: 'DISABLED' },
  },
  'GET /api/v1/admin/schools/:schoolId/terminal-orders': {},
  'GET /api/v1/admin/schools/:schoolId/terminal-orders/exceptions': {},
  'GET /api/v1/admin/schools/:schoolId/terminal-orders/summary': {},
  'GET /api/v1/admin/schools/:schoolId/roster/imports': {},
  'GET /api/v1/admin/schools/:schoolId/roster/imports/:id': { params: { id: 'victimImport' } },
};

type Client = Stack['app']['http'];

function send(http: Client, method: string, path: string, body: unknown) {
  if (method === 'GET') return http.get(path);
  if (method === 'DELETE') return http.delete(path);
  if (method === 'PUT') return http.put(path, body ?? {});
  return http.post(path, body ?? {});
}

function mountedRoutes(stack: Stack): string[] {
  const router = adminRoutes(stack.app.deps);
  const routes = new Set<string>();
  for (const layer of router.stack)
    for (const method of layer.methods) if (method !== 'HEAD') routes.add(`${method} ${layer.path}`);
  return [...routes];
}

describe('admin API tenant isolation, route by route', function () {
  this.timeout(120_000);
  let stack: Stack;
  let target: { id: string; code: string };
  let victimAdmin: string;
  let victimRecharge: string;
  let victimImport: string;
  let intruder: Awaited<ReturnType<typeof adminOf>>;
  let intruderSchool: { id: string };
  let plainUser: Awaited<ReturnType<Stack['createUser']>>;

  before(async () => {
    stack = await startStack();
    const a = await stack.addSchool();
    target = { id: a.id, code: a.code };
    await adminOf(stack, a.id, 'OWNER');
    victimAdmin = (await adminOf(stack, a.id, 'STAFF')).userId;
    // Something to steal: an open invitation of the target school.
    await createInvitation(stack.app.deps, TEST_OPERATOR, { schoolId: a.id, role: 'OWNER' });
    // A recharge the card system refused (for the inbox) and a roster import, written as the platform would.
    const { pool } = stack.app.deps;
    const user = await pool.query(`insert into users (alipay_open_id) values ($1) returning id`, [
      `victim-${a.code}`,
    ]);
    const binding = await pool.query(
      `insert into bindings (school_id, user_id, card_no, holder_name, relation)
       values ($1, $2, '88880001', '受害人', 'SELF') returning id`,
      [a.id, user.rows[0].id],
    );
    const recharge = await pool.query(
      `insert into recharge_orders (out_trade_no, school_id, user_id, binding_id, card_no, amount_fen, status, expires_at)
       values ($1, $2, $3, $4, '88880001', 100, 'CREDIT_FAILED', now()) returning id`,
      [`R${a.code}1`, a.id, user.rows[0].id, binding.rows[0].id],
    );
    victimRecharge = recharge.rows[0].id;
    const rosterImport = await pool.query(
      `insert into roster_imports (school_id, requested_by, file_name, format, status)
       values ($1, 'operator:test', 'roster.csv', 'CSV', 'DONE') returning id`,
      [a.id],
    );
    victimImport = rosterImport.rows[0].id;
    const b = await stack.addSchool();
    intruderSchool = { id: b.id };
    intruder = await adminOf(stack, b.id, 'OWNER');
    plainUser = await stack.createUser();
  });
  after(() => stack.stop());

  /** Every row of every table that has a school_id, for the target school: what must not change. */
  async function snapshotOfTarget(): Promise<Record<string, string>> {
    const { pool } = stack.app.deps;
    const { rows: tables } = await pool.query<{ table_name: string }>(
      `select table_name from information_schema.columns
        where table_schema = 'public' and column_name = 'school_id' order by table_name`,
    );
    const snapshot: Record<string, string> = {};
    for (const { table_name: table } of tables) {
      const { rows } = await pool.query(
        `select count(*)::int as n, md5(coalesce(string_agg(t::text, '|' order by t::text), '')) as digest
           from "${table}" t where school_id = $1`,
        [target.id],
      );
      snapshot[table] = `${rows[0].n}:${rows[0].digest}`;
    }
    const { rows } = await pool.query('select t::text as row from schools t where id = $1', [target.id]);
    snapshot.schools = rows[0].row;
    return snapshot;
  }

  it('has an entry below for every mounted admin route', () => {
    const missing = mountedRoutes(stack).filter((route) => !(route in ROUTES));
    assert.deepEqual(missing, [], `add these routes to ROUTES in ${import.meta.url}`);
    const stale = Object.keys(ROUTES).filter((route) => !mountedRoutes(stack).includes(route));
    assert.deepEqual(stale, [], 'entries for routes that no longer exist');
  });

  it('answers every school route 403/404 to an admin of another school and to a plain user, and changes nothing', async () => {
    const before = await snapshotOfTarget();
    const plain = await plainUser.login();
    const callers = [
      ['admin of another school', intruder.http],
      ['plain user', plain],
    ] as const;
    for (const route of mountedRoutes(stack)) {
      const call = ROUTES[route];
      if (!call || 'notSchoolScoped' in call) continue;
      const [method, pattern] = route.split(' ');
      const path = pattern
        .replace('/api/v1/admin', '')
        .replace(':schoolId', target.id)
        .replace(/:(\w+)/g, (_, name: string) => {
          const param = call.params?.[name];
          if (param === 'victimAdmin') return victimAdmin;
          if (param === 'victimRecharge') return victimRecharge;
          if (param === 'victimImport') return victimImport;
          return param ?? name;
        });
      for (const [who, http] of callers) {
        const res = await send(http, method, `/api/v1/admin${path}`, call.body);
        assert.ok([403, 404].includes(res.status), `${route} by ${who}: ${res.status} ${res.text}`);
        assert.ok(!res.text.includes(target.code), `${route} by ${who} leaked the school`);
      }
      const anonymous = await send(stack.app.http, method, `/api/v1/admin${path}`, call.body);
      assert.equal(anonymous.status, 401, `${route} signed out`);
    }
    assert.deepEqual(await snapshotOfTarget(), before);
  });

  it("does not reach the other school's objects through one's own school id", async () => {
    const before = await snapshotOfTarget();
    const own = `/api/v1/admin/schools/${intruderSchool.id}`;
    const patched = await intruder.http.put(`${own}/admins/${victimAdmin}`, { role: 'VIEWER' });
    assert.deepEqual([patched.status, patched.body.error.code], [404, 'ADMIN_NOT_FOUND']);
    const removed = await intruder.http.delete(`${own}/admins/${victimAdmin}`);
    assert.equal(removed.status, 404);
    const audit = await intruder.http.get(`${own}/audit?limit=100`);
    assert.ok(!audit.text.includes(target.id));
    const order = await intruder.http.get(`${own}/orders/RECHARGE/${victimRecharge}`);
    assert.deepEqual([order.status, order.body.error.code], [404, 'ORDER_NOT_FOUND']);
    const refund = await intruder.http.post(
      `${own}/inbox/recharge.credit-failed/${victimRecharge}/refund`,
      {},
    );
    assert.deepEqual([refund.status, refund.body.error.code], [404, 'ORDER_NOT_FOUND']);
    const retry = await intruder.http.post(
      `${own}/inbox/recharge.credit-failed/${victimRecharge}/retry-credit`,
      {},
    );
    assert.equal(retry.status, 404);
    const found = await intruder.http.get(`${own}/orders?kind=RECHARGE&cardNo=88880001`);
    assert.deepEqual(found.body.items, []);
    const report = await intruder.http.get(`${own}/roster/imports/${victimImport}`);
    assert.deepEqual([report.status, report.body.error.code], [404, 'ROSTER_IMPORT_NOT_FOUND']);
    assert.deepEqual(await snapshotOfTarget(), before);
  });

  it("lists only the caller's own schools", async () => {
    const mine = await intruder.http.get('/api/v1/admin/schools');
    assert.deepEqual(
      mine.body.items.map((s: { schoolId: string }) => s.schoolId),
      [intruderSchool.id],
    );
  });
});
