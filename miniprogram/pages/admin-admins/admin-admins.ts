/**
 * The school's admins (owners, issue 10): who they are and their roles; change a role, remove someone,
 * and invite a new admin with a one-time code to pass on. A school always keeps one owner (the server
 * refuses otherwise, and the page says why).
 */
import type { AdminRole } from '../../shared/admin-api';
import { adminApi } from '../../services/admin-api';
import { messageOf } from '../../services/api-error';
import { datasetValue, type TapEvent } from '../../services/events';
import { confirm, toast } from '../../services/jsapi';
import { ROLE_OPTIONS, isAdminRole, toAdminRows, type AdminRow } from '../../view-models/admin';
import { formatBeijingDateTime } from '../../shared/format';

Page({
  data: {
    loading: true,
    errorMessage: '',
    schoolId: '',
    admins: [] as AdminRow[],
    roleOptions: ROLE_OPTIONS,
    notice: '',
    inviteRole: 'STAFF' as AdminRole,
    inviteName: '',
    inviting: false,
    invitation: null as { code: string; roleLabel: string; expiresText: string } | null,
  },

  onLoad(query: { schoolId?: string }): Promise<void> {
    this.setData({ schoolId: query.schoolId ?? '' });
    return this.load();
  },

  async load(): Promise<void> {
    this.setData({ loading: this.data.admins.length === 0, errorMessage: '' });
    try {
      const { items } = await adminApi.admins(this.data.schoolId);
      this.setData({ loading: false, admins: toAdminRows(items) });
    } catch (error) {
      this.setData({ loading: false, errorMessage: messageOf(error) });
    }
  },

  onRetry(): Promise<void> {
    return this.load();
  },

  async onChangeRole(value: unknown, _option: unknown, event: TapEvent): Promise<void> {
    const userId = datasetValue(event, 'id');
    const admin = this.data.admins.find((a) => a.userId === userId);
    if (!admin || !isAdminRole(value) || value === admin.role) return;
    this.setData({ notice: '' });
    try {
      await adminApi.changeRole(this.data.schoolId, userId, value);
      toast('已修改角色', 'success');
    } catch (error) {
      this.setData({ notice: messageOf(error) });
    }
    await this.load();
  },

  async onRemove(event: TapEvent): Promise<void> {
    const userId = datasetValue(event, 'id');
    const admin = this.data.admins.find((a) => a.userId === userId);
    if (!admin) return;
    const confirmed = await confirm({
      title: '移除管理员',
      content: `移除后，${admin.title}将不能再管理本校。确定移除吗？`,
      confirmButtonText: '确定移除',
    });
    if (!confirmed) return;
    this.setData({ notice: '' });
    try {
      await adminApi.removeAdmin(this.data.schoolId, userId);
      toast('已移除', 'success');
    } catch (error) {
      this.setData({ notice: messageOf(error) });
    }
    await this.load();
  },

  onInviteRoleChange(value: unknown): void {
    if (isAdminRole(value)) this.setData({ inviteRole: value });
  },

  onInviteNameInput(value: string): void {
    this.setData({ inviteName: value });
  },

  async onInvite(): Promise<void> {
    if (this.data.inviting) return;
    this.setData({ inviting: true, notice: '', invitation: null });
    try {
      const name = this.data.inviteName.trim();
      const issued = await adminApi.invite(this.data.schoolId, {
        role: this.data.inviteRole,
        ...(name ? { displayName: name } : {}),
      });
      const roleLabel = ROLE_OPTIONS.find((o) => o.value === issued.role)?.text ?? issued.role;
      this.setData({
        inviteName: '',
        invitation: { code: issued.code, roleLabel, expiresText: formatBeijingDateTime(issued.expiresAt) },
      });
    } catch (error) {
      this.setData({ notice: messageOf(error) });
    } finally {
      this.setData({ inviting: false });
    }
  },
});
