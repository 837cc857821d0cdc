/**
 * The admin entry (issue 10): the schools this Alipay user administers, and redeeming an invitation code
 * from the platform or a school's owner. One person may administer several schools: they pick one here.
 */
import { adminApi } from '../../services/admin-api';
import { messageOf } from '../../services/api-error';
import { datasetValue, type TapEvent } from '../../services/events';
import { toast } from '../../services/jsapi';
import { openPage } from '../../services/navigation';
import { toAdminSchoolRows, type AdminSchoolRow } from '../../view-models/admin';

Page({
  data: {
    loading: true,
    errorMessage: '',
    schools: [] as AdminSchoolRow[],
    hasSchools: false,
    code: '',
    codeError: '',
    redeeming: false,
  },

  // Also after coming back from a school where the person may have been removed.
  onShow(): Promise<void> {
    return this.load();
  },

  async load(): Promise<void> {
    this.setData({ loading: this.data.schools.length === 0, errorMessage: '' });
    try {
      const { items } = await adminApi.schools();
      const schools = toAdminSchoolRows(items);
      this.setData({ loading: false, schools, hasSchools: schools.length > 0 });
    } catch (error) {
      this.setData({ loading: false, errorMessage: messageOf(error) });
    }
  },

  onRetry(): Promise<void> {
    return this.load();
  },

  onCodeInput(value: string): void {
    this.setData({ code: value, codeError: '' });
  },

  async onRedeem(): Promise<void> {
    if (this.data.redeeming) return;
    const code = this.data.code.trim();
    if (code.replace(/[\s-]/g, '').length < 8) {
      this.setData({ codeError: '请输入完整的邀请码，如 ABCD-EFGH-JKMN-PQRS' });
      return;
    }
    this.setData({ redeeming: true, codeError: '' });
    try {
      const school = await adminApi.redeem(code);
      toast(`已成为${school.name}的管理员`, 'success');
      this.setData({ code: '' });
      openPage('adminHome', { schoolId: school.schoolId });
    } catch (error) {
      this.setData({ codeError: messageOf(error) });
    } finally {
      this.setData({ redeeming: false });
    }
  },

  onPickSchool(event: TapEvent): void {
    const schoolId = datasetValue(event, 'id');
    if (schoolId) openPage('adminHome', { schoolId });
  },
});
