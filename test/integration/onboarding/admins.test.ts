import assert from 'node:assert/strict';
import { createInvitation } from '../../../server/src/domain/admin/admins.js';
import { adminOf, TEST_OPERATOR } from '../../support/admins.js';
import { OffsetClock } from '../../support/clock.js';
import { startStack, type Stack } from '../../support/stack.js';

const HOUR = 3_600_000;

describe('school admins in the mini-program API', () => {
  let stack: Stack;
  const clock = new OffsetClock();

  before(async () => {
    stack = await startStack({ clock });
  });
  after(() => stack.stop());

  async function auditOf(schoolId: string) {
    const { rows } = await stack.app.deps.pool.query(
      'select actor_kind, actor_id, action, target, before, after, request_id from audit_log where school_id = $1 order by id',
      [schoolId],
    );
    return rows as Array<Record<string, any>>;
  }

  describe('invitations', () => {
    it('makes the redeeming user an admin of that school with that role, once', async () => {
      const school = await stack.addSchool();
      const { code } = await createInvitation(stack.app.deps, TEST_OPERATOR, {
        schoolId: school.id,
        role: 'STAFF',
        displayName: '王老师',
      });
      assert.match(code, /^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$/);
      const first = await (await stack.createUser()).login();
      // Typed on a phone: lower case, no dashes.
      const redeemed = await first.post('/api/v1/admin/invitations/redeem', {
        code: code.replaceAll('-', '').toLowerCase(),
      });
      assert.equal(redeemed.status, 201, redeemed.text);
      assert.deepEqual(redeemed.body, {
        schoolId: school.id,
        code: school.code,
        name: school.name,
        status: 'ACTIVE',
        role: 'STAFF',
      });
      const mine = await first.get('/api/v1/admin/schools');
      assert.deepEqual(
        mine.body.items.map((s: { schoolId: string; role: string }) => [s.schoolId, s.role]),
        [[school.id, 'STAFF']],
      );

      const second = await (await stack.createUser()).login();
      const again = await second.post('/api/v1/admin/invitations/redeem', { code });
      assert.equal(again.status, 409);
      assert.equal(again.body.error.code, 'INVITATION_USED');
      assert.deepEqual((await second.get('/api/v1/admin/schools')).body.items, []);

      const joined = (await auditOf(school.id)).filter((r) => r.action === 'admin.join');
      assert.equal(joined.length, 1);
      assert.equal(joined[0].actor_id, first.id);
      assert.equal(joined[0].after.role, 'STAFF');
      assert.equal(joined[0].request_id, redeemed.headers.get('x-request-id'));
    });

    it('refuses an expired code and a made-up one, naming the field', async () => {
      const school = await stack.addSchool();
      const { code } = await createInvitation(stack.app.deps, TEST_OPERATOR, {
        schoolId: school.id,
        role: 'OWNER',
        validHours: 1,
      });
      clock.advance(HOUR + 1000);
      const http = await (await stack.createUser()).login();
      const expired = await http.post('/api/v1/admin/invitations/redeem', { code });
      assert.equal(expired.status, 409);
      assert.deepEqual(
        [expired.body.error.code, expired.body.error.field],
        ['INVITATION_EXPIRED', 'body.code'],
      );
      const unknown = await http.post('/api/v1/admin/invitations/redeem', { code: 'AAAA-BBBB-CCCC-DDDD' });
      assert.equal(unknown.status, 404);
      assert.equal(unknown.body.error.code, 'INVITATION_NOT_FOUND');
      const empty = await http.post('/api/v1/admin/invitations/redeem', {});
      assert.deepEqual([empty.status, empty.body.error.field], [400, 'body.code']);
    });

    it('leaves the code usable when its redeemer is already an admin of the school', async () => {
      const school = await stack.addSchool();
      const owner = await adminOf(stack, school.id, 'OWNER');
      const { code } = await createInvitation(stack.app.deps, TEST_OPERATOR, {
        schoolId: school.id,
        role: 'VIEWER',
      });
      const refused = await owner.http.post('/api/v1/admin/invitations/redeem', { code });
      assert.equal(refused.body.error.code, 'ALREADY_ADMIN');
      const other = await (await stack.createUser()).login();
      assert.equal((await other.post('/api/v1/admin/invitations/redeem', { code })).status, 201);
    });

    it('lets one Alipay user administer several schools and still bind cards as a student', async () => {
      const [a, b] = [await stack.addSchool(), await stack.addSchool()];
      const admin = await adminOf(stack, a.id, 'OWNER');
      await adminOf(stack, b.id, 'VIEWER', admin.user);
      const schools = (await admin.http.get('/api/v1/admin/schools')).body.items as Array<{
        schoolId: string;
      }>;
      assert.deepEqual(new Set(schools.map((s) => s.schoolId)), new Set([a.id, b.id]));
      const card = await stack.createCard({ schoolCode: a.code });
      const bound = await admin.http.post('/api/v1/bindings', {
        schoolId: a.id,
        cardNo: card.cardNo,
        name: card.holderName,
        relation: 'SELF',
        studentNo: card.studentNo,
      });
      assert.equal(bound.status, 201, bound.text);
    });
  });

  describe('roles', () => {
    it('lets every role read the school and its settings, but only owners change settings, admins and read the audit log', async () => {
      const school = await stack.addSchool();
      const viewer = await adminOf(stack, school.id, 'VIEWER');
      const staff = await adminOf(stack, school.id, 'STAFF');
      const owner = await adminOf(stack, school.id, 'OWNER');
      const base = `/api/v1/admin/schools/${school.id}`;
      for (const who of [viewer, staff, owner]) {
        assert.equal((await who.http.get(base)).status, 200);
        assert.equal((await who.http.get(`${base}/settings`)).status, 200);
      }
      for (const who of [viewer, staff]) {
        const refused = await who.http.put(`${base}/settings`, { rechargeMinFen: 200 });
        assert.equal(refused.status, 403);
        assert.equal(refused.body.error.code, 'FORBIDDEN');
        assert.equal((await who.http.get(`${base}/admins`)).status, 403);
        assert.equal((await who.http.get(`${base}/audit`)).status, 403);
        assert.equal((await who.http.post(`${base}/invitations`, { role: 'OWNER' })).status, 403);
      }
      assert.equal((await owner.http.get(`${base}/admins`)).body.items.length, 3);
      assert.equal((await owner.http.put(`${base}/settings`, { rechargeMinFen: 200 })).status, 200);
    });

    it('answers a removed admin 403 at once', async () => {
      const school = await stack.addSchool();
      const owner = await adminOf(stack, school.id, 'OWNER');
      const staff = await adminOf(stack, school.id, 'STAFF');
      const base = `/api/v1/admin/schools/${school.id}`;
      assert.equal((await staff.http.get(base)).status, 200);
      assert.equal((await owner.http.delete(`${base}/admins/${staff.userId}`)).status, 204);
      assert.equal((await staff.http.get(base)).status, 403);
      assert.deepEqual((await staff.http.get('/api/v1/admin/schools')).body.items, []);
    });

    it('keeps at least one owner: the last owner can neither step down nor be removed', async () => {
      const school = await stack.addSchool();
      const owner = await adminOf(stack, school.id, 'OWNER');
      const base = `/api/v1/admin/schools/${school.id}/admins`;
      const demote = await owner.http.put(`${base}/${owner.userId}`, { role: 'STAFF' });
      assert.deepEqual([demote.status, demote.body.error.code], [409, 'LAST_OWNER']);
      const remove = await owner.http.delete(`${base}/${owner.userId}`);
      assert.deepEqual([remove.status, remove.body.error.code], [409, 'LAST_OWNER']);
      const second = await adminOf(stack, school.id, 'OWNER');
      assert.equal((await owner.http.put(`${base}/${owner.userId}`, { role: 'STAFF' })).status, 200);
      const roles = (await second.http.get(base)).body.items.map((a: { userId: string; role: string }) => [
        a.userId,
        a.role,
      ]);
      assert.deepEqual(new Map(roles).get(owner.userId), 'STAFF');
    });

    it('lets an owner invite a staff member, who joins with that role', async () => {
      const school = await stack.addSchool();
      const owner = await adminOf(stack, school.id, 'OWNER');
      const invited = await owner.http.post(`/api/v1/admin/schools/${school.id}/invitations`, {
        role: 'STAFF',
        displayName: '李会计',
      });
      assert.equal(invited.status, 201, invited.text);
      const newcomer = await (await stack.createUser()).login();
      const joined = await newcomer.post('/api/v1/admin/invitations/redeem', { code: invited.body.code });
      assert.equal(joined.body.role, 'STAFF');
      const list = (await owner.http.get(`/api/v1/admin/schools/${school.id}/admins`)).body.items;
      const entry = list.find((a: { userId: string }) => a.userId === newcomer.id);
      assert.deepEqual([entry.role, entry.displayName, entry.isYou], ['STAFF', '李会计', false]);
    });
  });

  describe('settings', () => {
    it('changes settings, shows them to students, and writes one audit row with before and after', async () => {
      const school = await stack.addSchool();
      const owner = await adminOf(stack, school.id, 'OWNER');
      const res = await owner.http.put(`/api/v1/admin/schools/${school.id}/settings`, {
        name: `${school.name}（新）`,
        servicePhone: '0510-8888 6666',
        rechargeMinFen: 500,
        withholdingEnabled: false,
        retryScheduleSeconds: [60, 600],
      });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.rechargeMinFen, 500);
      const student = await (await stack.createUser()).login();
      const listed = (await student.get(`/api/v1/schools?q=${encodeURIComponent(school.code)}`)).body.items;
      assert.deepEqual(
        [listed[0].name, listed[0].rechargeMinFen, listed[0].withholdingEnabled],
        [`${school.name}（新）`, 500, false],
      );
      const row = (await auditOf(school.id)).filter((r) => r.action === 'school.settings.update').at(-1)!;
      assert.deepEqual(row.before, {
        name: school.name,
        servicePhone: null,
        rechargeMinFen: school.rechargeMinFen,
        withholdingEnabled: true,
        retryScheduleSeconds: school.retryScheduleSeconds,
      });
      assert.equal(row.after.rechargeMinFen, 500);
      assert.deepEqual([row.actor_kind, row.actor_id], ['ADMIN', owner.userId]);
      assert.equal(row.request_id, res.headers.get('x-request-id'));
    });

    it('refuses bad values with the field named, and changes nothing', async () => {
      const school = await stack.addSchool();
      const owner = await adminOf(stack, school.id, 'OWNER');
      const url = `/api/v1/admin/schools/${school.id}/settings`;
      const before = await auditOf(school.id);
      const cases: Array<[unknown, string]> = [
        [{ rechargeMinFen: 0 }, 'body.rechargeMinFen'],
        [{ rechargeMinFen: 1.5 }, 'body.rechargeMinFen'],
        [{ rechargeMaxFen: 50 }, 'body.rechargeMaxFen'],
        [{ txnLimitFen: 999_999 }, 'body.txnLimitFen'],
        [{ withholdingEnabled: 'yes' }, 'body.withholdingEnabled'],
        [{ retryScheduleSeconds: [] }, 'body.retryScheduleSeconds'],
        [{ retryScheduleSeconds: [1] }, 'body.retryScheduleSeconds.0'],
        [{ servicePhone: 'call me' }, 'body.servicePhone'],
        [{ name: '' }, 'body.name'],
        [{ color: 'blue' }, 'body.color'],
        [{}, 'body'],
      ];
      for (const [body, field] of cases) {
        const res = await owner.http.put(url, body);
        assert.equal(res.status, 400, `${JSON.stringify(body)}: ${res.text}`);
        assert.equal(res.body.error.field, field, JSON.stringify(body));
      }
      assert.deepEqual(await auditOf(school.id), before);
    });
  });

  describe('audit log', () => {
    it("shows owners the school's history newest first, with who did it, paged", async () => {
      const school = await stack.addSchool();
      const owner = await adminOf(stack, school.id, 'OWNER');
      for (const fen of [200, 300, 400])
        await owner.http.put(`/api/v1/admin/schools/${school.id}/settings`, { rechargeMinFen: fen });
      const page = await owner.http.get(`/api/v1/admin/schools/${school.id}/audit?limit=2`);
      assert.equal(page.status, 200);
      assert.deepEqual(
        page.body.items.map((e: { after: { rechargeMinFen: number } }) => e.after.rechargeMinFen),
        [400, 300],
      );
      assert.equal(page.body.items[0].actor.kind, 'ADMIN');
      const rest = await owner.http.get(
        `/api/v1/admin/schools/${school.id}/audit?limit=100&before=${page.body.nextBefore}`,
      );
      const actions = rest.body.items.map((e: { action: string }) => e.action);
      assert.equal(actions[0], 'school.settings.update');
      assert.ok(actions.includes('school.create') && actions.includes('admin.join'));
      assert.equal(rest.body.nextBefore, null);
    });
  });

  describe('guessing invitation codes', () => {
    let limited: Stack;
    before(async () => {
      limited = await startStack({ env: { RATE_LIMIT_SCALE: '1', RATE_LIMITS: 'invitation-user=3/600' } });
    });
    after(() => limited.stop());

    it('slows a user who tries code after code (429 with Retry-After), even the right one', async () => {
      const { code } = await createInvitation(limited.app.deps, TEST_OPERATOR, {
        schoolId: limited.school.id,
        role: 'VIEWER',
      });
      const http = await (await limited.createUser()).login();
      for (const guess of ['AAAA-AAAA-AAAA-AAAA', 'BBBB-BBBB-BBBB-BBBB', 'CCCC-CCCC-CCCC-CCCC'])
        assert.equal((await http.post('/api/v1/admin/invitations/redeem', { code: guess })).status, 404);
      const slowed = await http.post('/api/v1/admin/invitations/redeem', { code });
      assert.deepEqual([slowed.status, slowed.body.error.code], [429, 'RATE_LIMITED']);
      assert.ok(Number(slowed.headers.get('retry-after')) > 0);
      // The code was not spent: someone else can still redeem it.
      const other = await (await limited.createUser()).login();
      assert.equal((await other.post('/api/v1/admin/invitations/redeem', { code })).status, 201);
    });
  });
});
