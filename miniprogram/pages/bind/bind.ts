/** Bind a campus card: card number, holder name and relation, checked here first, then by the card system. */
import type { Relation } from '../../shared/api';
import { api } from '../../services/api';
import { codeOf, messageOf, ApiError } from '../../services/api-error';
import { rememberCard } from '../../services/card-choice';
import { toast } from '../../services/jsapi';
import { replacePage, restartAt } from '../../services/navigation';
import {
  RELATION_OPTIONS,
  fieldOfBindError,
  hasFormErrors,
  isRelation,
  validateBindForm,
} from '../../view-models/bind-form';

Page({
  data: {
    schoolId: '',
    schoolName: '',
    isEmpty: false,
    cardNo: '',
    holderName: '',
    relation: 'SELF' as Relation,
    relationOptions: RELATION_OPTIONS,
    cardNoError: '',
    holderNameError: '',
    formError: '',
    submitting: false,
  },

  onLoad(query: { schoolId?: string; schoolName?: string }): void {
    const schoolId = query.schoolId ?? '';
    this.setData({ schoolId, schoolName: query.schoolName ?? '', isEmpty: !schoolId });
  },

  onChooseSchool(): void {
    replacePage('school');
  },

  onCardNoInput(value: string): void {
    this.setData({ cardNo: value, cardNoError: '', formError: '' });
  },

  onHolderNameInput(value: string): void {
    this.setData({ holderName: value, holderNameError: '', formError: '' });
  },

  onRelationChange(value: unknown): void {
    if (isRelation(value)) this.setData({ relation: value });
  },

  async onSubmit(): Promise<void> {
    if (this.data.submitting) return;
    const errors = validateBindForm(this.data);
    this.setData({ ...errors, formError: '' });
    if (hasFormErrors(errors)) return;
    this.setData({ submitting: true });
    try {
      const binding = await api.createBinding({
        schoolId: this.data.schoolId,
        cardNo: this.data.cardNo.trim(),
        name: this.data.holderName.trim(),
        relation: this.data.relation,
      });
      rememberCard(binding.id);
      toast('绑定成功', 'success');
      // A fresh stack: back from the card home must not return to a finished form.
      restartAt('card', { bindingId: binding.id });
    } catch (error) {
      const field = fieldOfBindError(codeOf(error), error instanceof ApiError ? error.field : undefined);
      if (field === 'cardNo') this.setData({ cardNoError: messageOf(error) });
      else if (field === 'holderName') this.setData({ holderNameError: messageOf(error) });
      else this.setData({ formError: messageOf(error) });
    } finally {
      this.setData({ submitting: false });
    }
  },
});
