/**
 * One school's admin home (issue 10): its state — and why payments stop when it is suspended — the
 * person's role, and the pages that role opens: the dashboard, the exceptions inbox, orders, campus-code
 * exceptions, reconciliation and the vending machines for every role (issues 13, 14, 15, 17), the roster
 * import for owners; settings for every role, admins and the audit log for owners.
 */
import { adminApi } from '../../services/admin-api';
import { messageOf } from '../../services/api-error';
import { openPage } from '../../services/navigation';
import { toAdminHome, type AdminHome } from '../../view-models/admin';

Page({
  data: {
    loading: true,
    errorMessage: '',
    schoolId: '',
    home: null as AdminHome | null,
  },

  onLoad(query: { schoolId?: string }): void {
    this.setData({ schoolId: query.schoolId ?? '' });
  },

  onShow(): Promise<void> {
    return this.load();
  },

  async load(): Promise<void> {
    this.setData({ loading: !this.data.home, errorMessage: '' });
    try {
      const detail = await adminApi.school(this.data.schoolId);
      this.setData({ loading: false, home: toAdminHome(detail) });
    } catch (error) {
      this.setData({ loading: false, errorMessage: messageOf(error) });
    }
  },

  onRetry(): Promise<void> {
    return this.load();
  },

  onDashboard(): void {
    openPage('adminDashboard', { schoolId: this.data.schoolId });
  },

  onInbox(): void {
    openPage('adminInbox', { schoolId: this.data.schoolId });
  },

  onOrders(): void {
    openPage('adminOrders', { schoolId: this.data.schoolId });
  },

  onReconciliation(): void {
    openPage('adminReconciliation', { schoolId: this.data.schoolId });
  },

  onRoster(): void {
    openPage('adminRoster', { schoolId: this.data.schoolId });
  },

  onSettings(): void {
    openPage('adminSettings', { schoolId: this.data.schoolId });
  },

  onAdmins(): void {
    openPage('adminAdmins', { schoolId: this.data.schoolId });
  },

  onAudit(): void {
    openPage('adminAudit', { schoolId: this.data.schoolId });
  },

  onCampusCode(): void {
    openPage('adminCampusCode', { schoolId: this.data.schoolId });
  },

  onTerminals(): void {
    openPage('adminTerminals', { schoolId: this.data.schoolId });
  },
});
