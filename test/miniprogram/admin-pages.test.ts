import assert from 'node:assert/strict';
import { createInvitation } from '../../server/src/domain/admin/admins.js';
import { adminOf, TEST_OPERATOR } from '../support/admins.js';
import { startStack, type Stack } from '../support/stack.js';
import type { MiniRuntime } from './support/runtime.js';
import { closeOpenedRuntimes, openMiniprogram } from './support/session.js';

/**
 * The admin area of the mini-program (issue 10), driven like a person would against the real BFF: the entry
 * from the school page, redeeming an invitation, the school's home, settings, admins and audit log.
 */
describe('mini-program admin pages against the real BFF', function () {
  this.timeout(60_000);
  let stack: Stack;
  let runtime: MiniRuntime | undefined;

  before(async function () {
    this.timeout(120_000);
    stack = await startStack();
  });
  after(async () => {
    await stack?.stop();
  });
  afterEach(closeOpenedRuntimes);

  it('becomes owner with an invitation code, changes a setting, and sees it in the audit log', async () => {
    const school = await stack.addSchool();
    const { code } = await createInvitation(stack.app.deps, TEST_OPERATOR, {
      schoolId: school.id,
      role: 'OWNER',
    });
    const user = await stack.createUser();
    runtime = await openMiniprogram(stack, user);
    runtime.launch();
    const schoolPage = await runtime.waitForPage('pages/school/school');
    await schoolPage.call('onAdminEntry');

    const entry = await runtime.waitForPage('pages/admin-entry/admin-entry');
    await entry.waitFor((data) => !data.loading);
    assert.equal(entry.data.hasSchools, false);
    await entry.input('onCodeInput', 'WRONG-CODE-0000-0000');
    await entry.call('onRedeem');
    assert.match(entry.data.codeError, /邀请码不正确/);
    await entry.input('onCodeInput', code.toLowerCase());
    await entry.call('onRedeem');

    const home = await runtime.waitForPage('pages/admin-home/admin-home');
    await home.waitFor((data) => !!data.home);
    assert.deepEqual(
      [home.data.home.name, home.data.home.roleLabel, home.data.home.statusLabel, home.data.home.isOwner],
      [school.name, '负责人', '服务中', true],
    );
    await home.call('onSettings');

    const settings = await runtime.waitForPage('pages/admin-settings/admin-settings');
    await settings.waitFor((data) => !!data.form);
    assert.equal(settings.data.canEdit, true);
    assert.equal(settings.data.form.rechargeMinYuan, '1.00');
    await settings.input('onRechargeMaxInput', '0.5');
    await settings.call('onSave');
    assert.match(settings.data.errors.rechargeMaxYuan, /不能低于/);
    await settings.input('onRechargeMaxInput', '800');
    await settings.input('onPhoneInput', '0510-88886666');
    await settings.call('onSave');
    assert.equal(settings.data.saved.rechargeMaxFen, 80_000);
    assert.ok(runtime.my.toasts.some((t) => t.content === '已保存'));
    const put = runtime.my.requests.filter((r) => r.method === 'PUT');
    assert.deepEqual(JSON.parse(put[0].body!), { servicePhone: '0510-88886666', rechargeMaxFen: 80_000 });

    runtime.my.navigations.length = 0;
    await home.call('onAudit');
    const audit = await runtime.waitForPage('pages/admin-audit/admin-audit');
    await audit.waitFor((data) => !data.loading);
    const [latest] = audit.data.entries;
    assert.equal(latest.title, '修改学校设置');
    assert.ok(latest.changes.includes('单笔最高充值：¥1000.00 → ¥800.00'), JSON.stringify(latest.changes));
    assert.ok(latest.changes.includes('服务电话：空 → 0510-88886666'));
    assert.equal(audit.data.entries.at(-1).title, '登记学校');
  });

  it('shows a viewer the settings read-only and no owner pages; an admin of several schools picks one', async () => {
    const [a, b] = [await stack.addSchool(), await stack.addSchool()];
    const viewer = await adminOf(stack, a.id, 'VIEWER');
    await adminOf(stack, b.id, 'OWNER', viewer.user);
    runtime = await openMiniprogram(stack, viewer.user);
    const entry = runtime.launch('/pages/admin-entry/admin-entry');
    await entry.waitFor((data) => !data.loading);
    assert.deepEqual(new Set(entry.data.schools.map((s: { id: string }) => s.id)), new Set([a.id, b.id]));
    await entry.tap('onPickSchool', { id: a.id });
    const home = await runtime.waitForPage('pages/admin-home/admin-home');
    await home.waitFor((data) => !!data.home);
    assert.equal(home.data.home.isOwner, false);
    await home.call('onSettings');
    const settings = await runtime.waitForPage('pages/admin-settings/admin-settings');
    await settings.waitFor((data) => !!data.form);
    assert.equal(settings.data.canEdit, false);
    await settings.call('onSave');
    assert.equal(runtime.my.requests.filter((r) => r.method === 'PUT').length, 0);
  });

  it('lets an owner invite, change a role and remove an admin, and says why the last owner stays', async () => {
    const school = await stack.addSchool();
    const owner = await adminOf(stack, school.id, 'OWNER');
    const staff = await adminOf(stack, school.id, 'STAFF');
    runtime = await openMiniprogram(stack, owner.user);
    const page = runtime.launch(`/pages/admin-admins/admin-admins?schoolId=${school.id}`);
    await page.waitFor((data) => data.admins.length === 2);
    const me = page.data.admins.find((a: { isYou: boolean }) => a.isYou);
    assert.match(me.title, /（我）$/);

    await page.call('onChangeRole', 'STAFF', undefined, { currentTarget: { dataset: { id: owner.userId } } });
    assert.equal(page.data.notice, '学校至少要保留一位负责人');
    await page.call('onChangeRole', 'VIEWER', undefined, {
      currentTarget: { dataset: { id: staff.userId } },
    });
    await page.waitFor((data) =>
      data.admins.some((a: any) => a.userId === staff.userId && a.role === 'VIEWER'),
    );

    await page.call('onInviteRoleChange', 'OWNER');
    await page.input('onInviteNameInput', '副校长');
    await page.call('onInvite');
    const invitation = page.data.invitation;
    assert.match(invitation.code, /^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$/);
    const newcomer = await (await stack.createUser()).login();
    const joined = await newcomer.post('/api/v1/admin/invitations/redeem', { code: invitation.code });
    assert.equal(joined.body.role, 'OWNER');

    await page.tap('onRemove', { id: staff.userId });
    await page.waitFor((data) => !data.admins.some((a: any) => a.userId === staff.userId));
    assert.ok(runtime.my.dialogs.some((d) => d.title === '移除管理员'));
  });
});
