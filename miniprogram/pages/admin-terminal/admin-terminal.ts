/**
 * One vending machine or cashier window (issue 15): owners add one (its HMAC client secret is shown once,
 * for the machine's installer) and set where its money goes; staff edit its name, place, operator, callback
 * address and timeout. What the server refuses is shown under the field it names.
 */
import type { AdminRole, CreatedTerminal, TerminalView } from '../../shared/admin-api';
import { adminApi } from '../../services/admin-api';
import { messageOf } from '../../services/api-error';
import { editField, showServerError } from '../../services/form-page';
import { toast } from '../../services/jsapi';
import {
  emptyTerminalForm,
  hasTerminalErrors,
  KIND_OPTIONS,
  MONEY_MODE_OPTIONS,
  SHARE_OPTIONS,
  terminalChanges,
  terminalFieldOf,
  terminalToCreate,
  TIMING_OPTIONS,
  toTerminalForm,
  type TerminalForm,
  type TerminalFormErrors,
} from '../../view-models/terminals-admin';

const NO_ERRORS: TerminalFormErrors = {};

Page({
  data: {
    loading: true,
    errorMessage: '',
    schoolId: '',
    id: '',
    isNew: true,
    role: 'VIEWER' as AdminRole,
    isOwner: false,
    canEdit: false,
    saved: null as TerminalView | null,
    form: emptyTerminalForm() as TerminalForm,
    errors: NO_ERRORS,
    formError: '',
    saving: false,
    created: null as CreatedTerminal | null,
    kindOptions: KIND_OPTIONS,
    moneyModeOptions: MONEY_MODE_OPTIONS,
    shareOptions: SHARE_OPTIONS,
    timingOptions: TIMING_OPTIONS,
  },

  onLoad(query: { schoolId?: string; id?: string }): Promise<void> {
    this.setData({ schoolId: query.schoolId ?? '', id: query.id ?? '', isNew: !query.id });
    return this.load();
  },

  async load(): Promise<void> {
    this.setData({ loading: true, errorMessage: '' });
    try {
      const [detail, saved] = await Promise.all([
        adminApi.school(this.data.schoolId),
        this.data.id ? adminApi.terminal(this.data.schoolId, this.data.id) : Promise.resolve(null),
      ]);
      const isOwner = detail.role === 'OWNER';
      this.setData({
        loading: false,
        role: detail.role,
        isOwner,
        canEdit: this.data.isNew ? isOwner : detail.role !== 'VIEWER',
        saved,
        form: saved ? toTerminalForm(saved) : emptyTerminalForm(),
      });
    } catch (error) {
      this.setData({ loading: false, errorMessage: messageOf(error) });
    }
  },

  onRetry(): Promise<void> {
    return this.load();
  },

  edit(field: keyof TerminalForm, value: string): void {
    editField<TerminalForm>(this, field, value);
  },

  onTerminalIdInput(value: string): void {
    this.edit('terminalId', value);
  },
  onKindChange(value: string): void {
    if (value) this.edit('kind', value);
  },
  onNameInput(value: string): void {
    this.edit('name', value);
  },
  onLocationInput(value: string): void {
    this.edit('location', value);
  },
  onOperatorInput(value: string): void {
    this.edit('operatorName', value);
  },
  onCallbackInput(value: string): void {
    this.edit('callbackUrl', value);
  },
  onTimeoutInput(value: string): void {
    this.edit('timeoutSeconds', value);
  },
  onMoneyModeChange(value: string): void {
    if (value) this.edit('moneyMode', value);
  },
  onSellerInput(value: string): void {
    this.edit('sellerId', value);
  },
  onRoyaltyAccountInput(value: string): void {
    this.edit('royaltyAccount', value);
  },
  onShareTypeChange(value: string): void {
    if (value) this.edit('shareType', value);
  },
  onShareInput(value: string): void {
    this.edit('shareValue', value);
  },
  onTimingChange(value: string): void {
    if (value) this.edit('timing', value);
  },

  async onSave(): Promise<void> {
    if (this.data.saving || !this.data.canEdit) return;
    if (this.data.isNew) return this.create();
    const saved = this.data.saved;
    if (!saved) return;
    const { edit, moneyMode, errors } = terminalChanges(this.data.form, saved);
    const ownerOnly = moneyMode && !this.data.isOwner;
    this.setData({ errors, formError: ownerOnly ? '只有学校负责人可以修改收款方式' : '' });
    if (hasTerminalErrors(errors) || ownerOnly) return;
    if (Object.keys(edit).length === 0 && !moneyMode) {
      toast('没有需要保存的修改');
      return;
    }
    this.setData({ saving: true });
    try {
      let next = saved;
      if (Object.keys(edit).length > 0)
        next = await adminApi.updateTerminal(this.data.schoolId, saved.id, edit);
      if (moneyMode) next = await adminApi.setTerminalMoneyMode(this.data.schoolId, saved.id, moneyMode);
      this.setData({ saved: next, form: toTerminalForm(next) });
      toast('已保存', 'success');
    } catch (error) {
      showServerError<TerminalForm>(this, error, terminalFieldOf);
    } finally {
      this.setData({ saving: false });
    }
  },

  async create(): Promise<void> {
    const { input, errors } = terminalToCreate(this.data.form);
    this.setData({ errors, formError: '' });
    if (hasTerminalErrors(errors)) return;
    this.setData({ saving: true });
    try {
      const created = await adminApi.createTerminal(this.data.schoolId, input);
      this.setData({
        created,
        isNew: false,
        id: created.terminal.id,
        saved: created.terminal,
        form: toTerminalForm(created.terminal),
      });
    } catch (error) {
      showServerError<TerminalForm>(this, error, terminalFieldOf);
    } finally {
      this.setData({ saving: false });
    }
  },

  onCopySecret(): void {
    const created = this.data.created;
    if (!created) return;
    my.setClipboard({
      text: `clientId=${created.clientId}\nsecret=${created.secret}`,
      success: () => toast('已复制，请交给机器的安装人员', 'success'),
    });
  },
});
