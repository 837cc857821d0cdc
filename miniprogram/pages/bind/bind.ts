/**
 * Bind a campus card. Where the school loaded a roster: "find my card" with what Alipay shares (ID number
 * or mobile, with the person's consent) or with a typed name and ID number, then one tap; or the card
 * number, the name and the ID number (or its last 6) or the registered phone. Without a roster: card number,
 * name and student number. The card system checks every binding (README "Binding").
 */
import type { Relation } from '../../shared/api';
import { api, findSchool } from '../../services/api';
import { codeOf, messageOf, ApiError } from '../../services/api-error';
import { rememberCard } from '../../services/card-choice';
import { askUserAuthCode, toast } from '../../services/jsapi';
import { replacePage, restartAt } from '../../services/navigation';
import {
  PROOF_INPUTS,
  RELATION_OPTIONS,
  fieldOfBindError,
  hasFormErrors,
  isProofKind,
  isRelation,
  proofField,
  proofKindsFor,
  toMatchRows,
  validateBindForm,
  validateLookupForm,
  type MatchRow,
  type ProofKind,
} from '../../view-models/bind-form';
import { datasetValue, type TapEvent } from '../../services/events';

Page({
  data: {
    schoolId: '',
    schoolName: '',
    isEmpty: false,
    loading: true,
    hasRoster: false,
    cardNo: '',
    holderName: '',
    relation: 'SELF' as Relation,
    relationOptions: RELATION_OPTIONS,
    proofKind: 'STUDENT_NO' as ProofKind,
    proofOptions: [] as Array<{ text: string; value: ProofKind }>,
    proofLabel: PROOF_INPUTS.STUDENT_NO.label,
    proofPlaceholder: PROOF_INPUTS.STUDENT_NO.placeholder,
    proofMaxLength: PROOF_INPUTS.STUDENT_NO.maxLength,
    proofValue: '',
    cardNoError: '',
    holderNameError: '',
    proofError: '',
    formError: '',
    submitting: false,
    // roster lookups
    lookingUp: false,
    lookupName: '',
    lookupIdNumber: '',
    lookupNameError: '',
    lookupIdNumberError: '',
    lookupNotice: '',
    matches: [] as MatchRow[],
    bindingMatch: '',
  },

  async onLoad(query: { schoolId?: string; schoolName?: string }): Promise<void> {
    const schoolId = query.schoolId ?? '';
    this.setData({ schoolId, schoolName: query.schoolName ?? '', isEmpty: !schoolId, loading: !!schoolId });
    if (!schoolId) return;
    // The school's roster decides what the form asks; without an answer, the student number form is shown.
    const school = await findSchool({ id: schoolId, name: query.schoolName ?? '' }).catch(() => null);
    const kinds = proofKindsFor(school?.bindProof ?? null);
    this.setData({
      loading: false,
      hasRoster: school?.bindProof === 'ROSTER',
      proofOptions: kinds.map((kind) => ({ text: PROOF_INPUTS[kind].label, value: kind })),
    });
    this.showProofKind(kinds[0]);
  },

  showProofKind(kind: ProofKind): void {
    const input = PROOF_INPUTS[kind];
    this.setData({
      proofKind: kind,
      proofLabel: input.label,
      proofPlaceholder: input.placeholder,
      proofMaxLength: input.maxLength,
      proofValue: '',
      proofError: '',
    });
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

  onProofInput(value: string): void {
    this.setData({ proofValue: value, proofError: '', formError: '' });
  },

  onProofKindChange(value: unknown): void {
    if (isProofKind(value) && value !== this.data.proofKind) this.showProofKind(value);
  },

  onRelationChange(value: unknown): void {
    if (isRelation(value)) this.setData({ relation: value });
  },

  async onSubmit(): Promise<void> {
    if (this.data.submitting) return;
    const errors = validateBindForm(this.data);
    this.setData({ ...errors, formError: '' });
    if (hasFormErrors(errors)) return;
    await this.bind(() =>
      api.createBinding({
        schoolId: this.data.schoolId,
        cardNo: this.data.cardNo.trim(),
        name: this.data.holderName.trim(),
        relation: this.data.relation,
        ...proofField(this.data.proofKind, this.data.proofValue),
      }),
    );
  },

  /** "Find my card": Alipay shares the certified ID number and/or mobile once the person agrees. */
  async onFindWithAlipay(): Promise<void> {
    if (this.data.lookingUp) return;
    this.setData({ lookingUp: true, lookupNotice: '', matches: [] });
    try {
      const authCode = await askUserAuthCode();
      if (!authCode) {
        this.setData({ lookupNotice: '没有获得支付宝授权，可以用姓名和身份证号查找，或填写卡号绑定' });
        return;
      }
      const found = await api.lookupBindings({ schoolId: this.data.schoolId, authCode });
      this.showMatches(
        found.matches,
        found.shared && !found.shared.certNo && !found.shared.mobile
          ? '支付宝没有提供身份证号或手机号，请用姓名和身份证号查找，或填写卡号绑定'
          : '学校名单中没有找到与您支付宝实名信息对应的校园卡，请用姓名和身份证号查找，或填写卡号绑定',
      );
    } catch (error) {
      this.setData({ lookupNotice: messageOf(error) });
    } finally {
      this.setData({ lookingUp: false });
    }
  },

  onLookupNameInput(value: string): void {
    this.setData({ lookupName: value, lookupNameError: '' });
  },

  onLookupIdNumberInput(value: string): void {
    this.setData({ lookupIdNumber: value, lookupIdNumberError: '' });
  },

  /** "Find by name and ID number" (no Alipay permission, or the roster has another phone). */
  async onFindByIdNumber(): Promise<void> {
    if (this.data.lookingUp) return;
    const errors = validateLookupForm(this.data);
    this.setData({ ...errors, lookupNotice: '', matches: [] });
    if (errors.lookupNameError || errors.lookupIdNumberError) return;
    this.setData({ lookingUp: true });
    try {
      const found = await api.lookupBindings({
        schoolId: this.data.schoolId,
        name: this.data.lookupName.trim(),
        idNumber: this.data.lookupIdNumber.trim(),
        relation: this.data.relation,
      });
      this.showMatches(
        found.matches,
        '学校名单中没有这个姓名和身份证号的校园卡，请核对后再试，或填写卡号绑定',
      );
    } catch (error) {
      this.setData({ lookupNotice: messageOf(error) });
    } finally {
      this.setData({ lookingUp: false });
    }
  },

  showMatches(matches: Parameters<typeof toMatchRows>[0], noneText: string): void {
    const rows = toMatchRows(matches);
    this.setData({ matches: rows, lookupNotice: rows.length ? '' : noneText });
  },

  async onBindMatch(event: TapEvent): Promise<void> {
    const token = datasetValue(event, 'token');
    const row = this.data.matches.find((match) => match.token === token);
    if (!token || !row || row.isBound || this.data.submitting) return;
    this.setData({ bindingMatch: token });
    await this.bind(() => api.createBinding({ schoolId: this.data.schoolId, matchToken: token }));
    this.setData({ bindingMatch: '' });
  },

  async bind(create: () => ReturnType<typeof api.createBinding>): Promise<void> {
    this.setData({ submitting: true, formError: '' });
    try {
      const binding = await create();
      rememberCard(binding.id);
      toast(binding.approval === 'PENDING' ? '已提交，等待持卡人同意' : '绑定成功', 'success');
      // A fresh stack: back from the card home must not return to a finished form.
      restartAt('card', { bindingId: binding.id });
    } catch (error) {
      const field = fieldOfBindError(codeOf(error), error instanceof ApiError ? error.field : undefined);
      if (field === 'cardNo') this.setData({ cardNoError: messageOf(error) });
      else if (field === 'holderName') this.setData({ holderNameError: messageOf(error) });
      else if (field === 'proof') this.setData({ proofError: messageOf(error) });
      else this.setData({ formError: messageOf(error) });
    } finally {
      this.setData({ submitting: false });
    }
  },
});
