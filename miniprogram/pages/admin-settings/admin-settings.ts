/**
 * School settings (issue 10): every admin reads them, owners change them. Only changed fields are sent;
 * what the server refuses is shown under the input it names.
 */
import type { SchoolSettingsView } from '../../shared/admin-api';
import { adminApi } from '../../services/admin-api';
import { messageOf } from '../../services/api-error';
import { editField, showServerError } from '../../services/form-page';
import { toast } from '../../services/jsapi';
import {
  hasSettingsErrors,
  settingsChanges,
  settingsFieldOf,
  toSettingsForm,
  type SettingsErrors,
  type SettingsForm,
} from '../../view-models/admin';

const NO_ERRORS: SettingsErrors = {};

Page({
  data: {
    loading: true,
    errorMessage: '',
    schoolId: '',
    canEdit: false,
    saved: null as SchoolSettingsView | null,
    form: null as SettingsForm | null,
    errors: NO_ERRORS,
    formError: '',
    saving: false,
  },

  onLoad(query: { schoolId?: string }): Promise<void> {
    this.setData({ schoolId: query.schoolId ?? '' });
    return this.load();
  },

  async load(): Promise<void> {
    this.setData({ loading: true, errorMessage: '' });
    try {
      const [detail, saved] = await Promise.all([
        adminApi.school(this.data.schoolId),
        adminApi.settings(this.data.schoolId),
      ]);
      this.setData({ loading: false, canEdit: detail.role === 'OWNER', saved, form: toSettingsForm(saved) });
    } catch (error) {
      this.setData({ loading: false, errorMessage: messageOf(error) });
    }
  },

  onRetry(): Promise<void> {
    return this.load();
  },

  edit(field: keyof SettingsForm, value: string | boolean): void {
    editField<SettingsForm>(this, field, value);
  },

  onNameInput(value: string): void {
    this.edit('name', value);
  },
  onPhoneInput(value: string): void {
    this.edit('servicePhone', value);
  },
  onRechargeMinInput(value: string): void {
    this.edit('rechargeMinYuan', value);
  },
  onRechargeMaxInput(value: string): void {
    this.edit('rechargeMaxYuan', value);
  },
  onWithholdingChange(checked: boolean): void {
    this.edit('withholdingEnabled', !!checked);
  },
  onTxnLimitInput(value: string): void {
    this.edit('txnLimitYuan', value);
  },
  onDailyLimitInput(value: string): void {
    this.edit('dailyLimitYuan', value);
  },
  onRetryMinutesInput(value: string): void {
    this.edit('retryMinutes', value);
  },
  onCampusCodeIdInput(value: string): void {
    this.edit('campusCodeId', value);
  },
  onCampusCodeWindowInput(value: string): void {
    this.edit('campusCodeWindowDays', value);
  },
  onCampusCodeLateInput(value: string): void {
    this.edit('campusCodeLateHours', value);
  },
  onCampusCodeMaxInput(value: string): void {
    this.edit('campusCodeMaxYuan', value);
  },
  onTerminalPhoneChange(checked: boolean): void {
    this.edit('terminalPayRequiresPhone', !!checked);
  },

  async onSave(): Promise<void> {
    const { form, saved } = this.data;
    if (!form || !saved || this.data.saving || !this.data.canEdit) return;
    const { changes, errors } = settingsChanges(form, saved);
    this.setData({ errors, formError: '' });
    if (hasSettingsErrors(errors)) return;
    if (Object.keys(changes).length === 0) {
      toast('没有需要保存的修改');
      return;
    }
    this.setData({ saving: true });
    try {
      const next = await adminApi.updateSettings(this.data.schoolId, changes);
      this.setData({ saved: next, form: toSettingsForm(next) });
      toast('已保存', 'success');
    } catch (error) {
      showServerError<SettingsForm>(this, error, settingsFieldOf);
    } finally {
      this.setData({ saving: false });
    }
  },
});
